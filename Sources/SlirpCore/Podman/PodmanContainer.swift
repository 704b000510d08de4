/// A Podman container as `podman ps` and `podman inspect` describe it.
public struct PodmanContainer: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var image: String
    /// Podman's state word: `running`, `created`, `exited`, `paused`, ...
    public var state: String
    /// The container's main process (0 when not running).
    public var pid: Int32
    public var podID: String?
    public var podName: String?
    public var isInfra: Bool
    /// Ports configured with `-p` (for a pod member: the pod's).
    public var ports: [PodmanPort]
    /// The command that created it (`Config.CreateCommand`).
    public var createCommand: [String]
    /// `HostConfig.NetworkMode`: `slirp4netns`, `container:<ID>`, `bridge`, ...
    public var networkMode: String
    /// The uid whose Podman reported it, and that user's name.
    public var ownerUID: UInt32
    public var ownerName: String?
    /// `NetworkSettings.SandboxKey`: the network namespace file Podman made for it (empty or nil when none).
    public var sandboxKey: String?
    /// `NetworkSettings.Networks`: the Podman networks (bridges) it is attached to, with its address on each.
    public var networks: [PodmanNetworkAttachment] = []

    public init(id: String, name: String, image: String, state: String, pid: Int32, podID: String?, podName: String?,
                isInfra: Bool, ports: [PodmanPort], createCommand: [String], networkMode: String, ownerUID: UInt32, ownerName: String?,
                sandboxKey: String? = nil, networks: [PodmanNetworkAttachment] = []) {
        self.id = id
        self.name = name
        self.image = image
        self.state = state
        self.pid = pid
        self.podID = podID
        self.podName = podName
        self.isInfra = isInfra
        self.ports = ports
        self.createCommand = createCommand
        self.networkMode = networkMode
        self.ownerUID = ownerUID
        self.ownerName = ownerName
        self.sandboxKey = sandboxKey
        self.networks = networks
    }

    public var shortID: String { Format.shortID(id) }
    public var isRunning: Bool { state == "running" }
    /// True when the container has its own slirp4netns (not a pod member sharing the infra's).
    public var usesSlirp4netns: Bool { networkMode == "slirp4netns" }
    /// The infra container whose network a pod member shares (`container:<ID>`).
    public var sharedNetworkContainerID: String? {
        networkMode.hasPrefix("container:") ? String(networkMode.dropFirst("container:".count)) : nil
    }

    /// The `slirp4netns:OPTIONS` given at creation (`--network`, `--net`, `--network=`), split.
    public var networkOptions: [String] { Self.networkOptions(inCreateCommand: createCommand) }

    /// `slirp4netns` (API socket) or `rootlesskit` (Podman's default), from the create-time options.
    public var portHandler: String {
        networkOptions.last { $0.hasPrefix("port_handler=") }.map { String($0.dropFirst("port_handler=".count)) } ?? "rootlesskit"
    }

    /// The forwards among `forwards` that no configured `-p` covers: lost when the container restarts.
    public func unpersisted(_ forwards: [HostForward]) -> [HostForward] {
        forwards.filter { forward in !ports.contains { $0.covers(forward) } }
    }

    /// Extracts the slirp4netns options from a `podman run/create/pod create` command line.
    public static func networkOptions(inCreateCommand command: [String]) -> [String] {
        ContainerNetworkOptions.slirpOptions(createCommand: command) ?? []
    }
}

/// A container's place on one Podman network (`NetworkSettings.Networks.NAME` of `podman inspect`):
/// its address on the network's bridge and the bridge's own address, as Podman reports them.
public struct PodmanNetworkAttachment: Sendable, Equatable, Codable, Hashable {
    public var network: String
    /// The container's address with its prefix, e.g. `10.89.0.2/24`; nil when Podman gave none.
    @NullWhenAbsent public var address: String?
    /// The bridge's address (the network's gateway) with the prefix, e.g. `10.89.0.1/24`; nil when none.
    @NullWhenAbsent public var gateway: String?

    public init(network: String, address: String?, gateway: String?) {
        self.network = network
        self.address = address
        self.gateway = gateway
    }
}

/// One `-p` mapping as Podman stores it.
public struct PodmanPort: Sendable, Equatable, Codable, Hashable {
    public var hostIP: String
    public var hostPort: Int
    public var containerPort: Int
    public var range: Int
    public var proto: String

    public init(hostIP: String, hostPort: Int, containerPort: Int, range: Int, proto: String) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.range = max(1, range)
        self.proto = proto
    }

    enum CodingKeys: String, CodingKey {
        case hostIP = "host_ip", hostPort = "host_port", containerPort = "container_port", range, proto = "protocol"
    }

    /// True when this mapping covers `forward` (same protocol, ports in range, same or wildcard host address).
    public func covers(_ forward: HostForward) -> Bool {
        guard proto.split(separator: ",").contains(Substring(forward.proto.rawValue)) else { return false }
        let offset = forward.hostPort - hostPort
        guard offset >= 0, offset < range, forward.guestPort == containerPort + offset else { return false }
        let host = hostIP.isEmpty ? "0.0.0.0" : hostIP
        return host == forward.hostAddr
    }

    /// `127.0.0.1:8080:80/tcp` (ranges as `8080-8081:80-81`).
    public var flag: String {
        let host = hostIP.isEmpty ? "" : "\(hostIP):"
        if range > 1 {
            return "\(host)\(hostPort)-\(hostPort + range - 1):\(containerPort)-\(containerPort + range - 1)/\(proto)"
        }
        return "\(host)\(hostPort):\(containerPort)/\(proto)"
    }
}
