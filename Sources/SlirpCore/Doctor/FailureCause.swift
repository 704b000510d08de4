import Foundation

/// Why slirp4netns failed to start (or will fail to work), in words, with the fix.
///
/// One classifier serves the startup doctor (on the trial's log and its own checks)
/// and the passive checks on running instances (on the log tail), so a failure is
/// named the same wherever it is seen.
public struct FailureCause: Codable, Sendable, Equatable {
    /// The known failures. Raw values are stable (`--json`).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case mtuTooLarge = "mtu-too-large"
        case cidrPrefixLength = "cidr-prefix-length"
        case cidrNotNetworkAddress = "cidr-not-network-address"
        case invalidOption = "invalid-option"
        case unknownOption = "unknown-option"
        case binaryMissing = "slirp4netns-missing"
        case binaryBroken = "slirp4netns-broken"
        case featureMissing = "feature-missing"
        case tunDenied = "tun-permission-denied"
        case tunMissing = "tun-missing"
        case userNamespacesDisabled = "user-namespaces-disabled"
        case outboundAddressNotLocal = "outbound-address-not-local"
        case apiSocketPathTooLong = "api-socket-path-too-long"
        case tmpDirNotWritable = "tmp-dir-not-writable"
        case readyTimeout = "ready-timeout"
        case killedBySignal = "killed-by-signal"
        case namespaceJoinFailed = "namespace-join-failed"
        case containersConf = "containers-conf"
        case unknown = "unknown"
    }

    public let kind: Kind
    /// What went wrong, in one sentence.
    public let cause: String
    /// What to do about it.
    public let fix: String
    /// The line (of the log, or of a check) that shows it.
    @NullWhenAbsent public private(set) var evidence: String?

    public init(_ kind: Kind, cause: String, fix: String, evidence: String? = nil) {
        self.kind = kind
        self.cause = cause
        self.fix = fix
        self.evidence = evidence
    }


    /// The longest `tmp_dir` whose `<tmp_dir>/<64-hex-ID>.net` still fits a unix socket path.
    public static let longestTmpDirForAPISocket = maximumUnixSocketPathLength - 1 - 64 - 4

    /// Names the failure a slirp4netns log (or Podman's error text) shows, or nil when no known line matches.
    /// `cidr` (the option given) makes the cidr fixes concrete.
    public static func classify(log: String, cidr: String? = nil) -> FailureCause? {
        let lines = log.replacingEscapedNewlines.split(separator: "\n").map { $0.trimmingSpaces }
        func line(containing needle: String) -> String? { lines.first { $0.contains(needle) } }

        if let l = line(containing: "MTU must be a positive integer") {
            return FailureCause(.mtuTooLarge, cause: "slirp4netns refuses MTUs above 65521 (\(l))",
                                fix: "use mtu=65520 (Podman's default) or lower: --network slirp4netns:mtu=65520", evidence: l)
        }
        if let l = line(containing: "prefix length needs to be 1-25") {
            return cidrPrefixLength(cidr, evidence: l)
        }
        if let l = line(containing: "CIDR needs to be a network address") {
            return cidrNotNetworkAddress(cidr, evidence: l)
        }
        if let l = line(containing: "open(\"/dev/net/tun\")") ?? line(containing: "/dev/net/tun") {
            if l.contains("No such file") || l.contains("No such device") {
                return tunMissing(evidence: l)
            }
            if l.contains("Permission denied") || l.contains("Operation not permitted") {
                return tunDenied(mode: nil, evidence: l)
            }
        }
        if let l = line(containing: "API socket path is too long") {
            return FailureCause(.apiSocketPathTooLong, cause: "the API socket path does not fit a unix socket address (107 bytes at most)",
                                fix: "set a shorter engine.tmp_dir in containers.conf (at most \(longestTmpDirForAPISocket) bytes: the socket is <tmp_dir>/<64-character ID>.net)",
                                evidence: l)
        }
        if let l = line(containing: "unknown option for slirp4netns") {
            return FailureCause(.unknownOption, cause: "Podman does not know this slirp4netns option (\(l))",
                                fix: "use only cidr, mtu, port_handler, allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6, each as name=value",
                                evidence: l)
        }
        if let l = line(containing: "killed by signal") {
            return FailureCause(.killedBySignal, cause: "slirp4netns was killed by a signal while starting (\(l))",
                                fix: "look for an OOM kill or a seccomp/AppArmor denial in `dmesg`; try network_cmd_options=[\"mtu=1500\"] or no_pivot_root to narrow it down",
                                evidence: l)
        }
        if let l = line(containing: "setns") ?? line(containing: "cannot join") ?? line(containing: "open(netns)") {
            return FailureCause(.namespaceJoinFailed, cause: "slirp4netns could not join the container's namespaces (\(l))",
                                fix: "check that user namespaces are allowed (sysctl user.max_user_namespaces) and that the namespace still exists",
                                evidence: l)
        }
        if let l = line(containing: "could not find slirp4netns") {
            return binaryMissing(path: nil, evidence: l)
        }
        return nil
    }

    /// A Podman option error (its `parseSlirp4netnsNetworkOptions` messages).
    public static func podmanOption(_ message: String) -> FailureCause {
        if message.hasPrefix("unknown option") {
            return FailureCause(.unknownOption, cause: "Podman does not know this slirp4netns option: \(message)",
                                fix: "use only cidr, mtu, port_handler, allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6, each as name=value (e.g. slirp4netns:mtu=1500,enable_ipv6=false)",
                                evidence: message)
        }
        let fix: String
        if message.hasPrefix("invalid mtu") { fix = "give a whole number from 68 to 65521, e.g. mtu=65520" }
        else if message.hasPrefix("invalid cidr") { fix = "give an IPv4 network with a prefix, e.g. cidr=10.0.2.0/24" }
        else if message.hasPrefix("unknown port_handler") { fix = "use port_handler=rootlesskit (the default) or port_handler=slirp4netns" }
        else if message.contains("outbound_addr") { fix = "give an address of this host (IPv4 for outbound_addr, IPv6 for outbound_addr6) or the name of one of its interfaces" }
        else { fix = "use true or false" }
        return FailureCause(.invalidOption, cause: "Podman refuses the option: \(message)", fix: fix, evidence: message)
    }

    /// A feature the options need and the binary lacks (Podman's "... not supported").
    public static func featureMissing(_ message: String, binary: String, version: String?) -> FailureCause {
        if message.hasPrefix("enable_ipv6=true is required") {
            return FailureCause(.invalidOption, cause: "Podman refuses the options: \(message)",
                                fix: "add enable_ipv6=true, or drop outbound_addr6", evidence: message)
        }
        let option = message.components(separatedBy: " ").first ?? message
        let workaround = option == "enable_ipv6"
            ? "or add enable_ipv6=false to the container's --network slirp4netns: options (Podman turns IPv6 on by default)"
            : "or drop \(option) from the options"
        return FailureCause(.featureMissing, cause: "\(binary) (version \(version ?? "unknown")) does not support \(option): its --help does not list the flag",
                            fix: "install slirp4netns 1.2 or newer (apt-get install slirp4netns), or point engine.network_cmd_path at a newer binary; \(workaround)",
                            evidence: message)
    }

    /// The binary is not there.
    public static func binaryMissing(path: String?, evidence: String? = nil) -> FailureCause {
        if let path {
            return FailureCause(.binaryMissing, cause: "engine.network_cmd_path names \(path), which does not exist or is not executable",
                                fix: "fix or remove network_cmd_path in containers.conf, or install slirp4netns there", evidence: evidence)
        }
        return FailureCause(.binaryMissing, cause: "slirp4netns is not installed (not in PATH)",
                            fix: "apt-get install slirp4netns (or set engine.network_cmd_path in containers.conf)", evidence: evidence)
    }

    /// `/dev/net/tun` cannot be opened by this user.
    public static func tunDenied(mode: String?, evidence: String?) -> FailureCause {
        FailureCause(.tunDenied, cause: "/dev/net/tun is not readable and writable by this user\(mode.map { " (mode \($0))" } ?? ""): slirp4netns cannot create its tap device",
                     fix: "chmod 0666 /dev/net/tun (distributions ship it 0666); make it last with a udev rule: KERNEL==\"tun\", MODE=\"0666\"",
                     evidence: evidence)
    }

    /// `/dev/net/tun` does not exist.
    public static func tunMissing(evidence: String?) -> FailureCause {
        FailureCause(.tunMissing, cause: "/dev/net/tun does not exist: the tun driver is not loaded or the device node is missing",
                     fix: "modprobe tun; or: mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun",
                     evidence: evidence)
    }

    /// slirp4netns never wrote to the ready pipe.
    public static func readyTimeout(seconds: Double, evidence: String?) -> FailureCause {
        FailureCause(.readyTimeout, cause: "slirp4netns kept running but did not report ready within \(formatSeconds(seconds)) s (Podman would wait forever and the container would hang in its start)",
                     fix: "read the log below; a wrapper or old slirp4netns that ignores -r (--ready-fd) never reports ready: use slirp4netns 0.4 or newer directly; on a loaded host retry with a longer --timeout",
                     evidence: evidence)
    }

    /// slirp4netns's "prefix length needs to be 1-25", in words (the doctor's and `slirpmon addr`'s).
    public static func cidrPrefixLength(_ cidr: String?, evidence: String?) -> FailureCause {
        FailureCause(.cidrPrefixLength, cause: "the cidr's prefix length must be 1-25: slirp4netns needs room for .2, .3 and .100",
                     fix: "use a /25 or larger network, e.g. cidr=\(suggestedNetwork(cidr, prefix: 24))", evidence: evidence)
    }

    /// slirp4netns's "CIDR needs to be a network address", in words (the doctor's and `slirpmon addr`'s).
    public static func cidrNotNetworkAddress(_ cidr: String?, evidence: String?) -> FailureCause {
        let network = cidr.flatMap { IPv4Network($0) }.map(\.description) ?? "10.0.2.0/24"
        return FailureCause(.cidrNotNetworkAddress, cause: "the cidr has host bits set: slirp4netns wants the network address",
                            fix: "use cidr=\(network)", evidence: evidence)
    }

    private static func suggestedNetwork(_ cidr: String?, prefix: Int) -> String {
        guard let network = cidr.flatMap({ IPv4Network($0) }) else { return "10.0.2.0/24" }
        return IPv4Network(address: network.address, prefixLength: prefix).description
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension String {
    /// Podman quotes the log with `%q`: turn its `\n` back into lines for matching.
    var replacingEscapedNewlines: String {
        contains("\\n") ? replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"") : self
    }
}
