/// An IPv4 address as a 32-bit number, parsed strictly (four decimal parts 0-255, no leading zeros).
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text such as `10.0.2.100`; `nil` for anything else (hostnames, IPv6, `010.0.0.1`).
    public init?(_ text: some StringProtocol) {
        var parts: [UInt32] = []
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts.count < 3 else { return nil }
                parts.append(current)
                current = 0
                digits = 0
                leadingZero = false
            } else if byte >= 48 && byte <= 57 {
                if leadingZero { return nil }
                if digits == 0 && byte == 48 { leadingZero = true }
                current = current * 10 + UInt32(byte - 48)
                digits += 1
                guard current <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts.count == 3 else { return nil }
        parts.append(current)
        value = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    /// Parses the little-endian hex of `/proc/net/route` (`0202000A` is 10.0.2.2).
    public init?(procHex text: some StringProtocol) {
        guard text.utf8.count == 8, let raw = UInt32(text, radix: 16) else { return nil }
        value = raw.byteSwapped
    }

    /// Dotted quad, written byte by byte (string interpolation of four integers is costly, and
    /// `list` writes three addresses per instance).
    public var description: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { buffer in
            var count = 0
            for shift in stride(from: UInt32(24), through: 0, by: -8) {
                if shift != 24 { buffer[count] = UInt8(ascii: "."); count += 1 }
                let octet = UInt8(truncatingIfNeeded: value >> shift)
                if octet >= 100 { buffer[count] = UInt8(ascii: "0") + octet / 100; count += 1 }
                if octet >= 10 { buffer[count] = UInt8(ascii: "0") + octet / 10 % 10; count += 1 }
                buffer[count] = UInt8(ascii: "0") + octet % 10
                count += 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    public var isLoopback: Bool { value >> 24 == 127 }
    public var isUnspecified: Bool { value == 0 }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 network such as `10.0.2.0/24`, as Go's `net.ParseCIDR` reads it: the
/// address as written plus the network with host bits cleared.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    /// The address as written (may have host bits set: `10.0.2.5/24`).
    public let address: IPv4Address
    public let prefixLength: Int

    public init(address: IPv4Address, prefixLength: Int) {
        self.address = address
        self.prefixLength = max(0, min(32, prefixLength))
    }

    /// Parses `a.b.c.d/n` with `n` in 0...32; `nil` for IPv6 or malformed text.
    ///
    /// The prefix length is read as Go's `net.ParseCIDR` reads it (its `dtoi`): decimal
    /// digits only (no sign, no spaces), leading zeros allowed (`/024` is `/24`).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]),
              !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        var length = 0
        for digit in parts[1].utf8 {
            length = length * 10 + Int(digit - 48)
            if length > 32 { return nil }
        }
        self.init(address: address, prefixLength: length)
    }

    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << (32 - UInt32(prefixLength)) }
    /// The network address: host bits cleared.
    public var network: IPv4Address { IPv4Address(address.value & mask) }
    /// True when the address as written is the network address.
    public var isNetworkAddress: Bool { address == network }

    public func contains(_ other: IPv4Address) -> Bool { other.value & mask == network.value }

    /// The canonical form, with host bits cleared: `10.0.2.0/24`.
    public var description: String { "\(network)/\(prefixLength)" }
}
