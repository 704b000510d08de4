import SlirpCore

/// The add-forward form: five text fields, each validated as it is typed with the
/// rules of `slirpmon fwd add` (a `-p`-style mapping through `PortMapping.parse`; for a
/// RootlessKit instance, `RootlessKitMapping.parse`: tcp4/tcp6/udp4/udp6, IPv6 addresses, childIP).
public struct ForwardForm: Equatable, Sendable {
    public enum Field: Int, CaseIterable, Sendable {
        case proto, hostAddress, hostPort, guestPort, guestAddress

        public var label: String {
            switch self {
            case .proto: "Protocol"
            case .hostAddress: "Host address"
            case .hostPort: "Host port(s)"
            case .guestPort: "Guest port(s)"
            case .guestAddress: "Guest address"
            }
        }

        public var hint: String {
            switch self {
            case .proto: "tcp, udp or tcp,udp"
            case .hostAddress: "IPv4; empty = 0.0.0.0 (all)"
            case .hostPort: "PORT or PORT-END"
            case .guestPort: "PORT or PORT-END, same length"
            case .guestAddress: "IPv4; empty = slirp4netns's guest"
            }
        }
    }

    /// Whom the forwards are for.
    public var target: ProcessIdentity
    /// True for a RootlessKit instance: the fields take what its API takes (`RootlessKitPortSpec`).
    public var rootlessKit = false
    public var values: [Field: String]
    public var focus: Field = .hostPort

    public init(target: ProcessIdentity, rootlessKit: Bool = false, proto: String = "tcp", hostAddress: String = "127.0.0.1", hostPort: String = "",
                guestPort: String = "", guestAddress: String = "") {
        self.target = target
        self.rootlessKit = rootlessKit
        values = [.proto: proto, .hostAddress: hostAddress, .hostPort: hostPort, .guestPort: guestPort, .guestAddress: guestAddress]
    }

    public func value(_ field: Field) -> String { values[field] ?? "" }

    /// The `-p`-style mapping the fields describe, e.g. `127.0.0.1:8080:80/tcp` (`[::1]:8080:80/tcp6`).
    public var mappingText: String {
        "\(hostPrefix(value(.hostAddress)))\(value(.hostPort)):\(value(.guestPort))/\(value(.proto))"
    }

    /// `ADDRESS:` for the mapping; for RootlessKit an IPv6 address typed bare goes in brackets.
    func hostPrefix(_ text: String) -> String {
        if text.isEmpty { return "" }
        if rootlessKit, !text.hasPrefix("["), text.contains(":") { return "[\(text)]:" }
        return text + ":"
    }

    /// The field's hint beside it: what this instance's API takes.
    public func hint(_ field: Field) -> String {
        guard rootlessKit else { return field.hint }
        switch field {
        case .proto: return "tcp, udp, tcp4, tcp6, udp4, udp6 (a,b)"
        case .hostAddress: return "IPv4 or IPv6; empty = * (all)"
        case .guestAddress: return "childIP, IPv4 or IPv6; empty = the child's"
        case .hostPort, .guestPort: return field.hint
        }
    }

    /// Why `field` is invalid, or nil when it is fine.
    public func error(for field: Field) -> String? {
        let text = value(field)
        switch field {
        case .proto:
            if text.isEmpty { return rootlessKit ? "give tcp, udp, tcp4, tcp6, udp4 or udp6" : "give tcp, udp or tcp,udp" }
            return parseError("1:1/\(text)")
        case .hostAddress:
            if text.isEmpty { return nil }
            // With a valid protocol, its family too (tcp4 takes no IPv6 address).
            return parseError("\(hostPrefix(text))1:1" + (rootlessKit && error(for: .proto) == nil ? "/" + value(.proto) : ""))
        case .hostPort:
            if text.isEmpty { return rootlessKit ? "a host port is required: RootlessKit does not pick one" : "a host port is required: slirp4netns cannot pick one" }
            if parseError("\(text):\(text)") == nil { return nil }
            return parseError("\(text):1")
        case .guestPort:
            if text.isEmpty { return "a guest port is required" }
            if parseError("\(text):\(text)") == nil {
                // Both ports valid on their own: the lengths must agree.
                if error(for: .hostPort) == nil { return parseError("\(value(.hostPort)):\(text)") }
                return nil
            }
            return parseError("1:\(text)")
        case .guestAddress:
            if text.isEmpty { return nil }
            if rootlessKit {
                return Self.withoutPreamble { () throws(PortMapping.ParseError) in
                    _ = try RootlessKitMapping.parse("1:1/" + (error(for: .proto) == nil ? value(.proto) : "tcp"), childIP: text)
                }
            }
            return IPv4Address(text) == nil
                ? "\(quoted(text)) is not an IPv4 address (the slirp4netns API takes IPv4 only)" : nil
        }
    }

    public var isValid: Bool { Field.allCases.allSatisfy { error(for: $0) == nil } }

    /// The validated RootlessKit ports, or nil if any field is invalid (or this is not a RootlessKit form).
    public var ports: [RootlessKitPortSpec]? {
        guard rootlessKit, isValid else { return nil }
        let child = value(.guestAddress).isEmpty ? nil : value(.guestAddress)
        return try? RootlessKitMapping.parse(mappingText, childIP: child)
    }

    /// The validated requests, or nil if any field is invalid: nothing else is ever sent.
    public var requests: [ForwardRequest]? {
        guard !rootlessKit, isValid, let mapping = try? PortMapping.parse(mappingText) else { return nil }
        let guest = value(.guestAddress).isEmpty ? nil : IPv4Address(value(.guestAddress))
        if !value(.guestAddress).isEmpty && guest == nil { return nil }
        return mapping.requests(guestAddr: guest)
    }

    mutating func type(_ character: Character) {
        guard !character.isControlLike, TextWidth.of(value(focus)) < 64 else { return }
        values[focus, default: ""].append(character)
    }

    mutating func backspace() {
        if !(values[focus] ?? "").isEmpty { values[focus]?.removeLast() }
    }

    mutating func next() { focus = Field(rawValue: (focus.rawValue + 1) % Field.allCases.count) ?? .proto }
    mutating func previous() { focus = Field(rawValue: (focus.rawValue + Field.allCases.count - 1) % Field.allCases.count) ?? .proto }

    /// The parse error of `text` (with this form's syntax: RootlessKit's or slirp4netns's) without
    /// the `invalid port mapping "…": ` preamble.
    func parseError(_ text: String) -> String? {
        Self.withoutPreamble { () throws(PortMapping.ParseError) in
            if rootlessKit { _ = try RootlessKitMapping.parse(text) } else { _ = try PortMapping.parse(text) }
        }
    }

    /// The error `parse` throws, without the `invalid port mapping "…": ` preamble; nil when it throws none.
    static func withoutPreamble(_ parse: () throws(PortMapping.ParseError) -> Void) -> String? {
        do {
            try parse()
            return nil
        } catch {
            let message = error.message
            let prefix = "invalid port mapping "
            guard message.hasPrefix(prefix), let range = message.range(of: ": ", range: message.index(message.startIndex, offsetBy: prefix.count)..<message.endIndex) else {
                return message
            }
            return String(message[range.upperBound...])
        }
    }
}

func quoted(_ text: String) -> String { "\"" + text + "\"" }
