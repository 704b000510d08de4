/// One option of a decoded command line, explained for an operator.
public struct ExplainedOption: Equatable, Sendable, Codable {
    /// The option as slirp4netns spells it, e.g. `--mtu=65520`.
    public let option: String
    /// What it does, in words.
    public let meaning: String

    public init(option: String, meaning: String) { (self.option, self.meaning) = (option, meaning) }
}

extension SlirpConfiguration {
    /// Every option that was given, each with a sentence saying what it does.
    public var explained: [ExplainedOption] {
        var rows: [ExplainedOption] = []
        func add(_ option: String, _ meaning: String) { rows.append(ExplainedOption(option: option, meaning: meaning)) }
        if configure { add("--configure", "brings up \(effectiveTapName) with the guest address, route and DNS") }
        if let exitFD { add("--exit-fd=\(exitFD)", "exits when fd \(exitFD) is closed by its parent") }
        if let readyFD { add("--ready-fd=\(readyFD)", "writes to fd \(readyFD) once the network is configured") }
        if let mtu { add("--mtu=\(mtu)", "MTU \(mtu) on \(effectiveTapName) (slirp4netns default 1500, max 65521)") }
        if enableIPv6 { add("--enable-ipv6", "IPv6 on: prefix fd00::/64, gateway fd00::2, DNS fd00::3") }
        if let apiSocket { add("--api-socket=\(apiSocket)", "listens for add_hostfwd / list_hostfwd / remove_hostfwd on this unix socket") }
        if let cidr { add("--cidr=\(cidr)", "guest network \(cidr) instead of 10.0.2.0/24") }
        if disableHostLoopback { add("--disable-host-loopback", "the guest cannot reach the host's 127.0.0.1 through the gateway") }
        if netnsType == .path { add("--netns-type=path", "the target is a network namespace file, not a PID") }
        if let usernsPath { add("--userns-path=\(usernsPath)", "joins this user namespace before opening the tap") }
        if enableSandbox { add("--enable-sandbox", "runs in its own mount namespace with capabilities dropped") }
        if enableSeccomp { add("--enable-seccomp", "restricts its own syscalls with seccomp") }
        if let outboundAddr { add("--outbound-addr=\(outboundAddr)", "outgoing IPv4 connections leave from \(outboundAddr)") }
        if let outboundAddr6 { add("--outbound-addr6=\(outboundAddr6)", "outgoing IPv6 connections leave from \(outboundAddr6)") }
        if disableDNS { add("--disable-dns", "the virtual DNS address does not forward to the host's resolver") }
        if let macAddress { add("--macaddress=\(macAddress)", "the tap's MAC address") }
        if let targetType { add("--target-type=\(targetType)", targetType == "bess" ? "connects to a BESS switch instead of a namespace" : "target is a network namespace") }
        if let target {
            add(target, netnsType == .path ? "network namespace file" : "PID whose network namespace is joined")
        }
        add(effectiveTapName, tapName == nil ? "tap device (default name)" : "tap device name")
        for word in unrecognized { add(word, "not understood by slirp4netns 1.2: it would refuse to start") }
        return rows
    }
}
