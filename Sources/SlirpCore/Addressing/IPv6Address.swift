/// An IPv6 address as 16 bytes, enough for slirp4netns's fixed fd00::/64 network.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the 32 hex digits of `/proc/net/if_inet6` and `/proc/net/ipv6_route` (network byte
    /// order; the socket tables `/proc/net/tcp6` and `udp6` are not: `SocketTable` reads those).
    public init?(procHex text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 32 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: utf8[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        bytes = out
    }

    /// Parses textual IPv6 (`fd00::2`, `fe80::1`) as Go's `net.ParseIP` does: an IPv4
    /// address may end it (`::ffff:10.0.2.1`, `64:ff9b::192.0.2.1`); zones are refused.
    public init?(_ text: some StringProtocol) {
        var string = String(text)
        if string.contains(".") {
            // The dotted quad must be the last group: rewrite it as two hex groups.
            guard let colon = string.lastIndex(of: ":"),
                  let v4 = IPv4Address(string[string.index(after: colon)...]) else { return nil }
            string = String(string[...colon]) + String(v4.value >> 16, radix: 16) + ":" + String(v4.value & 0xFFFF, radix: 16)
        }
        let halves = string.components(separatedByDoubleColon: ())
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.utf8.count), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        var words: [UInt16]
        switch halves.count {
        case 1:
            guard let all = groups(halves[0]), all.count == 8 else { return nil }
            words = all
        case 2:
            guard let head = groups(halves[0]), let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            words = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        default:
            return nil
        }
        bytes = words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// RFC 5952 text: lowercase, the longest run of zero groups as `::`.
    public var description: String {
        let words = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && words[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength && i - runStart > 1 { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String { range.map { String(words[$0], radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// True when the first 64 bits equal `prefix`'s.
    public func sharesPrefix64(with prefix: IPv6Address) -> Bool { bytes[0..<8] == prefix.bytes[0..<8] }

    /// The last 64 bits (the interface identifier).
    public var interfaceIdentifier: ArraySlice<UInt8> { bytes[8..<16] }

    public var isLinkLocal: Bool { bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 }

    /// `::1`.
    public var isLoopback: Bool { bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1 }

    /// The IPv4 address of an IPv4-mapped address (`::ffff:a.b.c.d`), as Go's `To4()` finds it.
    public var ipv4Mapped: IPv4Address? {
        guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return IPv4Address(bytes[12], bytes[13], bytes[14], bytes[15])
    }
}

private extension String {
    /// Splits at the first `::` only; a second `::` yields three parts (invalid).
    func components(separatedByDoubleColon: Void) -> [Substring] {
        var parts: [Substring] = []
        var rest = Substring(self)
        while let range = rest.range(of: "::") {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}

extension Substring {
    func range(of needle: String) -> Range<Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
