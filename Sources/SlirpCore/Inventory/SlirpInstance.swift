/// Everything slirpmon knows about one slirp4netns instance at one moment.
public struct SlirpInstance: Sendable {
    /// The process; its container claim is dropped when Podman's container is not proven to be its (`ContainerJoin`).
    public internal(set) var process: SlirpProcess
    public var identity: ProcessIdentity { process.identity }
    public var pid: Int32 { process.pid }
    public var configuration: SlirpConfiguration { process.configuration }
    public let expected: ExpectedAddresses
    /// What the namespace really has; nil when it could not be read (`observeError` says why).
    public let observed: ObservedAddresses?
    public let observeError: String?
    public let addressChecks: [AddressCheck]
    /// The API socket path as an absolute path, when the instance has one.
    public let apiSocket: String?
    public let socketOwnership: SocketOwnership?
    /// The socket file proven held by the process (`SocketOwnership.verify`); requests are pinned to it.
    public let apiSocketFile: SocketFile?
    /// The forwards from `list_hostfwd`; nil when not asked or not answered (`forwardsError`).
    public let forwards: [HostForward]?
    public let forwardsError: String?
    public let log: LogInfo?
    public let logError: String?
    /// The Podman container this instance serves (for a pod: the infra container).
    public internal(set) var container: PodmanContainer?
    /// For a pod's infra container: the members sharing this network.
    public internal(set) var podMembers: [PodmanContainer] = []
    /// For the slirp4netns of a rootless user's shared Podman network: that user and the containers
    /// attached to it (it serves no one container, so `container` is nil).
    public internal(set) var rootlessNetwork: RootlessNetwork?
    /// `rootlessport` processes carrying this container's ports (port_handler=rootlesskit), or the
    /// ports of the containers on its rootless network.
    public internal(set) var rootlessPorts: [RootlessPortProcess] = []
    /// The RootlessKit whose slirp4netns this is (its parent runs an installed rootlesskit); nil otherwise.
    public internal(set) var rootlessKit: RootlessKitParent?
    /// When `forwards` were asked (seconds since the epoch), for an answer its log cannot prove still
    /// holds (stderr not a regular file): a forward added since is not in it. Nil when the answer is
    /// proven current, or was just asked.
    public internal(set) var forwardsAsOf: Double?
    /// CPU % and tap traffic (`InstanceLoad`): the monitor's from its readings kept between refreshes,
    /// `list --rates`'s from two readings; nil when read once (`InstanceReport` then says why).
    public internal(set) var load: InstanceLoad?

    /// Where the instance's log is and how big it is.
    public struct LogInfo: Sendable, Equatable, Codable {
        public let fd: Int32
        public let originalPath: String
        public let deleted: Bool
        public let sizeBytes: Int64

        enum CodingKeys: String, CodingKey {
            case fd, deleted
            case originalPath = "original_path"
            case sizeBytes = "size_bytes"
        }
    }

    /// True when an operator can add forwards now.
    public var canForward: Bool { forwardBlocker == nil }

    /// Why no request may be sent to its API socket (forwards listed, added or removed), in words,
    /// or nil when they may.
    public var forwardBlocker: String? { forwardBlocker(allowingUnverified: false) }

    /// Why no request may be sent (`APIEndpoint.blocker`).
    public func forwardBlocker(allowingUnverified: Bool) -> String? {
        APIEndpoint.blocker(process: process, path: apiSocket, ownership: socketOwnership, allowingUnverified: allowingUnverified)
    }

    /// The name an operator knows it by: the container's (or pod's) name, its short ID, `rootlesskit`, or "manual".
    public var displayName: String {
        if container == nil, process.containerID == nil, rootlessKit != nil { return "rootlesskit" }
        return rootlessNetwork?.displayName ?? Format.instanceName(container: container, containerID: process.containerID)
    }

    /// Live forwards that Podman's configuration does not have: gone when the container restarts.
    public var unpersistedForwards: [HostForward] {
        guard let container, let forwards else { return [] }
        return container.unpersisted(forwards)
    }

    /// The steps that make the unpersisted forwards permanent (remove, create again; for a pod
    /// also its members), as whoever runs slirpmon must type them: as the container's owner.
    public var persistPlan: PersistPlan? {
        guard let container, let forwards else { return nil }
        return PersistPlan(container: container, members: podMembers, forwards: forwards, acting: acting)
    }

    /// Set when slirpmon runs as another user than the instance's owner (root on a rootless
    /// user's container): the owner is the container's, else the process's user.
    public var acting: Acting? {
        if let container { return Acting(owner: container.ownerUID, ownerName: container.ownerName) }
        return Acting(owner: process.uid, ownerName: process.user)
    }

    /// Address mismatches worth an operator's attention.
    public var mismatches: [AddressCheck] { addressChecks.filter { $0.status == .mismatch } }
}
