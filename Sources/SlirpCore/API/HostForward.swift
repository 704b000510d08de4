/// `tcp` or `udp`: the only protocols slirp4netns forwards.
public enum ForwardProtocol: String, Sendable, Codable, CaseIterable, Comparable {
    case tcp, udp
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// One forward as `list_hostfwd` reports it.
public struct HostForward: Sendable, Equatable, Hashable, Codable {
    public let id: Int
    public let proto: ForwardProtocol
    public let hostAddr: String
    public let hostPort: Int
    public let guestAddr: String
    public let guestPort: Int

    public init(id: Int, proto: ForwardProtocol, hostAddr: String, hostPort: Int, guestAddr: String, guestPort: Int) {
        self.id = id
        self.proto = proto
        self.hostAddr = hostAddr
        self.hostPort = hostPort
        self.guestAddr = guestAddr
        self.guestPort = guestPort
    }

    enum CodingKeys: String, CodingKey {
        case id, proto
        case hostAddr = "host_addr"
        case hostPort = "host_port"
        case guestAddr = "guest_addr"
        case guestPort = "guest_port"
    }

    /// `tcp 127.0.0.1:18080 -> 10.0.2.100:80`
    public var summary: String { "\(proto.rawValue) \(hostAddr):\(hostPort) -> \(guestAddr):\(guestPort)" }
}

/// A TCP/UDP port number, 1-65535, validated on construction.
public struct Port: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: UInt16
    public init?(_ value: Int) {
        guard (1...65535).contains(value) else { return nil }
        self.value = UInt16(value)
    }
    private init(constant: UInt16) { value = constant }
    public static let http = Port(constant: 80)
    public static let httpAlternate = Port(constant: 8080)
    public static let dns = Port(constant: 53)

    public var description: String { String(value) }
    public static func < (a: Port, b: Port) -> Bool { a.value < b.value }
}

/// A validated `add_hostfwd` request: nothing else can be sent.
public struct ForwardRequest: Sendable, Equatable {
    public let proto: ForwardProtocol
    public let hostAddr: IPv4Address
    public let hostPort: Port
    /// nil lets slirp4netns pick the guest address (the `--configure`d one).
    public let guestAddr: IPv4Address?
    public let guestPort: Port

    public init(proto: ForwardProtocol, hostAddr: IPv4Address = IPv4Address(0), hostPort: Port, guestAddr: IPv4Address? = nil, guestPort: Port) {
        self.proto = proto
        self.hostAddr = hostAddr
        self.hostPort = hostPort
        self.guestAddr = guestAddr
        self.guestPort = guestPort
    }

    /// `tcp 0.0.0.0:8080 -> :80`
    public var summary: String {
        "\(proto.rawValue) \(hostAddr):\(hostPort) -> \(guestAddr.map(\.description) ?? ""):\(guestPort)"
    }
}

extension ForwardRequest {
    /// True when `forward` is what this request adds: same protocol, host address and port, guest
    /// port, and guest address when the request names one (else slirp4netns picked it).
    public func isAdded(as forward: HostForward) -> Bool {
        forward.proto == proto && forward.hostPort == Int(hostPort.value) && forward.guestPort == Int(guestPort.value)
            && IPv4Address(forward.hostAddr) == hostAddr && (guestAddr == nil || IPv4Address(forward.guestAddr) == guestAddr)
    }
}
