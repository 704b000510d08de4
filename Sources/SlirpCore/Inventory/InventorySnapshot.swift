/// One refresh of everything: instances, and Podman's view of what should be running.
public struct InventorySnapshot: Sendable {
    public var instances: [SlirpInstance]
    /// Containers in slirp4netns mode with no live slirp4netns: failed startups, stopped containers.
    public var detachedContainers: [DetachedContainer]
    /// One line per Podman that could not be asked (not an empty list).
    public var podmanFailures: [String]
    public var podmanInstalled: Bool
    public var rootlessPorts: [RootlessPortProcess]
    /// Every container Podman reported (all states, every user asked): `PortHolders` names the
    /// container of a port holder, running or not, or finds it gone.
    public var podmanContainers: [PodmanContainer] = []
    /// The users (uid) whose Podman answered (`PodmanCatalog.Snapshot.answered`).
    public var podmanAnswered: Set<UInt32> = []
}

/// A slirp4netns-mode container whose slirp4netns is not running.
public struct DetachedContainer: Sendable {
    public let container: PodmanContainer
    /// For a pod's infra container: the pod's other containers.
    public let members: [PodmanContainer]

    /// Why there is no slirp4netns, in words.
    public var reason: String {
        switch container.state {
        case "created", "configured", "initialized":
            return "never started: slirp4netns failed at startup? (try `\(Shell.command(["slirpmon", "doctor", container.name]))`)"
        case "running", "paused":
            return "running without its slirp4netns: the container has no network"
        case "exited", "stopped":
            return "stopped (its slirp4netns exited with it)"
        default:
            return "no slirp4netns process (state \(container.state))"
        }
    }

    /// True when this is a problem rather than a stopped container.
    public var isFailure: Bool { !["exited", "stopped"].contains(container.state) }
}
