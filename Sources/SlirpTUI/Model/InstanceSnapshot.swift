import SlirpCore

/// One option of the command line explained, as the details pane shows it: the core's
/// `ExplainedOption`, the same value `slirpmon show --json` writes under `options`.
public typealias OptionLine = ExplainedOption

/// What the monitor shows about one slirp4netns instance: built from a `SlirpInstance`
/// (or by tests, from fixture values), with nothing that needs a live process.
public struct InstanceSnapshot: Equatable, Sendable {
    public var identity: ProcessIdentity
    public var pid: Int32 { identity.pid }
    public var containerID: String?
    public var state: String
    public var isZombie: Bool
    public var user: String?
    public var uptimeSeconds: Double
    public var residentBytes: Int64
    /// nil when the configuration is unknown (`configuration`): never slirp4netns's defaults as facts.
    public var cidr: String?
    public var mtu: Int?
    public var ipv6: Bool
    /// Where the configuration shown comes from: the running process, last seen while it ran
    /// (defunct or gone), or unknown (then `ipv6`, `tapName` and the addresses say nothing).
    public var configuration: ConfigurationSource = .commandLine(readAt: 0)
    /// Run with `--disable-host-loopback` (UDP replies to loopback clients are dropped: `ForwardCaveat`).
    public var disableHostLoopback = false
    public var guest: String?
    public var gateway: String?
    public var dns: String?
    public var addressError: String?
    public var netnsPath: String?
    public var tapName: String
    public var apiSocket: String?
    /// The socket file proven held by the process (nil: not proven); requests are pinned to it.
    public var apiSocketFile: SocketFile?
    /// What the check of the API socket found; nil without a socket.
    public var socketStatus: SocketStatus?
    public var socketDescription: String?
    public var logPath: String?
    public var logDeleted: Bool
    public var logError: String?
    public var options: [OptionLine]
    public var addressChecks: [AddressCheck]
    public var observeError: String?
    public var forwardBlocker: String?
    /// How many forwards its last `list_hostfwd` answer had (the FWD column); nil when not asked or it failed.
    public var forwardCount: Int?
    /// Why there is no count: the socket not proven its own (nothing sent), or the request failed.
    public var forwardsError: String?
    /// `HH:MM:SS` when the count was asked, for a count its log cannot prove still holds (stderr not a
    /// regular file); nil when proven current.
    public var forwardsAsOf: String?
    public var problems: [String: String]
    /// The Podman container this instance serves (a pod's infra container), or the
    /// container of a row without a live slirp4netns (`detached`).
    public var container: PodmanContainer?
    /// For a pod: the member containers sharing its network.
    public var podMembers: [PodmanContainer] = []
    /// `rootlessport` / `rootlessport-child` processes carrying the container's ports.
    public var rootlessPorts: [RootlessPortProcess] = []
    /// For the slirp4netns of a rootless user's shared Podman network: the user and its containers.
    public var rootlessNetwork: RootlessNetwork?
    /// The RootlessKit whose slirp4netns this is (Docker/containerd rootless, a command).
    public var rootlessKit: RootlessKitParent?
    /// What the passive checks found (process, API socket, log), most serious first.
    public var findings: [Finding] = []
    /// Set for a container in slirp4netns mode whose slirp4netns is not running: the row has no process.
    public var detached: DetachedRow?
    /// Set when the monitor runs as another user than the instance's owner (root on a rootless user's container).
    public var acting: Acting?
    /// CPU % and tap traffic from the monitor's readings (the CPU%, RX/s, TX/s columns); nil: none yet.
    public var load: InstanceLoad?

    public init(identity: ProcessIdentity, containerID: String? = nil, state: String = "S", isZombie: Bool = false,
                user: String? = "root", uptimeSeconds: Double = 0, residentBytes: Int64 = 0,
                cidr: String? = "10.0.2.0/24", mtu: Int? = 1500, ipv6: Bool = false,
                guest: String? = "10.0.2.100", gateway: String? = "10.0.2.2", dns: String? = "10.0.2.3",
                addressError: String? = nil, netnsPath: String? = nil, tapName: String = "tap0",
                apiSocket: String? = nil, socketStatus: SocketStatus? = nil, socketDescription: String? = nil,
                logPath: String? = nil, logDeleted: Bool = false, logError: String? = nil,
                options: [OptionLine] = [], addressChecks: [AddressCheck] = [], observeError: String? = nil,
                forwardBlocker: String? = nil, problems: [String: String] = [:]) {
        self.identity = identity
        self.containerID = containerID
        self.state = state
        self.isZombie = isZombie
        self.user = user
        self.uptimeSeconds = uptimeSeconds
        self.residentBytes = residentBytes
        self.cidr = cidr
        self.mtu = mtu
        self.ipv6 = ipv6
        self.guest = guest
        self.gateway = gateway
        self.dns = dns
        self.addressError = addressError
        self.netnsPath = netnsPath
        self.tapName = tapName
        self.apiSocket = apiSocket
        self.socketStatus = socketStatus
        self.socketDescription = socketDescription
        self.logPath = logPath
        self.logDeleted = logDeleted
        self.logError = logError
        self.options = options
        self.addressChecks = addressChecks
        self.observeError = observeError
        self.forwardBlocker = forwardBlocker
        self.problems = problems
    }

