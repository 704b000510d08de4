/// A port mapping in Podman's `-p` syntax, `[HOSTIP:]HOSTPORT[-END]:CONTAINERPORT[-END][/tcp|/udp|/tcp,udp]`,
/// expanded into validated `add_hostfwd` requests (one per port and protocol).
public struct PortMapping: Sendable, Equatable {
    public let hostAddr: IPv4Address
    public let hostPorts: ClosedRange<Int>
    public let guestPorts: ClosedRange<Int>
    public let protocols: [ForwardProtocol]

    /// Why a mapping was refused; nothing is sent for a refused mapping.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Parses `text`; `guestAddr` is not part of the syntax (see `requests(guestAddr:)`).
    public static func parse(_ text: String) throws(ParseError) -> PortMapping {
        func fail(_ message: String) -> ParseError { ParseError(message: "invalid port mapping \(goQuoted(abbreviated(text))): \(message)") }
        guard !text.isEmpty else { throw fail("empty") }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw fail("only printable ASCII without spaces is allowed")
        }
        var body = Substring(text)
        var protocols: [ForwardProtocol] = [.tcp]
        if let slash = body.firstIndex(of: "/") {
            let names = body[body.index(after: slash)...].split(separator: ",", omittingEmptySubsequences: false)
            var parsed: [ForwardProtocol] = []
            for name in names {
                guard let proto = ForwardProtocol(rawValue: name.lowercased()) else {
                    throw fail("protocol \(goQuoted(abbreviated(String(name)))) is not tcp or udp (slirp4netns forwards only those)")
                }
                if !parsed.contains(proto) { parsed.append(proto) }
            }
            protocols = parsed
            body = body[..<slash]
        }
        if body.hasPrefix("[") {
            let host = body.dropFirst().prefix { $0 != "]" }
            throw fail(PortConflict.ipv6HostAddress(abbreviated(String(host))).sentence)
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        var hostAddr = IPv4Address(0)
        let hostText: Substring, guestText: Substring
        switch parts.count {
        case 1:
            throw fail("a host port is required (HOSTPORT:CONTAINERPORT): slirp4netns cannot pick one")
        case 2:
            (hostText, guestText) = (parts[0], parts[1])
        case 3:
            if !parts[0].isEmpty {
                guard let address = IPv4Address(parts[0]) else {
                    throw fail("host address \(goQuoted(abbreviated(String(parts[0])))) is not an IPv4 address (the slirp4netns API takes IPv4 only, no hostnames)")
                }
                hostAddr = address
            }
            (hostText, guestText) = (parts[1], parts[2])
        default:
            let host = parts.dropLast(2).joined(separator: ":")
            if IPv6Address(host) != nil {
                throw fail(PortConflict.ipv6HostAddress(abbreviated(host)).sentence)
            }
            throw fail("too many ':'-separated parts: expected [HOSTIP:]HOSTPORT:CONTAINERPORT")
        }
        guard !hostText.isEmpty else { throw fail("a host port is required: slirp4netns cannot pick one") }
        let hostPorts = try range(hostText, what: "host port", fail: fail)
        let guestPorts = try range(guestText, what: "container port", fail: fail)
        guard hostPorts.count == guestPorts.count else {
            throw fail("host range \(hostPorts.lowerBound)-\(hostPorts.upperBound) has \(hostPorts.count) ports but container range \(guestPorts.lowerBound)-\(guestPorts.upperBound) has \(guestPorts.count): they must be the same length")
        }
        return PortMapping(hostAddr: hostAddr, hostPorts: hostPorts, guestPorts: guestPorts, protocols: protocols)
    }

    /// `PORT` or `PORT-END` of ports 1-65535 (`what` names it in the error).
    static func range(_ text: Substring, what: String, fail: (String) -> ParseError) throws(ParseError) -> ClosedRange<Int> {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count <= 2, ends.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 5 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else {
            throw fail("\(what) \(goQuoted(abbreviated(String(text)))) is not a port or a range PORT-END of ports 1-65535")
        }
        let low = Int(ends[0]) ?? 0
        let high = ends.count == 2 ? Int(ends[1]) ?? 0 : low
        for port in [low, high] where !(1...65535).contains(port) {
            throw fail("\(what) \(port) is out of range: ports are 1-65535")
        }
        guard low <= high else { throw fail("\(what) range \(low)-\(high) is reversed: write \(high)-\(low)") }
        return low...high
    }

    /// The number of `add_hostfwd` requests this mapping expands to.
    public var requestCount: Int { hostPorts.count * protocols.count }

    /// One validated request per protocol and port, in order.
    public func requests(guestAddr: IPv4Address? = nil) -> [ForwardRequest] {
        var result: [ForwardRequest] = []
        result.reserveCapacity(requestCount)
        for proto in protocols {
            for i in 0..<hostPorts.count {
                guard let host = Port(hostPorts.lowerBound + i), let guest = Port(guestPorts.lowerBound + i) else { continue }
                result.append(ForwardRequest(proto: proto, hostAddr: hostAddr, hostPort: host, guestAddr: guestAddr, guestPort: guest))
            }
        }
        return result
    }
}

/// At most `limit` characters of `text`, for quoting outside input in messages.
func abbreviated(_ text: String, limit: Int = 40) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + "..."
}
