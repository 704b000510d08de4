#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

/// The longest path a `sockaddr_un` can hold (108 bytes with the terminating NUL).
public let maximumUnixSocketPathLength = 107

/// Credentials of the process at the other end of a unix socket (`SO_PEERCRED`).
public struct PeerCredentials: Sendable, Equatable {
    public let pid: Int32
    public let uid: UInt32
}

/// A socket file's identity: its device and inode as `stat` reports them.
public struct SocketFile: Sendable, Equatable, Hashable, Codable {
    public let device: UInt64
    public let inode: UInt64
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
    init(_ st: stat) { self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
}

/// A connected `AF_UNIX` stream socket whose every call is bounded by a deadline.
///
/// The descriptor is non-blocking; waiting happens in `poll`, so a peer that never
/// answers costs at most the deadline and never blocks forever.
///
/// Pinned to a socket file (`open(_:pinned:)`), it connects to that very file and no other:
/// the path is resolved once, with `O_PATH` (which opens nothing, so it never blocks whatever
/// is at the path), the file found is compared with the one that was checked (device and
/// inode), and the connection goes through `/proc/self/fd/N`, which the kernel resolves to
/// the inode held by that descriptor. A path component renamed or replaced by a symlink
/// after the check, or another socket renamed onto the name, cannot redirect the connection.
public final class UnixStreamSocket {
    public let path: String
    private var fd: Int32
    /// What `connect` is given: `path`, or `/proc/self/fd/N` when pinned.
    private let connectPath: String
    /// The `O_PATH` descriptor of the pinned socket file.
    private let pathFD: FileDescriptor?

    /// Why an operation on the socket did not complete.
    public enum Failure: Error, Sendable, Equatable {
        case system(SystemError)
        /// The deadline passed while `phase` ("connect", "write", "reply") was waiting.
        case timedOut(phase: String)
        /// The peer sent more than `limit` bytes.
        case tooLarge(limit: Int)
        /// The path does not fit a `sockaddr_un`.
        case pathTooLong(bytes: Int)
        /// The file at the path is not the pinned socket file (replaced since it was checked).
        case replaced
    }

    private init(path: String, fd: Int32, connectPath: String, pathFD: FileDescriptor?) {
        self.path = path
        self.fd = fd
        self.connectPath = connectPath
        self.pathFD = pathFD
    }

    deinit {
        if fd >= 0 { close(fd) }
        pathFD?.close()
    }

    /// Connects to the socket at `path` before `deadline`; `pinned`: only if it is that socket
    /// file (see the type's notes). The corresponding C function is `connect`.
    public static func connect(to path: String, pinned: SocketFile? = nil, deadline: Deadline) throws(Failure) -> UnixStreamSocket {
        let sock = try open(path, pinned: pinned)
        while true {
            switch try sock.connectStep() {
            case .connected:
                return sock
            case .backlogFull:
                // The listener's backlog is full: try again until the deadline.
                if deadline.hasPassed { throw .timedOut(phase: "connect") }
                usleep(2_000)
            case .inProgress:
                try sock.wait(for: Int16(POLLOUT), deadline: deadline, phase: "connect")
                try sock.finishConnect()
                return sock
            }
        }
    }