    /// The view of a live instance.
    public init(_ instance: SlirpInstance) {
        let p = instance.process
        let c = instance.configuration
        self.init(identity: p.identity)
        containerID = p.containerID
        state = String(p.state)
        isZombie = p.isZombie
        user = p.user ?? p.uid.map { String($0) }
        uptimeSeconds = p.uptimeSeconds
        residentBytes = p.residentBytes
        configuration = p.configurationSource
        let known = configuration.isKnown
        cidr = known ? c.effectiveCIDR : nil
        mtu = known ? c.effectiveMTU : nil
        ipv6 = c.enableIPv6
        disableHostLoopback = c.disableHostLoopback
        guest = known ? instance.expected.guestText : nil
        gateway = known ? instance.expected.gatewayText : nil
        dns = known ? instance.expected.dnsText : nil
        addressError = known ? instance.expected.errorText : nil
        netnsPath = c.netnsPath
        tapName = c.effectiveTapName
        apiSocket = instance.apiSocket
        apiSocketFile = instance.apiSocketFile
        acting = instance.acting
        socketStatus = instance.socketOwnership?.status
        socketDescription = instance.socketOwnership?.description
        logPath = instance.log?.originalPath
        logDeleted = instance.log?.deleted ?? false
        logError = instance.logError
        options = known ? c.explained : [] // an empty configuration explains only defaults
        addressChecks = instance.addressChecks
        observeError = instance.observeError
        forwardBlocker = instance.forwardBlocker
        forwardCount = instance.forwards?.count
        forwardsError = instance.forwardsError
        problems = p.problems
        container = instance.container
        podMembers = instance.podMembers
        rootlessPorts = instance.rootlessPorts
        rootlessNetwork = instance.rootlessNetwork
        rootlessKit = instance.rootlessKit
        if let kit = instance.rootlessKit {
            // Its ports are RootlessKit's: asked of its API (the forwards pane), never of slirp4netns's
            // own socket (the slirp4netns port driver's `.s4nn.sock`), whose list RootlessKit does not see.
            forwardBlocker = Self.blocker(of: kit)
            forwardCount = nil
            forwardsError = nil
        }
        load = instance.load
    }

    /// Why RootlessKit's API cannot be asked, or nil: its state directory unknown, or no socket on
    /// `$STATE/api.sock` that the rootlesskit parent holds and listens on (proven again before each request).
    static func blocker(of kit: RootlessKitParent) -> String? {
        guard let socket = kit.apiSocket else {
            return "RootlessKit's state directory is unknown (\(kit.problems["state_dir"] ?? "not found")), so its API socket is too (rootlesskit pid \(kit.pid))"
        }
        if let why = kit.apiSocketUncheckable { return "RootlessKit API socket \(socket): cannot check whether rootlesskit pid \(kit.pid) holds it: \(why)" }
        guard kit.apiSocketListening else { return "RootlessKit API socket \(socket) is not listening in rootlesskit pid \(kit.pid)" }
        return nil
    }

    /// Where the forwards pane's requests go: RootlessKit's API for a RootlessKit instance (its
    /// slirp4netns's own socket left out), else the instance's API socket.
    public var effectTarget: EffectTarget {
        EffectTarget(identity: identity, apiSocket: rootlessKit == nil ? apiSocket : nil, apiSocketFile: rootlessKit == nil ? apiSocketFile : nil,
                     rootlessKit: rootlessKit, slirpNetwork: rootlessKit == nil ? nil : cidr)
    }

    /// The row of a container whose slirp4netns is not running (a failed start, or stopped).
    ///
    /// It has no process: its identity is `DetachedRow.identity(containerID:)` (pid 0, which
    /// never names a process), so selection, sorting and the gone-for-a-while logic treat it
    /// like any other row.
    public init(_ detached: DetachedContainer) {
        let c = detached.container
        let options = try? SlirpNetworkOptions.parse(c.networkOptions)
        self.init(identity: DetachedRow.identity(containerID: c.id), containerID: c.id, state: "-", user: c.ownerName ?? String(c.ownerUID),
                  cidr: options?.cidr ?? "10.0.2.0/24", mtu: options?.mtu ?? 65520, ipv6: options?.enableIPv6 ?? false,
                  guest: nil, gateway: nil, dns: nil,
                  logError: "no slirp4netns process, so no log: Podman printed it once when the start failed (the doctor reproduces it)",
                  forwardBlocker: "no slirp4netns is running for this container: \(detached.reason)")
        container = c
        podMembers = detached.members
        self.detached = DetachedRow(reason: detached.reason, isFailure: detached.isFailure)
    }

