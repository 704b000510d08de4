/// A rootless user's shared Podman network: the one slirp4netns Podman starts for the user's
/// rootless network namespace, through which every container of that user on a Podman network
/// (a bridge such as `cni-podman1`) reaches the outside. It has no container of its own, so no
/// container ID in its file names: it serves all of them.
///
/// Recognised by the namespace path Podman gives it (a claim anyone can make, like a container
/// ID in a file name), so it is joined only with the containers of the user it runs as:
/// a user's process that claims to be a rootless network shows that user's containers, never
/// another user's.
public struct RootlessNetwork: Sendable, Equatable {
    /// Where Podman keeps the rootless network namespace, by version (read from Podman's source).
    public enum Layout: String, Sendable, Codable {
        /// Podman 4 (`libpod/networking_linux.go`): `$XDG_RUNTIME_DIR/netns/rootless-netns-<hash>`,
        /// log `slirp4netns-rootless-netns.log`, pid file `rootless-netns/rootless-netns-slirp4netns.pid`
        /// in Podman's tmp dir.
        case podman4 = "podman4"
        /// Podman 5 (containers/common `libnetwork/internal/rootlessnetns`):
        /// `<run root>/networks/rootless-netns/rootless-netns`, with the run root
        /// `$XDG_RUNTIME_DIR/containers`, pid file `rootless-netns-conn.pid` beside it; slirp4netns
        /// only when `network.default_rootless_network_cmd = "slirp4netns"` (pasta otherwise, which
        /// is not slirp4netns). Recognised from the source; not run here.
        case podman5 = "podman5"
    }

    public let layout: Layout
    public let ownerUID: UInt32
    public let ownerName: String?
    /// The owner's running containers attached to it (on a Podman network, or sharing the network
    /// of one that is), as Podman reported them.
    public internal(set) var containers: [PodmanContainer]
    /// Container ID -> the rootlessport and rootlessport-child PIDs carrying its ports (those running
    /// in its network namespace, and their children).
    public internal(set) var carriers: [String: [Int32]] = [:]

    /// The layout `path` (a slirp4netns `--netns-type=path` target) is Podman's rootless network
    /// namespace in, or nil when it is not one.
    public static func layout(netnsPath path: String?) -> Layout? {
        guard let path, path.hasPrefix("/") else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let last = parts.last else { return nil }
        if last.hasPrefix("rootless-netns-"), parts.dropLast().last == "netns" { return .podman4 }
        if last == "rootless-netns", parts.dropLast().last == "rootless-netns" { return .podman5 }
        return nil
    }

    /// The layout of the rootless network `process` claims to serve, or nil.
    public static func claimed(by process: SlirpProcess) -> Layout? {
        process.configuration.targetPID == nil ? layout(netnsPath: process.configuration.netnsPath) : nil
    }

    /// The containers of `uid` among `containers` that reach the outside through that user's rootless
    /// network: running (or paused) on a Podman network (`NetworkMode` `bridge`, with an address on
    /// it), and those sharing the network namespace of one of them (`container:<ID>`, pod members).
    public static func attached(_ containers: [PodmanContainer], uid: UInt32) -> [PodmanContainer] {
        let mine = containers.filter { $0.ownerUID == uid && ($0.state == "running" || $0.state == "paused") }
        let onBridge = mine.filter { $0.networkMode == "bridge" && !$0.networks.isEmpty }
        let ids = Set(onBridge.map(\.id))
        let sharing = mine.filter { c in c.sharedNetworkContainerID.map { ids.contains($0) } ?? false }
        return onBridge + sharing
    }

    /// The namespace's own interfaces besides tap and lo (`NamespaceInterfaces`), when read (`show`, as root).
    public internal(set) var interfaces: [NamespaceInterfaces.Interface]?
    /// Why `interfaces` were not read, when they were asked for.
    public internal(set) var interfacesError: String?

    /// One network's bridge.
    public struct Bridge: Sendable, Equatable {
        public let network: String
        /// The bridge's address with prefix as Podman reports it (the network's gateway).
        public let address: String?
        /// The interface in the namespace holding that address (e.g. `cni-podman1`); nil when not read or none does.
        public let interface: String?
    }

    /// The bridges its containers are attached to: each network once.
    public var bridges: [Bridge] {
        var seen = Set<String>()
        return containers.flatMap(\.networks).filter { seen.insert($0.network).inserted }.map { n in
            let holder = n.gateway.flatMap { gateway in interfaces?.first { $0.ipv4.contains(gateway) }?.name }
            return Bridge(network: n.network, address: n.gateway, interface: holder)
        }
    }

    /// What an operator reads about it, as (label, text) lines: what it is, its bridges, and each
    /// container with its address, ports and the rootlessport carrying them (`show`, the monitor).
    public var describedLines: [(label: String, text: String)] {
        var lines: [(String, String)] = [
            ("network", "rootless network of \(ownerName ?? "uid \(ownerUID)"): Podman's shared network namespace for \(ownerName ?? "the user")'s containers on Podman networks (\(layout == .podman4 ? "Podman 4 layout" : "Podman 5 layout"))"),
        ]
        let bridges = self.bridges
        let source = interfaces != nil ? "interfaces seen in the namespace"
            : "addresses as Podman reports them; interfaces not read" + (interfacesError.map { ": \($0)" } ?? "")
        lines.append(("bridges", bridges.isEmpty ? "none (no running container on a Podman network)"
                        : bridges.map { b in
                            let address = b.address ?? "(no gateway address)"
                            guard interfaces != nil else { return "\(b.network) \(address)" }
                            return "\(b.network) \(b.interface.map { "\($0) \(address)" } ?? "\(address) (no interface in the namespace has it)")"
                        }.joined(separator: ", ") + "  (\(source))"))
        if containers.isEmpty { lines.append(("members", "none running")) }
        for c in containers {
            let addresses = c.networks.map { "\($0.network) \($0.address ?? "(no address)")" }.joined(separator: ", ")
            let ports = c.ports.isEmpty ? "no -p" : c.ports.map { "-p " + $0.flag }.joined(separator: " ")
            let pids = carriers[c.id] ?? []
            let carried = c.ports.isEmpty ? "" : pids.isEmpty ? ", carried by no rootlessport process found"
                : ", carried by rootlessport processes " + pids.map(String.init).joined(separator: ", ")
            lines.append(("member", "\(c.name) (\(c.shortID)) \(c.state), \(addresses.isEmpty ? "no address" : addresses), \(ports)\(carried)"))
        }
        return lines
    }

    /// "rootless-netns:USER": the name an operator knows it by.
    public var displayName: String { "rootless-netns:\(ownerName ?? String(ownerUID))" }
}
