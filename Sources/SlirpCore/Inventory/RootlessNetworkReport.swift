/// The JSON shape of a rootless user's shared Podman network (`rootless_network` of an instance).
public struct RootlessNetworkReport: Encodable, Sendable, Equatable {
    /// `podman4` or `podman5`: the namespace path layout it was recognised by.
    public var layout: String
    public var owner: String
    /// The containers attached to it, each with its address on each network and its `-p` ports.
    public var containers: [Member]
    /// The networks' bridges, each with its address as Podman reports it (the network's gateway).
    public var bridges: [Bridge]

    public struct Member: Encodable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var state: String
        public var networks: [PodmanNetworkAttachment]
        public var ports: [PodmanPort]
        /// rootlessport and rootlessport-child processes carrying its ports.
        public var rootlessportPIDs: [Int32]

        enum CodingKeys: String, CodingKey {
            case id, name, state, networks, ports
            case rootlessportPIDs = "rootlessport_pids"
        }
    }

    /// Why the namespace's interfaces were not read (`bridges[].interface` then null); null when read or not asked (`list`).
    @NullWhenAbsent public var interfacesError: String?

    public struct Bridge: Encodable, Sendable, Equatable {
        public var network: String
        /// As Podman reports it (the network's gateway), with prefix.
        @NullWhenAbsent public var address: String?
        /// The interface in the namespace holding it, when read (`show` as root).
        @NullWhenAbsent public var interface: String?
    }

    enum CodingKeys: String, CodingKey {
        case layout, owner, containers, bridges
        case interfacesError = "interfaces_error"
    }

    public init(_ network: RootlessNetwork) {
        layout = network.layout.rawValue
        owner = network.ownerName ?? String(network.ownerUID)
        containers = network.containers.map { Member(id: $0.id, name: $0.name, state: $0.state, networks: $0.networks, ports: $0.ports,
                                                  rootlessportPIDs: network.carriers[$0.id] ?? []) }
        bridges = network.bridges.map { Bridge(network: $0.network, address: $0.address, interface: $0.interface) }
        interfacesError = network.interfacesError
    }
}
