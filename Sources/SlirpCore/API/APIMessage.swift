/// The JSON of the slirp4netns API: requests out, replies in.
///
/// Requests are built only from validated values, so every byte sent is known
/// good. Replies are decoded leniently: `list_hostfwd` answers `{"entries":[...]}`
/// (slirp4netns 1.2) or `{"return":{"entries":[...]}}` (its man page); both are read.
public enum APIMessage {
    /// slirp4netns rejects requests of 4096 bytes or more.
    public static let maximumRequestBytes = 4095

    public static func listRequest() -> [UInt8] { Array(#"{"execute":"list_hostfwd"}"#.utf8) + [10] }

    public static func addRequest(_ request: ForwardRequest) -> [UInt8] {
        var args = #"{"proto":"\#(request.proto.rawValue)","host_addr":"\#(request.hostAddr)","host_port":\#(request.hostPort.value)"#
        if let guest = request.guestAddr { args += #","guest_addr":"\#(guest)""# }
        args += #","guest_port":\#(request.guestPort.value)}"#
        return Array(#"{"execute":"add_hostfwd","arguments":\#(args)}"#.utf8) + [10]
    }

    public static func removeRequest(id: Int) -> [UInt8] {
        Array(#"{"execute":"remove_hostfwd","arguments":{"id":\#(id)}}"#.utf8) + [10]
    }

    /// A reply, classified.
    public enum Reply: Equatable, Sendable {
        case entries([HostForward])
        case added(id: Int)
        case done
        case error(String)
    }

    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        case notJSON(excerpt: String)
        case unexpectedShape(excerpt: String)
        case empty

        public var description: String {
            switch self {
            case .empty: "slirp4netns closed the connection without a reply"
            case .notJSON(let excerpt): "the reply is not JSON: \(excerpt)"
            case .unexpectedShape(let excerpt): "the reply is JSON of an unexpected shape: \(excerpt)"
            }
        }
    }

    /// Decodes a reply body.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Reply {
        if let entries = quickEntries(bytes) { return .entries(entries) }
        return try decodeWhole(bytes)
    }

    /// Decodes a reply body through a whole JSON tree, without trying the quick reader of the
    /// everyday list first (`decode` does): the two must agree (tests and the fuzzer compare them).
    public static func decodeWhole(_ bytes: [UInt8]) throws(DecodeError) -> Reply {
        let trimmed = bytes.drop(while: { $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 })
        guard !trimmed.isEmpty else { throw .empty }
        var excerpt: String { printable(String(decoding: bytes.prefix(200), as: UTF8.self)) } // only for an error
        let top: JSONValue
        do { top = try JSONValue.parse(bytes) } catch { throw .notJSON(excerpt: excerpt) }
        guard case .object = top else { throw .unexpectedShape(excerpt: excerpt) }
        if let error = top["error"] {
            if let desc = error["desc"]?.string { return .error(printable(desc)) }
            return .error(printable(error.compactDescription))
        }
        if let entries = top["entries"] { return .entries(try forwards(entries, excerpt: excerpt)) }
        if let ret = top["return"], case .object(let members) = ret {
            if let entries = ret["entries"] { return .entries(try forwards(entries, excerpt: excerpt)) }
            if let id = ret["id"]?.integer { return .added(id: id) }
            if members.isEmpty { return .done }
        }
        throw .unexpectedShape(excerpt: excerpt)
    }

    private static func forwards(_ value: JSONValue, excerpt: @autoclosure () -> String) throws(DecodeError) -> [HostForward] {
        guard case .array(let list) = value else { throw .unexpectedShape(excerpt: excerpt()) }
        var result: [HostForward] = []
        result.reserveCapacity(list.count)
        for e in list {
            guard case .object = e, let id = e["id"]?.integer,
                  let proto = e["proto"]?.string.flatMap(ForwardProtocol.init(rawValue:)),
                  let hostPort = e["host_port"]?.integer, let guestPort = e["guest_port"]?.integer
            else { throw .unexpectedShape(excerpt: excerpt()) }
            result.append(HostForward(id: id, proto: proto, hostAddr: printable(e["host_addr"]?.string ?? ""),
                                      hostPort: hostPort, guestAddr: printable(e["guest_addr"]?.string ?? ""), guestPort: guestPort))
        }
        return result
    }

    /// `text` from the peer as one line safe for a terminal (`TerminalText`): a reply is printed
    /// on the operator's terminal, and must not move its cursor, retitle it or clear it.
    static func printable(_ text: String) -> String { TerminalText.escaping(text, as: .line) }
}
