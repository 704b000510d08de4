/// One port of a RootlessKit instance as the operator sees it: what it forwards and, under Docker
/// rootless, the container it reaches and how it came to be (published with `-p`, or added live).
/// What `slirpmon fwd list`, `show` and the monitor's forwards pane show for a RootlessKit instance.
public struct RootlessKitForward: Sendable, Equatable {
    /// How the port came to be.
    public enum Origin: String, Sendable, Equatable {
        /// Registered by dockerd for a container's `-p` (through `rootlesskit-docker-proxy`): it
        /// lives and dies with the container.
        case published
        /// Added through the API (`rootlessctl`, slirpmon): gone when RootlessKit restarts.
        case live
    }

    /// The Docker container a port reaches.
    public struct Container: Sendable, Equatable {
        /// Its name; nil when no container (or more than one) has `address`, or the daemon could not be asked.
        public let name: String?
        public let address: String
        public let port: Int
        /// The `rootlesskit-docker-proxy` that registered a published port; nil for a live one.
        public let proxyPID: Int32?
    }

    public let port: RootlessKitPort
    public let origin: Origin
    /// The container reached: a published port's (from its proxy), or the one whose address a live port's `childIP` is.
    public let container: Container?

    public var id: Int { port.id }
    public var spec: RootlessKitPortSpec { port.spec }

    /// For a live port to a named container: the `-p` argument (Docker's syntax) that makes the
    /// port part of the container when it is created again (`docker run -p ARG ...`).
    public var publishArgument: String? {
        guard origin == .live, let container, container.name != nil else { return nil }
        return RootlessKitPortSpec(proto: spec.proto, parentIP: spec.parentIP, parentPort: spec.parentPort, childPort: container.port).dockerPublishArgument
    }

    /// `ports` joined with one instance's Docker proxies and its daemon's running containers
    /// (both empty for a RootlessKit that runs no Docker: every port is then `live`, reaching the child).
    public static func join(_ ports: [RootlessKitPort], proxies: [DockerProxyProcess], containers: [DockerContainerAddress]) -> [RootlessKitForward] {
        ports.map { port in
            if let owner = DockerPortJoin.owner(of: port.spec, proxies: proxies, containers: containers) {
                return RootlessKitForward(port: port, origin: .published,
                                          container: Container(name: owner.containerName, address: owner.containerIP, port: owner.containerPort, proxyPID: owner.proxyPID))
            }
            let target = DockerPortJoin.liveTarget(of: port.spec, containers: containers)
            return RootlessKitForward(port: port, origin: .live,
                                      container: target.map { Container(name: $0.name, address: port.spec.childIP ?? "", port: port.spec.childPort, proxyPID: nil) })
        }
    }
}

/// What the Docker join of one RootlessKit instance needs, read now: its proxies (from `/proc`,
/// a few ms) and, for Docker rootless, its daemon's running containers (two `docker` runs as the
/// daemon's user, about 100 ms: for a command or an opened pane, never for each refresh).
public struct DockerFacts: Sendable {
    public var proxies: [DockerProxyProcess] = []
    public var containers: [DockerContainerAddress] = []
    /// Why the containers could not be named (the daemon did not answer, a proxy refused), or nil.
    public var problem: String?

    public init(proxies: [DockerProxyProcess] = [], containers: [DockerContainerAddress] = [], problem: String? = nil) {
        self.proxies = proxies
        self.containers = containers
        self.problem = problem
    }

    /// The facts of `kit`; empty for a RootlessKit without Docker.
    public static func of(_ kit: RootlessKitParent, procRoot: String = "/proc") -> DockerFacts {
        guard kit.child?.kind == .docker, let child = kit.child else { return DockerFacts() }
        var facts = DockerFacts()
        let scan = DockerProxyProcess.scan(under: child.pid, procRoot: procRoot)
        facts.proxies = scan.proxies
        var problems = scan.refused.map(\.description)
        if let socket = kit.dockerSocket, let uid = kit.uid, let account = UntrustedProgram.Account.of(uid: uid) {
            switch DockerContainerAddress.ask(account: account, socket: socket) {
            case .success(let containers): facts.containers = containers
            case .failure(let error): problems.append(error.description)
            }
        } else {
            problems.append("the daemon's socket or user is unknown, so its containers are not named")
        }
        facts.problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        return facts
    }
}