    /// A new non-blocking socket for `path`, not connected yet; `pinned`: for that socket file only
    /// (resolved now, once). The corresponding C function is `socket`.
    static func open(_ path: String, pinned: SocketFile? = nil) throws(Failure) -> UnixStreamSocket {
        var connectPath = path
        var pathFD: FileDescriptor?
        if let pinned {
            // O_PATH resolves the name without opening the file: no FIFO or device is ever opened.
            let named: FileDescriptor
            do { named = try .open(path, .readOnly, options: [.pathOnly, .closeOnExec]) } catch { throw .system(SystemError("connect", path, errno: error.errno)) }
            guard let st = try? named.status(), st.st_mode & S_IFMT == S_IFSOCK, SocketFile(st) == pinned else {
                named.close()
                throw .replaced
            }
            pathFD = named
            connectPath = "/proc/self/fd/\(named.rawValue)"
        } else if path.utf8.count > maximumUnixSocketPathLength {
            throw .pathTooLong(bytes: path.utf8.count)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 {
            let failure = SystemError("socket", path)
            pathFD?.close()
            throw .system(failure)
        }
        return UnixStreamSocket(path: path, fd: fd, connectPath: connectPath, pathFD: pathFD)
    }

    /// Where one `connect` attempt left the socket.
    enum ConnectStep { case connected, backlogFull, inProgress }

    /// One `connect` attempt, without waiting. The corresponding C function is `connect`.
    func connectStep() throws(Failure) -> ConnectStep {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(connectPath.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                retryingOnInterrupt { Glibc.connect(fd, address, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        if rc == 0 { return .connected }
        switch Errno.current {
        case .wouldBlock: return .backlogFull
        case .nowInProgress: return .inProgress
        case let failure: throw .system(SystemError("connect", path, errno: failure))
        }
    }

    /// The outcome of a connection that was in progress, once the socket is writable.
    func finishConnect() throws(Failure) {
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
        if soError != 0 { throw .system(SystemError("connect", path, code: soError)) }
    }

    /// The descriptor, for a `poll` over many sockets (`APIBatch`).
    var descriptor: Int32 { fd }

    /// Who listens at the other end. The corresponding C function is `getsockopt(SO_PEERCRED)`.
    public func peerCredentials() throws(Failure) -> PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        if cslirp_peer_credentials(fd, &pid, &uid) != 0 {
            throw .system(SystemError("getsockopt(SO_PEERCRED)", path))
        }
        return PeerCredentials(pid: pid, uid: uid)
    }

    /// Writes all of `bytes`, in one `write` call when the socket buffer has room.
    public func writeAll(_ bytes: [UInt8], deadline: Deadline) throws(Failure) {
        var offset = 0
        while true {
            offset = try send(bytes, from: offset)
            if offset == bytes.count { return }
            try wait(for: Int16(POLLOUT), deadline: deadline, phase: "write")
        }
    }

    /// Sends what the socket takes now of `bytes[offset...]`; the offset reached. The
    /// corresponding C function is `send`.
    func send(_ bytes: [UInt8], from offset: Int) throws(Failure) -> Int {
        var offset = offset
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                retryingOnInterrupt { Glibc.send(fd, buf.baseAddress! + offset, buf.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            if n >= 0 { offset += n; continue }
            let failure = Errno.current
            if failure == .wouldBlock { return offset }
            throw .system(SystemError("write", path, errno: failure))
        }
        return offset
    }

    /// Signals the end of the request. The corresponding C function is `shutdown(SHUT_WR)`.
    public func shutdownWrite() throws(Failure) {
        if shutdown(fd, Int32(SHUT_WR)) != 0 { throw .system(SystemError("shutdown", path)) }
    }

    /// Reads until the peer closes, before `deadline`, at most `limit` bytes. `end`: where the
    /// message read so far ends, nil while it goes on: reading stops there (the connection kept).
    public func readToEnd(deadline: Deadline, limit: Int, end: (([UInt8]) -> Int?)? = nil) throws(Failure) -> [UInt8] {
        var result: [UInt8] = []
        var failure: Failure?
        // An uninitialised buffer: zeroing 64 KiB per request was a tenth of a refresh's instructions.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 << 10) { chunk in
            guard let base = chunk.baseAddress else { return }
            // A reply is never there the moment the request is sent: wait first (one read less).
            do throws(Failure) { try wait(for: Int16(POLLIN), deadline: deadline, phase: "reply") } catch { failure = error; return }
            while true {
                let n = retryingOnInterrupt { recv(fd, base, chunk.count, 0) }
                if n > 0 {
                    result.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
                    if result.count > limit { failure = .tooLarge(limit: limit); return }
                    if let end, end(result) != nil { return }
                    // A peer that streams without pause never makes us wait: check the deadline here too.
                    if deadline.hasPassed { failure = .timedOut(phase: "reply"); return }
                    continue
                }
                if n == 0 { return }
                let code = Errno.current
                if code == .wouldBlock {
                    do throws(Failure) { try wait(for: Int16(POLLIN), deadline: deadline, phase: "reply") } catch { failure = error; return }
                    continue
                }
                failure = .system(SystemError("read", path, errno: code))
                return
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Appends what has arrived to `reply` without waiting (at most `limit` bytes in all); true
    /// once the peer has closed. `scratch` is a buffer to read into.
    func receive(into reply: inout [UInt8], limit: Int, deadline: Deadline, scratch: UnsafeMutableBufferPointer<UInt8>) throws(Failure) -> Bool {
        guard let base = scratch.baseAddress else { return true }
        while true {
            let n = retryingOnInterrupt { recv(fd, base, scratch.count, 0) }
            if n > 0 {
                reply.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
                if reply.count > limit { throw .tooLarge(limit: limit) }
                // A peer that streams without pause must not hold the others past the deadline.
                if deadline.hasPassed { throw .timedOut(phase: "reply") }
                continue
            }
            if n == 0 { return true }
            let code = Errno.current
            if code == .wouldBlock { return false }
            throw .system(SystemError("read", path, errno: code))
        }
    }

    private func wait(for events: Int16, deadline: Deadline, phase: String) throws(Failure) {
        if deadline.hasPassed { throw .timedOut(phase: phase) }
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let rc = FileDescriptor.poll(&pfd, until: deadline)
        if rc > 0 { return }
        if rc == 0 { throw .timedOut(phase: phase) }
        throw .system(SystemError("poll", path))
    }
}
