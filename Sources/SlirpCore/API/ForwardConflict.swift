/// Two forwards that cannot both exist: the same protocol and host port, on the same host
/// address or with either one on 0.0.0.0 (in either order). slirp4netns refuses the second
/// (`slirp_add_hostfwd failed`: its bind fails), TCP and UDP alike. A batch is checked for these
/// before anything is sent, so that a conflict cannot leave half of it added.
public struct ForwardConflict: Sendable, Equatable, CustomStringConvertible {
    /// The request that cannot be added.
    public let request: ForwardRequest
    /// What takes its host port first: an earlier request of the batch, or an existing forward.
    public let holder: Holder

    public enum Holder: Sendable, Equatable {
        case request(ForwardRequest)
        case forward(HostForward)
    }

    public var description: String {
        let port = "\(request.proto.rawValue) port \(request.hostPort)"
        switch holder {
        case .request(let earlier):
            return "\(request.summary) and \(earlier.summary) both take \(port)\(Self.on(request.hostAddr, earlier.hostAddr))"
        case .forward(let forward):
            return "\(request.summary) takes \(port), held by forward \(forward.id) (\(forward.summary))"
        }
    }

    /// `conflicts` named one by one, `; ` between them: the first `limit`, then how many more
    /// (the CLI and the monitor say them alike, each with the room it has).
    public static func described(_ conflicts: [ForwardConflict], limit: Int) -> String {
        conflicts.prefix(limit).map(\.description).joined(separator: "; ")
            + (conflicts.count > limit ? "; and \(conflicts.count - limit) more" : "")
    }

    private static func on(_ a: IPv4Address, _ b: IPv4Address) -> String {
        a == b ? " on \(a)" : " (\(a.isUnspecified ? a : b) covers every address)"
    }

    /// The conflicts of `requests` among themselves and with `existing` forwards, in the batch's
    /// order; empty when every request can be added. Linear in the batch and the list.
    public static func find(in requests: [ForwardRequest], existing: [HostForward] = []) -> [ForwardConflict] {
        // Per protocol and port: what holds it (a port taken on 0.0.0.0 and on one address at
        // once cannot happen, but a list from a hostile peer may say so: the first is named).
        var taken: [Key: [Holder]] = [:]
        for forward in existing {
            taken[Key(proto: forward.proto, port: forward.hostPort), default: []].append(.forward(forward))
        }
        var conflicts: [ForwardConflict] = []
        for request in requests {
            let key = Key(proto: request.proto, port: Int(request.hostPort.value))
            if let holder = taken[key]?.first(where: { overlaps(request.hostAddr, $0) }) {
                conflicts.append(ForwardConflict(request: request, holder: holder))
            } else {
                taken[key, default: []].append(.request(request))
            }
        }
        return conflicts
    }

    private struct Key: Hashable {
        let proto: ForwardProtocol
        let port: Int
    }

    private static func overlaps(_ address: IPv4Address, _ holder: Holder) -> Bool {
        switch holder {
        case .request(let other):
            return address.isUnspecified || other.hostAddr.isUnspecified || address == other.hostAddr
        case .forward(let forward):
            // An address the list gives that is not IPv4 text is compared as text.
            guard let other = IPv4Address(forward.hostAddr) else { return address.isUnspecified || address.description == forward.hostAddr }
            return address.isUnspecified || other.isUnspecified || address == other
        }
    }
}
