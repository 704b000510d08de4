/// The stable JSON shape of one instance, for `slirpmon list --json` and `show --json`.
///
/// Keys are snake_case; a key whose value is unknown is `null`, never absent, in
/// the list shape. `show` adds the detail keys (nil in `list`).
public struct InstanceReport: Codable, Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var startTicks: UInt64
    public var state: String
    public var zombie: Bool
    public var uid: UInt32?
    public var user: String?
    public var startTime: Double
    public var uptimeSeconds: Double
    public var rssBytes: Int64
    public var containerID: String?
    public var cidr: String
    public var mtu: Int
    public var ipv6: Bool
    public var guest: String?
    public var gateway: String?
    public var dns: String?
    public var addressError: String?
    public var addressMismatches: Int
    public var netns: String?
    public var tap: String
    public var apiSocket: String?
    public var apiSocketStatus: String?
    public var forwardCount: Int?
    public var forwardsError: String?
    public var problems: [String: String]
    // Detail (show only)
    public var arguments: [String]?
    public var options: [ExplainedOption]?
    public var addresses: [AddressCheck]?
    public var observed: ObservedAddresses?
    public var observeError: String?
    public var forwards: [HostForward]?
    public var log: SlirpInstance.LogInfo?
    public var logError: String?

    enum CodingKeys: String, CodingKey {
        case pid, ppid, state, zombie, uid, user, cidr, mtu, ipv6, guest, gateway, dns, netns, tap, problems
        case arguments, options, addresses, observed, forwards, log
        case startTicks = "start_ticks"
        case startTime = "start_time"
        case uptimeSeconds = "uptime_seconds"
        case rssBytes = "rss_bytes"
        case containerID = "container_id"
        case addressError = "address_error"
        case addressMismatches = "address_mismatches"
        case apiSocket = "api_socket"
        case apiSocketStatus = "api_socket_status"
        case forwardCount = "forward_count"
        case forwardsError = "forwards_error"
        case observeError = "observe_error"
        case logError = "log_error"
    }

    public init(_ instance: SlirpInstance, detailed: Bool) {
        let p = instance.process
        let c = instance.configuration
        pid = p.pid
        ppid = p.parentPID
        startTicks = p.identity.startTicks
        state = String(p.state)
        zombie = p.isZombie
        uid = p.uid
        user = p.user
        startTime = p.startTime
        uptimeSeconds = (p.uptimeSeconds * 10).rounded() / 10
        rssBytes = p.residentBytes
        containerID = p.containerID
        cidr = c.effectiveCIDR
        mtu = c.effectiveMTU
        ipv6 = c.enableIPv6
        guest = try? instance.expected.guest.get().description
        gateway = try? instance.expected.gateway.get().description
        dns = try? instance.expected.dns.get().description
        if case .failure(let e) = instance.expected.guest { addressError = e.description }
        addressMismatches = instance.mismatches.count
        netns = c.netnsPath
        tap = c.effectiveTapName
        apiSocket = instance.apiSocket
        apiSocketStatus = instance.socketOwnership.map(Self.statusWord)
        forwardCount = instance.forwards?.count
        forwardsError = instance.forwardsError
        problems = p.problems
        guard detailed else { return }
        arguments = p.arguments
        options = c.explained
        addresses = instance.addressChecks
        observed = instance.observed
        observeError = instance.observeError
        forwards = instance.forwards
        log = instance.log
        logError = instance.logError
    }

    /// List keys are always written (null when unknown); detail keys only when present.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pid, forKey: .pid)
        try c.encode(ppid, forKey: .ppid)
        try c.encode(startTicks, forKey: .startTicks)
        try c.encode(state, forKey: .state)
        try c.encode(zombie, forKey: .zombie)
        try c.encode(uid, forKey: .uid)
        try c.encode(user, forKey: .user)
        try c.encode(startTime, forKey: .startTime)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(rssBytes, forKey: .rssBytes)
        try c.encode(containerID, forKey: .containerID)
        try c.encode(cidr, forKey: .cidr)
        try c.encode(mtu, forKey: .mtu)
        try c.encode(ipv6, forKey: .ipv6)
        try c.encode(guest, forKey: .guest)
        try c.encode(gateway, forKey: .gateway)
        try c.encode(dns, forKey: .dns)
        try c.encode(addressError, forKey: .addressError)
        try c.encode(addressMismatches, forKey: .addressMismatches)
        try c.encode(netns, forKey: .netns)
        try c.encode(tap, forKey: .tap)
        try c.encode(apiSocket, forKey: .apiSocket)
        try c.encode(apiSocketStatus, forKey: .apiSocketStatus)
        try c.encode(forwardCount, forKey: .forwardCount)
        try c.encode(forwardsError, forKey: .forwardsError)
        try c.encode(problems, forKey: .problems)
        try c.encodeIfPresent(arguments, forKey: .arguments)
        try c.encodeIfPresent(options, forKey: .options)
        try c.encodeIfPresent(addresses, forKey: .addresses)
        try c.encodeIfPresent(observed, forKey: .observed)
        try c.encodeIfPresent(observeError, forKey: .observeError)
        try c.encodeIfPresent(forwards, forKey: .forwards)
        try c.encodeIfPresent(log, forKey: .log)
        try c.encodeIfPresent(logError, forKey: .logError)
    }

    static func statusWord(_ ownership: SocketOwnership) -> String {
        switch ownership {
        case .held: "held"
        case .missing: "missing"
        case .notHeld: "not-held"
        case .ambiguous: "ambiguous"
        case .unknown: "unverified"
        }
    }
}
