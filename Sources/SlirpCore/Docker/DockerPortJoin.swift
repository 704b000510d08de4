/// Joins a port RootlessKit forwards to the Docker container it serves.
///
/// Docker rootless registers each published port through `rootlesskit-docker-proxy` as
/// `{"proto":"tcp4","parentIP":"127.0.0.1","parentPort":P,"childPort":P,"childIP":"127.0.0.1"}`:
/// the container's address and port are not in RootlessKit's API, only in the proxies' command
/// lines. A port is Docker's when a `rootlesskit-docker-proxy` of the same instance has the same
/// protocol and address family, `-host-ip` = parentIP, `-host-port` = parentPort = childPort, and
/// its `docker-proxy` child (when seen) listens on childIP:childPort. Any other port was added
/// live (by `rootlessctl`, slirpmon or the API) and has no owner here.
public enum DockerPortJoin {
    /// The container side of a Docker port.
    public struct Owner: Sendable, Equatable, Codable {
        /// The `rootlesskit-docker-proxy` that registered the port.
        public let proxyPID: Int32
        public let containerIP: String
        public let containerPort: Int
        /// The container's name; nil when no container (or more than one) has `containerIP`.
        public let containerName: String?
    }

    /// The owner of `port` among `proxies` (one instance's, see `DockerProxyProcess.scan`) and
    /// `containers` (that instance's daemon's, see `DockerContainerAddress.ask`); nil for a port
    /// no proxy explains, or that two proxies claim (see `attribute`).
    public static func owner(of port: RootlessKitPortSpec, proxies: [DockerProxyProcess], containers: [DockerContainerAddress]) -> Owner? {
        if case .published(let owner) = attribute(port, proxies: proxies, containers: containers) { return owner }
        return nil
    }

    /// What the proxies say of a port.
    public enum Attribution: Sendable, Equatable {
        /// Exactly one proxy registered it.
        case published(Owner)
        /// More than one proxy matches (their PIDs): no guess is made.
        case ambiguous([Int32])
        /// No proxy matches.
        case none
    }

    /// Which proxy registered `port`, if one did: `owner`'s rule, telling "no proxy" from "two".
    public static func attribute(_ port: RootlessKitPortSpec, proxies: [DockerProxyProcess], containers: [DockerContainerAddress]) -> Attribution {
        guard let (base, family) = split(port.proto), port.childPort == port.parentPort,
              let parentIP = port.parentIP.flatMap(DockerProxyProcess.address) else { return .none }
        let childIP = port.childIP.flatMap(DockerProxyProcess.address)
        let candidates = proxies.filter { proxy in
            proxy.kind == .rootlessKitProxy && proxy.mapping.proto == base && proxy.mapping.hostIP == parentIP
                && proxy.mapping.hostPort == port.parentPort && (family == nil || proxy.mapping.isIPv6 == (family == 6))
        }
        // Its docker-proxy child, when seen, must listen where RootlessKit forwards to.
        let confirmed = candidates.filter { proxy in
            let children = proxies.filter { $0.kind == .dockerProxy && $0.parentPID == proxy.pid }
            return children.isEmpty || children.contains { child in
                child.mapping.hostPort == port.childPort && (childIP == nil || child.mapping.hostIP == childIP)
                    && child.mapping.containerIP == proxy.mapping.containerIP && child.mapping.containerPort == proxy.mapping.containerPort
            }
        }
        // Two proxies for one host address and port cannot both hold it: refuse to guess.
        if confirmed.count > 1 { return .ambiguous(confirmed.map(\.pid).sorted()) }
        guard let proxy = confirmed.first else { return .none }
        let named = containers.filter { $0.addresses.contains(proxy.mapping.containerIP) }
        return .published(Owner(proxyPID: proxy.pid, containerIP: proxy.mapping.containerIP, containerPort: proxy.mapping.containerPort,
                     containerName: named.count == 1 ? named.first?.name : nil))
    }

    /// The container a port added live points at: its `childIP` is that container's address
    /// (with the builtin driver RootlessKit dials it inside the namespace, e.g. `rootlessctl
    /// add-ports 127.0.0.1:18701:172.17.0.2:80/tcp`). nil for a port without childIP or with an
    /// address no single container has, which includes every Docker-registered port (their childIP
    /// is 127.0.0.1, ::1 or slirp's own address, never a container's).
    public static func liveTarget(of port: RootlessKitPortSpec, containers: [DockerContainerAddress]) -> DockerContainerAddress? {
        guard let childIP = port.childIP.flatMap(DockerProxyProcess.address) else { return nil }
        let named = containers.filter { $0.addresses.contains(childIP) }
        return named.count == 1 ? named.first : nil
    }

    /// `tcp4` -> (`tcp`, 4); `tcp` -> (`tcp`, nil); nil for anything else.
    static func split(_ proto: String) -> (String, Int?)? {
        for base in ["tcp", "udp", "sctp"] where proto.hasPrefix(base) {
            switch proto.dropFirst(base.count) {
            case "": return (base, nil)
            case "4": return (base, 4)
            case "6": return (base, 6)
            default: return nil
            }
        }
        return nil
    }
}
