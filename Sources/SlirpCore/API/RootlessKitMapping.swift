/// A port mapping for a RootlessKit instance, in Podman's `-p` syntax with what RootlessKit's API
/// adds: `[HOSTIP:]HOSTPORT[-END]:CONTAINERPORT[-END][/PROTO[,PROTO]]`, where HOSTIP is IPv4 or
/// `[IPv6]` and PROTO is `tcp`, `udp`, `tcp4`, `tcp6`, `udp4` or `udp6`. Expanded into one
/// `RootlessKitPortSpec` per port and protocol, each checked before anything is sent.
public enum RootlessKitMapping {
    /// The specs `text` stands for; `childIP` (IPv4 or IPv6, nil: RootlessKit's default, the
    /// child's own address) is not part of the syntax. Without HOSTIP the port listens on every
    /// address (RootlessKit's `*`), as Podman's and Docker's `-p 8080:80` do.
    public static func parse(_ text: String, childIP: String? = nil) throws(PortMapping.ParseError) -> [RootlessKitPortSpec] {
        func fail(_ message: String) -> PortMapping.ParseError {
            PortMapping.ParseError(message: "invalid port mapping \(goQuoted(abbreviated(text))): \(message)")
        }
        guard !text.isEmpty else { throw fail("empty") }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw fail("only printable ASCII without spaces is allowed")
        }
        var body = Substring(text)
        var protocols = ["tcp"]
        if let slash = body.firstIndex(of: "/") {
            protocols = []
            for name in body[body.index(after: slash)...].split(separator: ",", omittingEmptySubsequences: false) {
                let proto = name.lowercased()
                guard RootlessKitPortSpec.protocols.contains(proto) else {
                    throw fail("protocol \(goQuoted(abbreviated(String(name)))) is not one RootlessKit forwards (\(RootlessKitPortSpec.protocols.joined(separator: ", ")))")
                }
                if !protocols.contains(proto) { protocols.append(proto) }
            }
            body = body[..<slash]
        }
        var parentIP: String?
        if body.hasPrefix("[") {
            guard let close = body.firstIndex(of: "]"), body[body.index(after: close)...].hasPrefix(":") else {
                throw fail("an IPv6 host address is written [ADDRESS]:HOSTPORT:CONTAINERPORT")
            }
            let host = body[body.index(after: body.startIndex)..<close]
            guard let address = IPv6Address(host) else { throw fail("host address \(goQuoted(abbreviated(String(host)))) is not an IPv6 address") }
            parentIP = address.description
            body = body[body.index(close, offsetBy: 2)...]
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        let hostText: Substring, guestText: Substring
        switch parts.count {
        case 1:
            throw fail("a host port is required (HOSTPORT:CONTAINERPORT)")
        case 2:
            (hostText, guestText) = (parts[0], parts[1])
        case 3 where parentIP == nil:
            if !parts[0].isEmpty {
                guard let address = IPv4Address(parts[0]) else {
                    throw fail("host address \(goQuoted(abbreviated(String(parts[0])))) is not an IPv4 address (an IPv6 one goes in brackets: [::1]:8080:80; no hostnames)")
                }
                parentIP = address.description
            }
            (hostText, guestText) = (parts[1], parts[2])
        default:
            throw fail("too many ':'-separated parts: expected [HOSTIP:]HOSTPORT:CONTAINERPORT (an IPv6 HOSTIP in brackets)")
        }
        guard !hostText.isEmpty else { throw fail("a host port is required") }
        let hostPorts = try PortMapping.range(hostText, what: "host port", fail: fail)
        let guestPorts = try PortMapping.range(guestText, what: "container port", fail: fail)
        guard hostPorts.count == guestPorts.count else {
            throw fail("host range \(hostPorts.lowerBound)-\(hostPorts.upperBound) has \(hostPorts.count) ports but container range \(guestPorts.lowerBound)-\(guestPorts.upperBound) has \(guestPorts.count): they must be the same length")
        }
        var child: String?
        if let childIP {
            guard let canonical = DockerProxyProcess.address(childIP) else { throw fail("child address \(goQuoted(abbreviated(childIP))) is not an IPv4 or IPv6 address") }
            child = canonical
        }
        for proto in protocols {
            if let parentIP, let problem = familyProblem(proto, parentIP, "host address") { throw fail(problem) }
            if let child, let problem = familyProblem(proto, child, "child address") { throw fail(problem) }
        }
        var specs: [RootlessKitPortSpec] = []
        specs.reserveCapacity(protocols.count * hostPorts.count)
        for proto in protocols {
            for i in 0..<hostPorts.count {
                specs.append(RootlessKitPortSpec(proto: proto, parentIP: parentIP, parentPort: hostPorts.lowerBound + i,
                                                 childIP: child, childPort: guestPorts.lowerBound + i))
            }
        }
        return specs
    }

    /// Why `address` cannot go with `proto`'s family (`tcp4` and an IPv6 address), or nil.
    static func familyProblem(_ proto: String, _ address: String, _ what: String) -> String? {
        let isIPv4 = IPv4Address(address) != nil
        if proto.hasSuffix("4") && !isIPv4 { return "\(what) \(address) is IPv6 but \(proto) is IPv4 only" }
        if proto.hasSuffix("6") && isIPv4 { return "\(what) \(address) is IPv4 but \(proto) is IPv6 only" }
        return nil
    }
}
