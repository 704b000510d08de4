#if canImport(Glibc)
import Glibc
#endif

/// The address `slirpmon serve --listen` binds: an IPv4 address or a bracketed IPv6 address,
/// a colon, a port (`127.0.0.1:9184`, `[::1]:9184`, `0.0.0.0:9184`).
///
/// Only literal addresses: a host name would be resolved (to one address of several, or to
/// another one tomorrow), and the operator must know which interfaces hear the metrics.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// The address without brackets (`127.0.0.1`, `::1`).
    public let host: String
    /// 0 asks the kernel for a free port (the one bound is printed at start).
    public let port: Int
    public let isIPv6: Bool

    /// Parses `ADDR:PORT`; the error says what was wrong and shows the form.
    public init(parsing text: String) throws(ServeError) {
        func bad(_ why: String) -> ServeError {
            .badListen("--listen \(text.isEmpty ? "''" : text): \(why) (the form is ADDR:PORT, e.g. 127.0.0.1:9184 or [::1]:9184)")
        }
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("an IPv6 address opened with [ is not closed with ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw bad("no :PORT after the bracketed address") }
            port = rest.dropFirst()
            guard Self.parses(host, family: AF_INET6) else { throw bad("\(host) is not an IPv6 address") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad("no :PORT") }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            guard !host.isEmpty else { throw bad("no address before :PORT (127.0.0.1 for this host only, 0.0.0.0 for every interface)") }
            guard !host.contains(":") else { throw bad("an IPv6 address goes in brackets: [\(host)]:\(port)") }
            guard Self.parses(host, family: AF_INET) else { throw bad("\(host) is not an IPv4 address (host names are not resolved: give 127.0.0.1 or [::1])") }
        }
        guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), number <= 65535 else {
            throw bad("the port must be a number from 0 to 65535, got '\(port)'")
        }
        self.host = String(host)
        self.port = number
        isIPv6 = text.hasPrefix("[")
    }

    /// Reachable from this host only: 127.0.0.0/8, ::1 (and 127.x mapped into IPv6).
    public var isLoopback: Bool {
        if isIPv6 {
            var bytes = in6_addr()
            guard inet_pton(AF_INET6, host, &bytes) == 1 else { return false }
            let b = withUnsafeBytes(of: bytes) { Array($0) }
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }
            let mapped = b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff
            return mapped && b[12] == 127
        }
        return host.split(separator: ".").first == "127"
    }

    /// `127.0.0.1:9184`, `[::1]:9184`.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func parses(_ host: Substring, family: Int32) -> Bool {
        var storage = in6_addr() // large enough for either family
        return String(host).withCString { inet_pton(family, $0, &storage) } == 1
    }
}
