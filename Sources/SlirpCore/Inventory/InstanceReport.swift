/// The stable JSON shape of one instance, for `slirpmon list --json` and `show --json`.
///
/// Two documented shapes, each with every key always present and snake_case: `list` writes the
/// summary keys (`@NullWhenAbsent`: `null` when unknown); `show` writes those and the detail
/// keys (`@DetailKey`: `null` when unknown, and not written at all in `list`). `assets/
/// slirpmon.schema.json` is the written schema (`$defs/instance`, `$defs/show`).
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
    /// From its command line; for a defunct process as last seen while it ran (`configurationSource`),
    /// null when unknown (never slirp4netns's defaults taken for facts). So are `ipv6`, `tap` and the addresses.
    @NullWhenAbsent public var cidr: String?
    @NullWhenAbsent public var mtu: Int?
    @NullWhenAbsent public var ipv6: Bool?
    /// `command_line` (the running process's), `last_seen` (defunct: as read while it ran, at
    /// `configurationSeenAt`) or `unknown` (`problems["configuration"]` says why).
    public var configurationSource: String
    @NullWhenAbsent public var configurationSeenAt: Double?
    @NullWhenAbsent public var guest: String?
    @NullWhenAbsent public var gateway: String?
    @NullWhenAbsent public var dns: String?
    @NullWhenAbsent public var addressError: String?
    public var addressMismatches: Int
    @NullWhenAbsent public var netns: String?
    @NullWhenAbsent public var tap: String?
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
    /// The RootlessKit that started it (Docker rootless, containerd rootless, a command); nil for any other instance.
    @NullWhenAbsent public var rootlesskit: RootlessKitReport?
    /// CPU % and tap traffic as measured by `list --rates`; null when read once (`LoadReport`).
    @NullWhenAbsent public var load: LoadReport?
    // Detail (show only: every key written, null when unknown)
    @DetailKey public var arguments: [String]?
    @DetailKey public var options: [ExplainedOption]?
    @DetailKey public var addresses: [AddressCheck]?
    @DetailKey public var observed: ObservedAddresses?
    @DetailKey public var observeError: String?
    @DetailKey public var forwards: [HostForward]?
    @DetailKey public var log: SlirpInstance.LogInfo?
    @DetailKey public var logError: String?
    /// Live forwards Podman's configuration lacks (lost on restart), and what would keep them:
    /// `persistSteps` in order (`PersistPlan`), `persistCommand` the one among them that creates
    /// the container or pod with the forwards (run alone it fails: the name is taken); both null
    /// when Podman kept no create command that takes `-p` (`show` says what to do instead).
    @DetailKey public var unpersistedForwardIDs: [Int]?
    @DetailKey public var persistCommand: String?
    @DetailKey public var persistSteps: [String]?
    /// What a client's address looks like inside the namespace, from the port handler really in use (`ClientSource`).
    @DetailKey public var clientSource: ClientSource?

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
        case configurationSource = "configuration_source"
        case configurationSeenAt = "configuration_seen_at"
        case rootlessNetwork = "rootless_network"
        case rootlesskit, load
        case unpersistedForwardIDs = "unpersisted_forward_ids"
        case persistCommand = "persist_command"
        case persistSteps = "persist_steps"
        case clientSource = "client_source"
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
        let known = p.configurationSource.isKnown
        cidr = known ? c.effectiveCIDR : nil
        mtu = known ? c.effectiveMTU : nil
        ipv6 = known ? c.enableIPv6 : nil
        configurationSource = p.configurationSource.word
        configurationSeenAt = p.configurationSource.lastSeenAt
        guest = known ? instance.expected.guestText : nil
        gateway = known ? instance.expected.gatewayText : nil
        dns = known ? instance.expected.dnsText : nil
        addressError = known ? instance.expected.errorText : nil
        addressMismatches = instance.mismatches.count
        netns = c.netnsPath
        tap = known ? c.effectiveTapName : nil
        apiSocket = instance.apiSocket
        apiSocketStatus = instance.socketOwnership?.status
        forwardCount = instance.forwards?.count
        forwardsError = instance.forwardsError
        problems = p.problems
        if let reason = p.configurationSource.unknownReason { problems["configuration"] = "unknown: \(reason)" }
        container = instance.container.map { ContainerReport($0, members: instance.podMembers) }
        portHandler = instance.container?.portHandler
        rootlessportPIDs = instance.rootlessPorts.map(\.pid)
        rootlessNetwork = instance.rootlessNetwork.map(RootlessNetworkReport.init)
        rootlesskit = instance.rootlessKit.map(RootlessKitReport.init)
        load = instance.load.map { LoadReport(instance, $0) }
        guard detailed else { return }
        // Unknown is null, not an empty list: a defunct process's command line is gone, not empty.
        arguments = known ? p.arguments : nil
        options = known ? c.explained : nil
        addresses = known ? instance.addressChecks : nil
        observed = instance.observed
        observeError = instance.observeError
        forwards = instance.forwards
        log = instance.log
        logError = instance.logError
        let forwardsOfContainer = instance.container != nil && instance.forwards != nil
        unpersistedForwardIDs = forwardsOfContainer ? instance.unpersistedForwards.map(\.id) : nil
        let plan = forwardsOfContainer ? instance.persistPlan : nil
        persistCommand = plan?.createStep
        persistSteps = plan.flatMap { $0.steps.isEmpty ? nil : $0.steps }
        clientSource = instance.clientSource
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
