#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A TCP connection to a forward's host side that sends nothing: connected before a deadline,
/// then watched (never written to) for the far end closing it.
///
/// Non-blocking throughout (every wait is a `poll` bounded by the deadline), so a port whose
/// holder never answers costs at most the deadline.
public final class HostConnect {
    /// How the connect ended.
    public enum Outcome: String, Sendable, Equatable, Codable {
        case accepted, refused
        case timedOut = "timed_out"
        /// Another error (unreachable address, no route): `error` says which.
        case failed
    }

    private var fd: Int32
    public let outcome: Outcome
    /// The error of a `failed` or `refused` connect.
    public let error: SystemError?

    private init(fd: Int32, outcome: Outcome, error: SystemError?) {
        self.fd = fd
        self.outcome = outcome
        self.error = error
    }

    deinit { close() }

    /// Closes the connection (a FIN: the far end sees an empty request). The corresponding C function is `close`.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Connects to `address` (IPv4 or IPv6 text) and `port` before `deadline`; nothing is sent.
    public static func connect(to address: String, port: Int, deadline: Deadline) -> HostConnect {
        var storage = sockaddr_storage()
        let (family, length): (Int32, socklen_t)
        let port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        if let v4 = IPv4Address(address) {
            let sin = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: port, sin_addr: in_addr(s_addr: v4.value.bigEndian), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            (family, length) = (AF_INET, socklen_t(MemoryLayout<sockaddr_in>.size))
            withUnsafeBytes(of: sin) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
        } else if let v6 = IPv6Address(address) {
            var sin6 = sockaddr_in6()
            (sin6.sin6_family, sin6.sin6_port) = (sa_family_t(AF_INET6), port)
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: v6.bytes) }
            (family, length) = (AF_INET6, socklen_t(MemoryLayout<sockaddr_in6>.size))
            withUnsafeBytes(of: sin6) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
        } else {
            return HostConnect(fd: -1, outcome: .failed, error: SystemError("connect", address, errno: .invalidArgument, detail: "not an IP address"))
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return HostConnect(fd: -1, outcome: .failed, error: SystemError("socket", address)) }
        let subject = Format.hostPort(address, Int(UInt16(bigEndian: port)))
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in retryingOnInterrupt { Glibc.connect(fd, address, length) } }
        }
        if rc == 0 { return HostConnect(fd: fd, outcome: .accepted, error: nil) }
        let code = Errno.current
        guard code == .nowInProgress else { return HostConnect(fd: fd, outcome: code == .connectionRefused ? .refused : .failed, error: SystemError("connect", subject, errno: code)) }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = FileDescriptor.poll(&pfd, until: deadline)
        if ready == 0 { return HostConnect(fd: fd, outcome: .timedOut, error: nil) }
        if ready < 0 { return HostConnect(fd: fd, outcome: .failed, error: SystemError("poll", subject)) }
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
        if soError == 0 { return HostConnect(fd: fd, outcome: .accepted, error: nil) }
        return HostConnect(fd: fd, outcome: soError == ECONNREFUSED ? .refused : .failed, error: SystemError("connect", subject, code: soError))
    }

    /// The connection's own end on this host (address text and port), for telling its arrival in
    /// the namespace from someone else's. The corresponding C function is `getsockname`.
    public var localEndpoint: (address: String, port: Int)? {
        guard fd >= 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        if Int32(storage.ss_family) == AF_INET {
            let sin = withUnsafeBytes(of: storage) { $0.loadUnaligned(as: sockaddr_in.self) }
            return (IPv4Address(UInt32(bigEndian: sin.sin_addr.s_addr)).description, Int(UInt16(bigEndian: sin.sin_port)))
        }
        let sin6 = withUnsafeBytes(of: storage) { $0.loadUnaligned(as: sockaddr_in6.self) }
        let bytes = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
        guard let v6 = IPv6Address(bytes: bytes) else { return nil }
        return (v6.ipv4Mapped.map(\.description) ?? v6.description, Int(UInt16(bigEndian: sin6.sin6_port)))
    }

    /// What the far end did with the accepted connection, looked at without waiting: nothing yet,
    /// sent bytes (a banner: left unread), or closed it (an end of file or a reset).
    public enum FarEnd: Sendable, Equatable { case quiet, sentData, closed }

    /// Looks at the connection, waiting at most `milliseconds`. The corresponding C function is `poll`.
    public func farEnd(waiting milliseconds: Int32) -> FarEnd {
        guard fd >= 0, outcome == .accepted else { return .closed }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN) | Self.readHangUp, revents: 0)
        let ready = retryingOnInterrupt { Glibc.poll(&pfd, 1, milliseconds) }
        guard ready > 0 else { return .quiet }
        if pfd.revents & (Int16(POLLHUP) | Int16(POLLERR) | Self.readHangUp) != 0 { return .closed }
        var byte: UInt8 = 0
        let n = retryingOnInterrupt { recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) }
        return n > 0 ? .sentData : (n == 0 ? .closed : (Errno.current == .wouldBlock ? .quiet : .closed))
    }
}

extension HostConnect {
    /// `POLLRDHUP` (0x2000 on Linux; glibc shows it only with _GNU_SOURCE): the far end shut its side.
    static let readHangUp: Int16 = 0x2000
}
