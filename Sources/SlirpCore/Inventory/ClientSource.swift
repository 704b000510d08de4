/// What a client's address looks like inside an instance's namespace, from the port handler that
/// really carries its forwarded ports: `show`'s `clients:` line, its `client_source` key, and
/// the monitor's details pane.
///
/// Measured on this kind of machine (Podman 4.3.1, slirp4netns 1.2.0, RootlessKit 1.1.0; a
/// listener in the namespace recording its peer, clients on 127.0.0.1 and on the host's own
/// non-loopback address; `ClientSourceTests`):
/// - Podman's default handler, rootlessport: every client appears as the container's own address
///   (10.0.2.100, the guest address of its cidr), because rootlessport-child dials the guest
///   address from inside the namespace. On a user-defined rootless network: the container's own
///   address on that network (10.89.0.2).
/// - slirp4netns's own forwards (`port_handler=slirp4netns`, a hand-started instance's API, the
///   RootlessKit slirp4netns port driver): the real source; a client on the host's loopback
///   appears as the gateway (10.0.2.2), libslirp's rewrite of 127.0.0.0/8.
/// - RootlessKit's builtin port driver: 127.0.0.1 (its child dials the port's child IP, 127.0.0.1
///   when none was given; with one, the namespace's own address toward it). Docker rootless's
///   containers, behind docker-proxy, see its bridge address (172.17.0.1); with the slirp4netns
///   port driver and `-p P:PORT` they see the real source.
///
/// The handler is taken from evidence, never from a default: an API socket on slirp4netns's
/// command line (Podman passes one only for `port_handler=slirp4netns` with ports), a rootlessport
/// process holding the namespace, RootlessKit's `--port-driver`. Without evidence it is `unknown`.
public struct ClientSource: Sendable, Equatable, Encodable {
    /// The port handler that carries the forwarded ports.
    public enum Handler: String, Sendable, Equatable, Encodable {
        case rootlessport
        case slirp4netns
        case rootlesskitBuiltin = "rootlesskit-builtin"
        case rootlesskitSlirp4netns = "rootlesskit-slirp4netns"
        /// Nothing is forwarded (no ports, no API socket, or the process has exited).
        case none
        case unknown
    }

    public var handler: Handler
    /// The address every client appears as, for a handler that rewrites it; nil when the real source
    /// is kept, or nothing is forwarded, or unknown.
    @NullWhenAbsent public var appearsAs: String?
    /// True when the real source is kept, false when rewritten; nil when nothing is forwarded or unknown.
    @NullWhenAbsent public var sourceKept: Bool?
    /// What a client on the host's loopback appears as, for a handler that keeps the real source.
    @NullWhenAbsent public var loopbackAppearsAs: String?
    /// How the handler is known (or why not).
    public var evidence: String
    /// The line an operator reads: "clients appear as ADDRESS (HANDLER): CONSEQUENCE".
    public var line: String

    enum CodingKeys: String, CodingKey {
        case handler, evidence, line
        case appearsAs = "appears_as"
        case sourceKept = "source_kept"
        case loopbackAppearsAs = "loopback_appears_as"
    }

    /// The facts it is derived from, as both `SlirpInstance` and the monitor's snapshot have them.
    public struct Facts: Sendable {
        public var configurationKnown: Bool
        public var exited: Bool
        public var guest: String?
        public var gateway: String?
        public var apiSocket: String?
        public var container: PodmanContainer?
        public var rootlessPorts: [RootlessPortProcess]
        public var rootlessNetwork: RootlessNetwork?
        public var rootlessKit: RootlessKitParent?

        public init(configurationKnown: Bool, exited: Bool, guest: String?, gateway: String?, apiSocket: String?,
                    container: PodmanContainer?, rootlessPorts: [RootlessPortProcess], rootlessNetwork: RootlessNetwork?,
                    rootlessKit: RootlessKitParent?) {
            self.configurationKnown = configurationKnown
            self.exited = exited
            self.guest = guest
            self.gateway = gateway
            self.apiSocket = apiSocket
            self.container = container
            self.rootlessPorts = rootlessPorts
            self.rootlessNetwork = rootlessNetwork
            self.rootlessKit = rootlessKit
        }
    }

    /// The cost of keeping the real source, said once for every handler that rewrites it.
    static let slirpCost = "slower: slirp4netns carries every byte; IPv4 host addresses only"

