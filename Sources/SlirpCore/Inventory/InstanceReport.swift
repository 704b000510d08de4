/// The stable JSON shape of one instance, for `slirpmon list --json` and `show --json`.
///
/// Keys are snake_case; a key whose value is unknown is `null`, never absent, in
/// the list shape (`@NullWhenAbsent`). `show` adds the detail keys (plain optionals: written
/// only when present, so not at all in `list`).
public struct InstanceReport: Encodable, Sendable, Equatable {
    private let kind = "instance"
    public var pid: Int32
    public var ppid: Int32
    public var startTicks: UInt64
    public var state: String
    public var zombie: Bool
    @NullWhenAbsent public var uid: UInt32?
    @NullWhenAbsent public var user: String?
    public var startTime: Double
    public var uptimeSeconds: Double
    public var rssBytes: Int64
    @NullWhenAbsent public var containerID: String?
    public var cidr: String
    public var mtu: Int
    public var ipv6: Bool
    @NullWhenAbsent public var guest: String?
    @NullWhenAbsent public var gateway: String?
    @NullWhenAbsent public var dns: String?
    @NullWhenAbsent public var addressError: String?
    public var addressMismatches: Int
    @NullWhenAbsent public var netns: String?
    public var tap: String
    @NullWhenAbsent public var apiSocket: String?
    @NullWhenAbsent public var apiSocketStatus: SocketStatus?
    @NullWhenAbsent public var forwardCount: Int?
    @NullWhenAbsent public var forwardsError: String?
    public var problems: [String: String]
    /// The Podman container (or pod infra container) it serves; nil for instances started by hand.
    @NullWhenAbsent public var container: ContainerReport?
    /// `slirp4netns` (API socket) or `rootlesskit`; nil when not a Podman container.
    @NullWhenAbsent public var portHandler: String?
    /// rootlessport / rootlessport-child processes carrying this container's ports.
    public var rootlessportPIDs: [Int32]
    /// The rootless user's shared Podman network it serves, with the containers on it; nil for any other instance.
    @NullWhenAbsent public var rootlessNetwork: RootlessNetworkReport?
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
        case rootlessNetwork = "rootless_network"
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
        apiSocketStatus = instance.socketOwnership?.status
        forwardCount = instance.forwards?.count
        forwardsError = instance.forwardsError
        problems = p.problems
        container = instance.container.map { ContainerReport($0, members: instance.podMembers) }
        portHandler = instance.container?.portHandler
        rootlessportPIDs = instance.rootlessPorts.map(\.pid)
        rootlessNetwork = instance.rootlessNetwork.map(RootlessNetworkReport.init)
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
}

/// The JSON shape of a Podman container inside an instance or detached row.
public struct ContainerReport: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var image: String
    public var state: String
    @NullWhenAbsent public var pod: String?
    @NullWhenAbsent public var podName: String?
    public var infra: Bool
    /// Names of the pod's other containers, sharing this network.
    public var members: [String]
    public var ports: [PodmanPort]
    public var networkOptions: [String]
    public var portHandler: String
    @NullWhenAbsent public var owner: String?

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