    /// Container short ID, or `manual` for an instance not started by Podman.
    public var shortID: String { Format.shortID(containerID) }

    /// The name an operator knows it by: the container's name, `pod:NAME`, the short ID, or `manual`.
    public var name: String {
        if container == nil, containerID == nil, rootlessKit != nil { return "rootlesskit" }
        return rootlessNetwork?.displayName ?? Format.instanceName(container: container, containerID: containerID)
    }

    /// True when the row is a container without a live slirp4netns.
    public var isDetached: Bool { detached != nil }

    /// What the API column says of the row.
    public var api: APIColumn {
        if isDetached { return .detached }
        // A defunct process holds no socket: its last-seen path is not checked (`-`, as its unknown one).
        if isZombie && (apiSocket != nil || !configuration.isKnown) { return .detached }
        if let kit = rootlessKit { return kit.apiSocketListening ? .rootlessKit : .noSocket }
        guard apiSocket != nil else { return rootlessPorts.isEmpty ? .noSocket : .rootlessport }
        return .socket(socketStatus)
    }

    /// The API column's word (`APIColumn.word`); the column sorts by it.
    public var apiColumn: String { api.word }

    public var mismatchCount: Int { addressChecks.filter { $0.status == .mismatch }.count }
}

extension InstanceSnapshot {
    /// A zombie has no command line left (nor has a process read as it exited): keep what was
    /// known of it while it ran, marked last seen, so the operator still sees which network died
    /// (and the filter still finds it).
    func keepingConfiguration(of earlier: InstanceSnapshot) -> InstanceSnapshot {
        guard !configuration.isKnown, earlier.configuration.isKnown else { return self }
        var kept = self
        kept.configuration = earlier.configuration.afterExit
        kept.problems["configuration"] = nil
        kept.addressError = earlier.addressError
        kept.disableHostLoopback = earlier.disableHostLoopback
        kept.containerID = containerID ?? earlier.containerID
        kept.cidr = earlier.cidr
        kept.mtu = earlier.mtu
        kept.ipv6 = earlier.ipv6
        kept.guest = earlier.guest
        kept.gateway = earlier.gateway
        kept.dns = earlier.dns
        kept.netnsPath = earlier.netnsPath
        kept.tapName = earlier.tapName
        kept.apiSocket = earlier.apiSocket
        kept.logPath = earlier.logPath
        kept.logDeleted = earlier.logDeleted
        kept.options = earlier.options
        kept.container = container ?? earlier.container
        kept.podMembers = podMembers.isEmpty ? earlier.podMembers : podMembers
        kept.rootlessNetwork = rootlessNetwork ?? earlier.rootlessNetwork
        kept.rootlessKit = rootlessKit ?? earlier.rootlessKit
        return kept
    }
}

/// How a row reaches its instance's API, as the API column says it.
public enum APIColumn: Equatable, Sendable {
    /// A container without a live slirp4netns: `-`.
    case detached
    /// No API socket and no rootlessport: `no`.
    case noSocket
    /// Ports carried by rootlessport, not the API socket: `rootlessport`.
    case rootlessport
    /// Ports through RootlessKit's API (`$STATE/api.sock`, listening in the rootlesskit parent): `rootlesskit`.
    case rootlessKit
    /// An API socket, and what its check found (nil: not checked).
    case socket(SocketStatus?)

    /// `yes` (held), `stale` (not held), `ambig`, `unverified` (the word `list` writes too), `missing`, `yes?`
    /// (not checked), `no`, `rootlessport`, `-`.
    public var word: String {
        switch self {
        case .detached: "-"
        case .noSocket: "no"
        case .rootlessport: "rootlessport"
        case .rootlessKit: "rootlesskit"
        case .socket(.held): "yes"
        case .socket(.notHeld): "stale"
        case .socket(.ambiguous): "ambig"
        case .socket(.unverified): "unverified"
        case .socket(.missing): "missing"
        case .socket(nil): "yes?"
        }
    }
}

/// Why a container's row has no process.
public struct DetachedRow: Equatable, Sendable {
    /// In words (`DetachedContainer.reason`).
    public var reason: String
    /// True for a failed start or a running container without its slirp4netns; false when stopped.
    public var isFailure: Bool
    public init(reason: String, isFailure: Bool) {
        self.reason = reason
        self.isFailure = isFailure
    }

    /// The row key of a container without a process: pid 0 (never a real process) and
    /// the first 16 hex digits of the container ID.
    public static func identity(containerID: String) -> ProcessIdentity {
        if let value = UInt64(containerID.prefix(16), radix: 16) { return ProcessIdentity(pid: 0, startTicks: value) }
        // Not hex (never from Podman): FNV-1a, stable across runs.
        let hash = containerID.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        return ProcessIdentity(pid: 0, startTicks: hash)
    }
}
