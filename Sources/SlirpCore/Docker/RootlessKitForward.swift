/// One port of a RootlessKit instance as the operator sees it: what it forwards and, under Docker
/// rootless, the container it reaches and how it came to be (published with `-p`, or added live).
/// What `slirpmon fwd list`, `show` and the monitor's forwards pane show for a RootlessKit instance.
public struct RootlessKitForward: Sendable, Equatable {
    /// How the port came to be.
    public enum Origin: String, Sendable, Equatable {
        /// Registered by dockerd for a container's `-p` (through `rootlesskit-docker-proxy`): it
        /// lives and dies with the container.
        case published
        /// Added through the API (`rootlessctl`, slirpmon): gone when RootlessKit restarts. Said
        /// only when no proxy registered it and every proxy of the instance was read.
        case live
        /// A Docker rootless port that cannot be attributed: the proxies could not all be read,
        /// what runs under RootlessKit is unknown, Docker was not read (yet), or two proxies claim
        /// it (`originProblem` says which). Never guessed `live`: that calls for `docker run -p`.
        case unknown
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
    /// Why `origin` is `unknown`, in words; nil otherwise.
    public let originProblem: String?

    public init(port: RootlessKitPort, origin: Origin, container: Container?, originProblem: String? = nil) {
        self.port = port
        self.origin = origin
        self.container = container
        self.originProblem = originProblem
    }

    public var id: Int { port.id }
    public var spec: RootlessKitPortSpec { port.spec }

    /// For a live port to a named container: the `-p` argument (Docker's syntax) that makes the
    /// port part of the container when it is created again (`docker run -p ARG ...`).
    public var publishArgument: String? {
        guard origin == .live, let container, container.name != nil else { return nil }
        return RootlessKitPortSpec(proto: spec.proto, parentIP: spec.parentIP, parentPort: spec.parentPort, childPort: container.port).dockerPublishArgument
    }

    /// `ports` joined with one instance's Docker facts (`DockerFacts.of`; empty for a RootlessKit
    /// that runs no Docker: every port is then `live`, reaching the child). A port no proxy explains
    /// is `live` only when `facts.attributionProblem` is nil; else, and for a port two proxies
    /// claim, it is `unknown`.
    public static func join(_ ports: [RootlessKitPort], facts: DockerFacts) -> [RootlessKitForward] {
        ports.map { port in
            switch DockerPortJoin.attribute(port.spec, proxies: facts.proxies, containers: facts.containers) {
            case .published(let owner):
                return RootlessKitForward(port: port, origin: .published,
                                          container: Container(name: owner.containerName, address: owner.containerIP, port: owner.containerPort, proxyPID: owner.proxyPID))
            case .ambiguous(let pids):
                return RootlessKitForward(port: port, origin: .unknown, container: nil,
                                          originProblem: "rootlesskit-docker-proxy pids \(pids.map(String.init).joined(separator: ", ")) all claim it")
            case .none:
                let target = DockerPortJoin.liveTarget(of: port.spec, containers: facts.containers)
                let container = target.map { Container(name: $0.name, address: port.spec.childIP ?? "", port: port.spec.childPort, proxyPID: nil) }
                if let problem = facts.attributionProblem {
                    return RootlessKitForward(port: port, origin: .unknown, container: container, originProblem: problem)
                }
                return RootlessKitForward(port: port, origin: .live, container: container)
            }
        }
    }
}

/// What the Docker join of one RootlessKit instance needs, read now: its proxies (from `/proc`,
/// a few ms) and, for Docker rootless, its daemon's running containers (one request to the
/// daemon's own socket, about a millisecond, at most its timeout: for a command or an opened
/// pane, never for each refresh).
public struct DockerFacts: Sendable, Equatable {
    public var proxies: [DockerProxyProcess] = []
    public var containers: [DockerContainerAddress] = []
    /// Why a port no proxy registered cannot be called `live`: what runs under RootlessKit is
    /// unknown, a proxy's command line was refused, or Docker was not read; nil when every proxy was read.
    public var attributionProblem: String?
    /// Why the containers could not be named (the daemon did not answer or lied), or nil.
    public var namingProblem: String?

    public init(proxies: [DockerProxyProcess] = [], containers: [DockerContainerAddress] = [],
                attributionProblem: String? = nil, namingProblem: String? = nil) {
        self.proxies = proxies
        self.containers = containers
        self.attributionProblem = attributionProblem
        self.namingProblem = namingProblem
    }

    /// Both problems in one line, or nil.
    public var problem: String? {
        let both = [attributionProblem, namingProblem].compactMap { $0 }
        return both.isEmpty ? nil : both.joined(separator: "; ")
    }

    /// What is known of `kit` without reading Docker: nothing to read for a RootlessKit that runs
    /// something else (its ports are all `live`); for Docker rootless or an unknown child, the
    /// ports cannot be attributed (the count-only listing of the monitor's FWD column).
    public static func unread(_ kit: RootlessKitParent) -> DockerFacts {
        guard let child = kit.child else { return DockerFacts(attributionProblem: unknownChild) }
        guard child.kind == .docker else { return DockerFacts() }
        return DockerFacts(attributionProblem: "Docker's proxies were not read")
    }

    static let unknownChild = "what runs under rootlesskit is unknown, so its ports are not told Docker's from live ones"

    /// The facts of `kit`; empty for a RootlessKit without Docker.
    public static func of(_ kit: RootlessKitParent, procRoot: String = "/proc", timeout: Double = 2) -> DockerFacts {
        guard let child = kit.child else { return DockerFacts(attributionProblem: unknownChild) }
        guard child.kind == .docker else { return DockerFacts() }
        var facts = DockerFacts()
        let scan = DockerProxyProcess.scan(under: child.pid, procRoot: procRoot)
        facts.proxies = scan.proxies
        if !scan.refused.isEmpty {
            facts.attributionProblem = scan.refused.map(\.description).joined(separator: "; ")
        }
        if let socket = kit.dockerSocket, let dockerd = kit.dockerdPID {
            switch DockerContainerAddress.ask(dockerdPID: dockerd, socket: socket, timeout: timeout, procRoot: procRoot) {
            case .success(let containers): facts.containers = containers
            case .failure(let error): facts.namingProblem = error.description
            }
        } else {
            facts.namingProblem = "the daemon's socket or PID is unknown, so its containers are not named"
        }
        return facts
    }
}
