import SlirpCore

/// The add-forward form: five text fields, each validated as it is typed with the
/// rules of `slirpmon fwd add` (a `-p`-style mapping through `PortMapping.parse`).
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
    public var values: [Field: String]
    public var focus: Field = .hostPort

    public init(target: ProcessIdentity, proto: String = "tcp", hostAddress: String = "127.0.0.1", hostPort: String = "", guestPort: String = "", guestAddress: String = "") {
        self.target = target
        values = [.proto: proto, .hostAddress: hostAddress, .hostPort: hostPort, .guestPort: guestPort, .guestAddress: guestAddress]
    }

    public func value(_ field: Field) -> String { values[field] ?? "" }

    /// The `-p`-style mapping the fields describe, e.g. `127.0.0.1:8080:80/tcp`.
    public var mappingText: String {
        let address = value(.hostAddress).isEmpty ? "" : value(.hostAddress) + ":"
        return "\(address)\(value(.hostPort)):\(value(.guestPort))/\(value(.proto))"
    }

    /// Why `field` is invalid, or nil when it is fine.
    public func error(for field: Field) -> String? {
        let text = value(field)
        switch field {
        case .proto:
            if text.isEmpty { return "give tcp, udp or tcp,udp" }
            return Self.parseError("1:1/\(text)")
        case .hostAddress:
            if text.isEmpty { return nil }
            return Self.parseError("\(text):1:1")
        case .hostPort:
            if text.isEmpty { return "a host port is required: slirp4netns cannot pick one" }
            if Self.parseError("\(text):\(text)") == nil { return nil }
            return Self.parseError("\(text):1")
        case .guestPort:
            if text.isEmpty { return "a guest port is required" }
            if Self.parseError("\(text):\(text)") == nil {
                // Both ports valid on their own: the lengths must agree.
                if error(for: .hostPort) == nil { return Self.parseError("\(value(.hostPort)):\(text)") }
                return nil
            }
            return Self.parseError("1:\(text)")
        case .guestAddress:
            if text.isEmpty { return nil }
            return IPv4Address(text) == nil
                ? "\(quoted(text)) is not an IPv4 address (the slirp4netns API takes IPv4 only)" : nil
        }
    }

    public var isValid: Bool { Field.allCases.allSatisfy { error(for: $0) == nil } }

    /// The validated requests, or nil if any field is invalid: nothing else is ever sent.
    public var requests: [ForwardRequest]? {
        guard isValid, let mapping = try? PortMapping.parse(mappingText) else { return nil }
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

    /// The parse error of `text` without the `invalid port mapping "…": ` preamble.
    static func parseError(_ text: String) -> String? {
        do {
            _ = try PortMapping.parse(text)
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
