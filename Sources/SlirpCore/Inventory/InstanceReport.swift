/// The stable JSON shape of one instance, for `slirpmon list --json` and `show --json`.
///
/// Keys are snake_case; a key whose value is unknown is `null`, never absent, in
/// the list shape. `show` adds the detail keys (nil in `list`).
public struct InstanceReport: Encodable, Sendable, Equatable {
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
    /// The Podman container (or pod infra container) it serves; nil for instances started by hand.
    public var container: ContainerReport?
    /// `slirp4netns` (API socket) or `rootlesskit`; nil when not a Podman container.
    public var portHandler: String?
    /// rootlessport / rootlessport-child processes carrying this container's ports.
    public var rootlessportPIDs: [Int32]
    // Detail (show only)
    public var arguments: [String]?
    public var options: [ExplainedOption]?
    public var addresses: [AddressCheck]?
    public var observed: ObservedAddresses?
    public var observeError: String?
    public var forwards: [HostForward]?
    public var log: SlirpInstance.LogInfo?
    public var logError: String?
    /// Live forwards Podman's configuration lacks (lost on restart), and the line that would keep them.
    public var unpersistedForwardIDs: [Int]?
    public var persistCommand: String?

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
        case container, kind
        case portHandler = "port_handler"
        case rootlessportPIDs = "rootlessport_pids"
        case unpersistedForwardIDs = "unpersisted_forward_ids"
        case persistCommand = "persist_command"
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
        guest = instance.expected.guestText
        gateway = instance.expected.gatewayText
        dns = instance.expected.dnsText
        addressError = instance.expected.errorText
        addressMismatches = instance.mismatches.count
        netns = c.netnsPath
        tap = c.effectiveTapName
        apiSocket = instance.apiSocket
        apiSocketStatus = instance.socketOwnership?.status.rawValue
        forwardCount = instance.forwards?.count
        forwardsError = instance.forwardsError
        problems = p.problems
        container = instance.container.map { ContainerReport($0, members: instance.podMembers) }
        portHandler = instance.container?.portHandler
        rootlessportPIDs = instance.rootlessPorts.map(\.pid)
        guard detailed else { return }
        arguments = p.arguments
        options = c.explained
        addresses = instance.addressChecks
        observed = instance.observed
        observeError = instance.observeError
        forwards = instance.forwards
        log = instance.log
        logError = instance.logError
        if instance.container != nil, instance.forwards != nil {
            unpersistedForwardIDs = instance.unpersistedForwards.map(\.id)
            persistCommand = instance.persistCommand
        }
    }

    /// List keys are always written (null when unknown); detail keys only when present.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("instance", forKey: .kind)
        try c.encode(pid, forKey: .pid)
        try c.encode(ppid, forKey: .ppid)
        try c.encode(startTicks, forKey: .startTicks)
        try c.encode(state, forKey: .state)
        try c.encode(zombie, forKey: .zombie)
        try c.encodeOrNull(uid, forKey: .uid)
        try c.encodeOrNull(user, forKey: .user)
        try c.encode(startTime, forKey: .startTime)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(rssBytes, forKey: .rssBytes)
        try c.encodeOrNull(containerID, forKey: .containerID)
        try c.encode(cidr, forKey: .cidr)
        try c.encode(mtu, forKey: .mtu)
        try c.encode(ipv6, forKey: .ipv6)
        try c.encodeOrNull(guest, forKey: .guest)
        try c.encodeOrNull(gateway, forKey: .gateway)
        try c.encodeOrNull(dns, forKey: .dns)
        try c.encodeOrNull(addressError, forKey: .addressError)
        try c.encode(addressMismatches, forKey: .addressMismatches)
        try c.encodeOrNull(netns, forKey: .netns)
        try c.encode(tap, forKey: .tap)
        try c.encodeOrNull(apiSocket, forKey: .apiSocket)
        try c.encodeOrNull(apiSocketStatus, forKey: .apiSocketStatus)
        try c.encodeOrNull(forwardCount, forKey: .forwardCount)
        try c.encodeOrNull(forwardsError, forKey: .forwardsError)
        try c.encode(problems, forKey: .problems)
        try c.encode(container, forKey: .container)
        try c.encodeOrNull(portHandler, forKey: .portHandler)
        try c.encode(rootlessportPIDs, forKey: .rootlessportPIDs)
        try c.encodeIfPresent(arguments, forKey: .arguments)
        try c.encodeIfPresent(options, forKey: .options)
        try c.encodeIfPresent(addresses, forKey: .addresses)
        try c.encodeIfPresent(observed, forKey: .observed)
        try c.encodeIfPresent(observeError, forKey: .observeError)
        try c.encodeIfPresent(forwards, forKey: .forwards)
        try c.encodeIfPresent(log, forKey: .log)
        try c.encodeIfPresent(logError, forKey: .logError)
        try c.encodeIfPresent(unpersistedForwardIDs, forKey: .unpersistedForwardIDs)
        try c.encodeIfPresent(persistCommand, forKey: .persistCommand)
    }

}

/// The JSON shape of a Podman container inside an instance or detached row.
public struct ContainerReport: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var image: String
    public var state: String
    public var pod: String?
    public var podName: String?
    public var infra: Bool
    /// Names of the pod's other containers, sharing this network.
    public var members: [String]
    public var ports: [PodmanPort]
    public var networkOptions: [String]
    public var portHandler: String
    public var owner: String?

    enum CodingKeys: String, CodingKey {
        case id, name, image, state, pod, infra, members, ports, owner
        case podName = "pod_name"
        case networkOptions = "network_options"
        case portHandler = "port_handler"
    }

    public init(_ c: PodmanContainer, members: [PodmanContainer]) {
        id = c.id
        name = c.name
        image = c.image
        state = c.state
        pod = c.podID
        podName = c.podName
        infra = c.isInfra
        self.members = members.map(\.name)
        ports = c.ports
        networkOptions = c.networkOptions
        portHandler = c.portHandler
        owner = c.ownerName ?? String(c.ownerUID)
    }

    public func encode(to encoder: Encoder) throws {
        var k = encoder.container(keyedBy: CodingKeys.self)
        try k.encode(id, forKey: .id)
        try k.encode(name, forKey: .name)
        try k.encode(image, forKey: .image)
        try k.encode(state, forKey: .state)
        try k.encode(pod, forKey: .pod)
        try k.encode(podName, forKey: .podName)
        try k.encode(infra, forKey: .infra)
        try k.encode(members, forKey: .members)
        try k.encode(ports, forKey: .ports)
        try k.encode(networkOptions, forKey: .networkOptions)
        try k.encode(portHandler, forKey: .portHandler)
        try k.encode(owner, forKey: .owner)
    }
}

/// The JSON shape of a slirp4netns-mode container without a live slirp4netns.
public struct DetachedReport: Encodable, Sendable {
    public let kind = "container-without-slirp4netns"
    public let container: ContainerReport
    public let reason: String
    public let failure: Bool

    public init(_ detached: DetachedContainer) {
        container = ContainerReport(detached.container, members: detached.members)
        reason = detached.reason
        failure = detached.isFailure
    }
}

extension KeyedEncodingContainer {
    /// `value`, or null when nil (never omitted), through the concrete overloads: the generic
    /// `Optional` path makes a nested encoder per field.
    mutating func encodeOrNull(_ value: String?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func encodeOrNull(_ value: Int?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func encodeOrNull(_ value: UInt32?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