    /// Derives it from `facts`.
    public static func of(_ facts: Facts) -> ClientSource {
        guard !facts.exited else {
            return none("the process has exited", "nothing is forwarded: slirp4netns has exited")
        }
        guard facts.configurationKnown else {
            return unknown("its command line is gone", "how its ports were forwarded cannot be told: its command line is gone")
        }
        let gateway = facts.gateway ?? "the gateway (the cidr's .2)"
        if let kit = facts.rootlessKit {
            let evidence = "rootlesskit pid \(kit.pid) runs with --port-driver=\(kit.portDriver)"
            let dockerFix = kit.child?.kind == .docker ? " (Docker rootless: DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=slirp4netns)" : ""
            // Measured: docker-proxy relays again inside, so a container sees the proxy's bridge address.
            let dockerProxy = kit.child?.kind == .docker ? "; Docker's containers see docker-proxy's address on their bridge (172.17.0.1 on the default bridge)" : ""
            switch kit.portDriver {
            case "builtin":
                return ClientSource(handler: .rootlesskitBuiltin, appearsAs: "127.0.0.1", sourceKept: false, loopbackAppearsAs: nil, evidence: evidence,
                                    line: "clients appear as 127.0.0.1 (RootlessKit builtin port driver): its child dials each port's child IP inside the namespace (127.0.0.1 when none was given), so every client looks local and an allow-list by source address sees only 127.0.0.1\(dockerProxy); real source: --port-driver=slirp4netns\(dockerFix) (\(slirpCost))")
            case "slirp4netns":
                return kept(.rootlesskitSlirp4netns, "RootlessKit slirp4netns port driver", gateway: gateway, evidence: evidence)
            case "none":
                return none(evidence, "no forwarded ports: RootlessKit runs with no port driver (--port-driver=none, its default)")
            default:
                return unknown(evidence, "RootlessKit's port driver \(kit.portDriver) is not one slirpmon knows")
            }
        }
        if let network = facts.rootlessNetwork {
            let published = network.containers.filter { !$0.ports.isEmpty }
            guard !published.isEmpty else {
                return none("no container on the network publishes a port", "no forwarded ports: no container on the rootless network publishes one (-p)")
            }
            let carried = published.filter { !(network.carriers[$0.id] ?? []).isEmpty }
            guard !carried.isEmpty else {
                return unknown("containers publish ports, but no rootlessport process carrying them was found",
                               "its containers publish ports, but no rootlessport process carrying them was found")
            }
            let own = carried.map { c in "\(c.name) \(c.networks.compactMap { $0.address.map(Self.withoutPrefix) }.first ?? "(no address)")" }
            return ClientSource(handler: .rootlessport, appearsAs: nil, sourceKept: false, loopbackAppearsAs: nil,
                                evidence: "rootlessport processes " + carried.flatMap { network.carriers[$0.id] ?? [] }.map(String.init).joined(separator: ", "),
                                line: "clients appear as each container's own address on its network (\(own.joined(separator: ", "))) (rootlessport, the only port handler of Podman's rootless networks): an allow-list by source address in a container sees only that address and its logs lose the client (Podman #10884); real source: run it with --network slirp4netns:port_handler=slirp4netns instead (\(slirpCost))")
        }
        if let container = facts.container {
            if facts.apiSocket != nil {
                return kept(.slirp4netns, "slirp4netns port handler", gateway: gateway,
                            evidence: "slirp4netns runs with --api-socket: Podman passes it only for port_handler=slirp4netns with ports")
            }
            if !facts.rootlessPorts.isEmpty {
                let guest = facts.guest ?? "the container's own address (the cidr's .100)"
                return ClientSource(handler: .rootlessport, appearsAs: facts.guest, sourceKept: false, loopbackAppearsAs: nil,
                                    evidence: "rootlessport processes " + facts.rootlessPorts.map { String($0.pid) }.joined(separator: ", ") + " hold its namespace",
                                    line: "clients appear as \(guest) (rootlessport, Podman's port_handler=rootlesskit): every client, local or remote, comes from the container's own address, so an allow-list by source address in the container sees only \(guest) and its logs lose the client (Podman #5138, #10884); real source: --network slirp4netns:port_handler=slirp4netns (\(slirpCost))")
            }
            if container.ports.isEmpty {
                return none("the container publishes no port (-p)", "no forwarded ports: the container publishes none (-p)")
            }
            return unknown("the container publishes ports, but slirp4netns has no --api-socket and no rootlessport process holds its namespace",
                           "its ports are carried by neither slirp4netns (no --api-socket) nor a rootlessport process found")
        }
        if facts.apiSocket != nil {
            return kept(.slirp4netns, "slirp4netns API forwards", gateway: gateway,
                        evidence: "slirp4netns runs with --api-socket: its forwards are its own (add_hostfwd)")
        }
        if !facts.rootlessPorts.isEmpty {
            return unknown("rootlessport processes hold its namespace, but its container is not known",
                           "rootlessport processes hold its namespace, but its container (and so its address) is not known")
        }
        return none("slirp4netns runs without --api-socket", "no forwarded ports: slirp4netns was started without --api-socket, the only way it forwards one")
    }

    /// A handler that keeps the real source; loopback clients appear as the gateway.
    static func kept(_ handler: Handler, _ name: String, gateway: String, evidence: String) -> ClientSource {
        ClientSource(handler: handler, appearsAs: nil, sourceKept: true, loopbackAppearsAs: gateway, evidence: evidence,
                     line: "clients appear as their real address (\(name)); a loopback client as \(gateway), the gateway: an allow-list by source address works, but all host-local clients share \(gateway)")
    }

    static func none(_ evidence: String, _ text: String) -> ClientSource {
        ClientSource(handler: .none, appearsAs: nil, sourceKept: nil, loopbackAppearsAs: nil, evidence: evidence, line: "clients: none (\(text))")
    }

    static func unknown(_ evidence: String, _ text: String) -> ClientSource {
        ClientSource(handler: .unknown, appearsAs: nil, sourceKept: nil, loopbackAppearsAs: nil, evidence: evidence,
                     line: "clients appear as unknown (port handler unknown): \(text)")
    }

    static func withoutPrefix(_ address: String) -> String {
        address.split(separator: "/").first.map(String.init) ?? address
    }
}

extension SlirpInstance {
    /// What a client's address looks like inside it (`ClientSource`).
    public var clientSource: ClientSource {
        let known = process.configurationSource.isKnown
        return ClientSource.of(.init(configurationKnown: known, exited: process.isZombie,
                                     guest: known ? expected.guestText : nil, gateway: known ? expected.gatewayText : nil,
                                     apiSocket: apiSocket, container: container, rootlessPorts: rootlessPorts,
                                     rootlessNetwork: rootlessNetwork, rootlessKit: rootlessKit))
    }
}
