/// The rows of a network namespace's `/proc/PID/net/{tcp,tcp6,udp,udp6}` that a probe needs:
/// local and remote address and port, state and socket inode.
public struct SocketTable: Sendable, Equatable {
    /// One socket.
    public struct Entry: Sendable, Equatable, Hashable {
        /// The local address as text (`10.0.2.100`, `::`, `::ffff:10.0.2.100`).
        public let local: String
        public let localPort: Int
        public let remote: String
        public let remotePort: Int
        /// The kernel's state number: 0x0A LISTEN, 0x01 ESTABLISHED, 0x07 (UDP) unconnected.
        public let state: UInt8
        public let inode: UInt64
        /// True for a row of `tcp6`/`udp6`.
        public let isIPv6: Bool

        public var isListening: Bool { state == 0x0A }
        /// `10.0.2.100:80`, `[::]:80`.
        public var localText: String { Format.hostPort(local, localPort) }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// The rows of one file's text (`ipv6`: a `tcp6`/`udp6` file, whose addresses are four
    /// 32-bit words in the kernel's byte order). Lines that are not a socket row are skipped.
    public static func parse(_ text: String, ipv6: Bool, port: Int? = nil) -> [Entry] {
        var out: [Entry] = []
        // With `port`, only rows that show it (`:1F90 `) are parsed: a host with thousands of sockets
        // costs a substring search per row, not a parse.
        let mark = port.map { ":" + String($0, radix: 16, uppercase: true).leftPadded(to: 4) + " " }
        for line in text.split(separator: "\n").dropFirst() {
            if let mark, !line.contains(mark) { continue }
            let f = line.split(separator: " ", maxSplits: 10, omittingEmptySubsequences: true)
            guard f.count >= 10, let local = endpoint(f[1], ipv6: ipv6), let remote = endpoint(f[2], ipv6: ipv6),
                  let state = UInt8(f[3], radix: 16), let inode = UInt64(f[9]) else { continue }
            out.append(Entry(local: local.0, localPort: local.1, remote: remote.0, remotePort: remote.1, state: state, inode: inode, isIPv6: ipv6))
        }
        return out
    }

    /// `0100007F:1F90` -> ("127.0.0.1", 8080).
    static func endpoint(_ field: Substring, ipv6: Bool) -> (String, Int)? {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1], radix: 16) else { return nil }
        let hex = Array(parts[0].utf8)
        if !ipv6 {
            guard hex.count == 8, let v4 = IPv4Address(procHex: parts[0]) else { return nil }
            return (v4.description, port)
        }
        guard hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for word in 0..<4 {
            // Each 32-bit word is printed in host (little-endian) order: its bytes come reversed.
            var group: [UInt8] = []
            for b in 0..<4 {
                let i = word * 8 + b * 2
                guard let byte = UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                group.append(byte)
            }
            bytes += group.reversed()
        }
        guard let v6 = IPv6Address(bytes: bytes) else { return nil }
        return (v6.ipv4Mapped.map { "::ffff:\($0)" } ?? v6.description, port)
    }

    /// Reads `tcp`+`tcp6` (or `udp`+`udp6`) under `directory` (`/proc/PID/net`); a missing IPv6
    /// file (a kernel without IPv6) is no rows.
    /// With `port`, only the sockets whose local or remote port it is; `families`: the IPv4 file,
    /// the IPv6 one, or both (each read walks every socket of the host: about 4 ms with 500).
    public static func read(_ proto: ForwardProtocol, directory: String, port: Int? = nil, families: Families = .both) throws(SystemError) -> SocketTable {
        let name = proto.rawValue
        var entries: [Entry] = []
        if families != .ipv6 { entries = parse(try Files.readText("\(directory)/\(name)"), ipv6: false, port: port) }
        if families == .ipv4 { return SocketTable(entries: entries) }
        do { entries += parse(try Files.readText("\(directory)/\(name)6"), ipv6: true, port: port) } catch {
            if !error.isGone { throw error }
        }
        return SocketTable(entries: entries)
    }

    /// Which of a protocol's two files to read.
    public enum Families: Sendable { case ipv4, ipv6, both }

    /// The socket a TCP connection or a datagram to `address`:`port` would reach: a listening (TCP)
    /// or bound unconnected (UDP) socket on that very address, else on the wildcard of its family
    /// (`0.0.0.0`; `::`, which takes IPv4 too unless it is IPV6_V6ONLY, not visible here).
    public func receiver(of address: String, port: Int, proto: ForwardProtocol) -> Entry? {
        let candidates = entries.filter { $0.localPort == port && (proto == .tcp ? $0.isListening : $0.state == 0x07) }
        let v4 = IPv4Address(address)
        let exact = candidates.first { entry in
            entry.local == address || (v4 != nil && entry.local == "::ffff:\(address)")
        }
        if let exact { return exact }
        if v4 != nil { return candidates.first { $0.local == "0.0.0.0" } ?? candidates.first { $0.local == "::" } }
        return candidates.first { $0.local == "::" }
    }

    /// Sockets bound to `port` (listening for TCP, unconnected for UDP) on any address.
    public func bound(port: Int, proto: ForwardProtocol) -> [Entry] {
        entries.filter { $0.localPort == port && (proto == .tcp ? $0.isListening : $0.state == 0x07) }
    }

    /// TCP connections (not listeners) whose local end is `port`: the accepted side of connections to it.
    public func connections(toPort port: Int) -> Set<Entry> {
        Set(entries.filter { $0.localPort == port && !$0.isListening })
    }
}

extension String {
    /// Padded with zeros on the left to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
