import Glibc
@testable import SlirpCore
import Testing

/// Who holds a host port, told by the real address of an IPv6 socket: `/proc/net/tcp6` prints
/// each 32-bit word of an address in host byte order, so read as plain bytes `::1` became `::100:0`.
@Suite("fwd add's explanation of a taken port names IPv6 holders by their real address")
struct PortConflictTests {
    /// A TCP socket of this process listening on `address` (IPv6) and a free port; its fd and port.
    static func listen(on address: String) throws -> (fd: Int32, port: Int) {
        // Close-on-exec: other tests of this process start programs, which would hold it too.
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        try #require(inet_pton(AF_INET6, address, &sa.sin6_addr) == 1)
        let bound = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        try #require(bound == 0 && Glibc.listen(fd, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: sa.sin6_port)))
    }

    static func parent(of pid: Int32) -> Int32? {
        (try? Files.readProcessFile("/proc/\(pid)/stat")).flatMap { ProcessStat(bytes: $0)?.parentPID }
    }

    @Test("a listener on [::ffff:127.0.0.1] is named with that address when 127.0.0.1 is wanted; one on [::1] does not conflict with an IPv4 bind and is not blamed")
    func ipv6Holders() throws {
        let mapped = try Self.listen(on: "::ffff:127.0.0.1")
        defer { close(mapped.fd) }
        let loopback = try Self.listen(on: "::1")
        defer { close(loopback.fd) }
        let me = getpid()
        let holders = PortConflict.holders(of: mapped.port, proto: .tcp, address: IPv4Address(127, 0, 0, 1), seenFrom: me)
        #expect(holders.map(\.address) == ["[::ffff:127.0.0.1]"])
        // This process, or a child of it caught between fork and exec with the socket still open.
        #expect(holders.first?.ownerPID.map { $0 == me || PortConflictTests.parent(of: $0) == me } == true, "\(holders)")
        #expect(PortConflict.holders(of: loopback.port, proto: .tcp, address: IPv4Address(0, 0, 0, 0), seenFrom: me).isEmpty)
        // The host's table (`slirpmon ports`) shows both with their real addresses.
        let host = HostSockets.read()
        #expect(host.byInode.values.contains { $0.port == loopback.port && $0.address == "::1" && $0.proto == "tcp6" })
        #expect(host.byInode.values.contains { $0.port == mapped.port && $0.address == "::ffff:127.0.0.1" })
    }
}
