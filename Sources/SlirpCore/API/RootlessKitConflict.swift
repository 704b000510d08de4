/// Two RootlessKit ports that cannot both listen: the same protocol (`tcp` or `udp`) and parent
/// port, address families that meet (`tcp` is both, `tcp4` and `tcp6` are one each) and parent
/// addresses that meet (the same one, or either one unspecified: all addresses). RootlessKit's
/// own check catches only an identical spec (`conflict with ID N`); the others fail at bind
/// (`address already in use`), after the ports before them in a batch were added. A batch is
/// checked for both before anything is sent.
public struct RootlessKitConflict: Sendable, Equatable, CustomStringConvertible {
    /// The spec that cannot be added.
    public let spec: RootlessKitPortSpec
    /// What takes its parent port first: an earlier spec of the batch, or a port the instance has.
    public let holder: Holder

    public enum Holder: Sendable, Equatable {
        case spec(RootlessKitPortSpec)
        case port(RootlessKitPort)
    }

    public var description: String {
        switch holder {
        case .spec(let earlier): "\(spec.summary) and \(earlier.summary) both take \(spec.baseProtocol) port \(spec.parentPort)"
        case .port(let port): "\(spec.summary) takes \(spec.baseProtocol) port \(spec.parentPort), held by port \(port.id) (\(port.spec.summary))"
        }
    }

    /// `conflicts` named one by one, `; ` between them: the first `limit`, then how many more.
    public static func described(_ conflicts: [RootlessKitConflict], limit: Int) -> String {
        conflicts.prefix(limit).map(\.description).joined(separator: "; ")
            + (conflicts.count > limit ? "; and \(conflicts.count - limit) more" : "")
    }

    /// The conflicts of `specs` among themselves and with the `existing` ports, in the batch's order.
    public static func find(in specs: [RootlessKitPortSpec], existing: [RootlessKitPort] = []) -> [RootlessKitConflict] {
        var taken: [Key: [Holder]] = [:]
        for port in existing {
            taken[Key(port.spec), default: []].append(.port(port))
        }
        var conflicts: [RootlessKitConflict] = []
        for spec in specs {
            let key = Key(spec)
            if let holder = taken[key]?.first(where: { meets(spec, $0.spec) }) {
                conflicts.append(RootlessKitConflict(spec: spec, holder: holder))
            } else {
                taken[key, default: []].append(.spec(spec))
            }
        }
        return conflicts
    }

    private struct Key: Hashable {
        let proto: String
        let port: Int
        init(_ spec: RootlessKitPortSpec) {
            proto = spec.baseProtocol
            port = spec.parentPort
        }
    }

    /// True when both would listen on one address of one family.
    static func meets(_ a: RootlessKitPortSpec, _ b: RootlessKitPortSpec) -> Bool {
        guard !a.families.isDisjoint(with: b.families) else { return false }
        guard let x = a.parentIP.flatMap(DockerProxyProcess.address), let y = b.parentIP.flatMap(DockerProxyProcess.address) else {
            return true // all addresses, or one a hostile peer wrote that is no address: counted as taking the port
        }
        return x == y || x == "0.0.0.0" || x == "::" || y == "0.0.0.0" || y == "::"
    }
}

extension RootlessKitConflict.Holder {
    var spec: RootlessKitPortSpec {
        switch self {
        case .spec(let spec): spec
        case .port(let port): port.spec
        }
    }
}

extension RootlessKitPortSpec {
    /// `tcp` or `udp` (`tcp4` -> `tcp`), as the kernel's port space is split.
    public var baseProtocol: String { proto.hasPrefix("udp") ? "udp" : proto.hasPrefix("tcp") ? "tcp" : proto }

    /// The address families it listens on: `tcp4` 4, `tcp6` 6; `tcp` those of its parent address, or both.
    var families: Set<Int> {
        if proto.hasSuffix("4") { return [4] }
        if proto.hasSuffix("6") { return [6] }
        guard let parentIP, let address = DockerProxyProcess.address(parentIP) else { return [4, 6] }
        return IPv4Address(address) != nil ? [4] : [6]
    }

    /// `tcp4 127.0.0.1:8080 -> 172.17.0.2:80`; `*` for all parent addresses, the child's own address without childIP.
    public var summary: String {
        "\(proto) \(Format.hostPort(parentIP ?? "*", parentPort)) -> \(childIP.map { Format.hostPort($0, childPort) } ?? ":\(childPort)")"
    }

    /// The mapping in Docker's `-p` syntax (`127.0.0.1:8080:80/udp`, `[::1]:8080:80`): what makes a
    /// port added live to a container's address part of the container (`docker run -p`).
    public var dockerPublishArgument: String {
        var text = parentIP.map { (IPv4Address($0) != nil ? $0 : "[\($0)]") + ":" } ?? ""
        text += "\(parentPort):\(childPort)"
        return baseProtocol == "udp" ? text + "/udp" : text
    }

}
