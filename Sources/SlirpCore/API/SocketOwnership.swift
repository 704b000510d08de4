import CSlirpSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether an API socket path is the listening socket of a given slirp4netns process,
/// checked passively from `/proc` (no connection, so nothing lands in its log).
public enum SocketOwnership: Sendable, Equatable, CustomStringConvertible {
    /// The process holds a listening unix socket bound to this path.
    case held
    /// No file at the path.
    case missing
    /// The file is there but the process holds no listening socket bound to it.
    case notHeld
    /// The process holds it, but another socket is bound to the same path too (replaced?).
    case ambiguous
    /// The process's fds could not be read (another user's process).
    case unknown(String)

    public var description: String {
        switch self {
        case .held: "listening, held by the process"
        case .missing: "missing: no socket file at this path"
        case .notHeld: "not held by this process: the path was replaced or the socket closed"
        case .ambiguous: "held, but another socket was bound to the same path since (replaced?)"
        case .unknown(let why): "not verified: \(why)"
        }
    }

    public var isUsable: Bool { self == .held || self == .ambiguous }

    /// True when the check could not be made (the connection-time `SO_PEERCRED` check still applies).
    public var isUnverified: Bool {
        if case .unknown = self { return true }
        return false
    }

    /// Checks `path` against the sockets of `process`.
    ///
    /// Exact where the kernel allows: sock_diag names the sockets bound to the very
    /// file at `path` (device and inode), so a renamed or replaced path is told
    /// apart from the original. Where sock_diag is unavailable, falls back to the
    /// bound names in `/proc/PID/net/unix`, which cannot see a rename (`.ambiguous`).
    ///
    /// `listeners` is one dump of every listening socket (`ListeningSockets.now()`); a
    /// refresh takes one for all its checks (a dump lists every unix socket of the host,
    /// so one per instance made a refresh quadratic); without it, the check takes its own.
    public static func check(path: String, process: SlirpProcess, procRoot: String = "/proc",
                             listeners: ListeningSockets? = nil) -> SocketOwnership {
        verify(path: path, process: process, procRoot: procRoot, listeners: listeners).ownership
    }

    /// The check, with the socket file it proved held (`.held` by sock_diag only): a client pinned
    /// to that file (`APIClient.expectedFile`) connects to it and to nothing put at the path since.
    public static func verify(path: String, process: SlirpProcess, procRoot: String = "/proc",
                              listeners: ListeningSockets? = nil) -> (ownership: SocketOwnership, file: SocketFile?) {
        verify(path: path, pid: process.pid, socketInodes: process.socketInodes, fdsProblem: process.problems["fds"],
               procRoot: procRoot, listeners: listeners)
    }

    /// The same check from the process's PID and socket inodes (nil: its fds could not be read,
    /// `fdsProblem` says why).
    static func check(path: String, pid: Int32, socketInodes: Set<UInt64>?, fdsProblem: String? = nil, procRoot: String = "/proc",
                      listeners: ListeningSockets? = nil) -> SocketOwnership {
        verify(path: path, pid: pid, socketInodes: socketInodes, fdsProblem: fdsProblem, procRoot: procRoot, listeners: listeners).ownership
    }

    static func verify(path: String, pid: Int32, socketInodes: Set<UInt64>?, fdsProblem: String? = nil, procRoot: String = "/proc",
                       listeners: ListeningSockets? = nil) -> (ownership: SocketOwnership, file: SocketFile?) {
        // A relative path is the process's (`APIEndpoint.of` resolves it through /proc/PID/cwd):
        // one still relative here could not be resolved, and stat would look in slirpmon's own directory.
        guard path.hasPrefix("/") else {
            return (.unknown("the path is relative to the process's working directory, which cannot be read as this user"), nil)
        }
        let st: stat
        do throws(SystemError) { st = try Files.status(path) } catch {
            return (absent(path: path, error: error), nil)
        }
        guard st.st_mode & 0o170000 == 0o140000 else { return (.notHeld, nil) }
        guard let held = socketInodes else {
            return (.unknown(fdsProblem ?? "its file descriptors are not readable"), nil)
        }
        if let listening = listeners ?? ListeningSockets.now() {
            let proven = listening.sockets(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)).contains(where: held.contains)
            return proven ? (.held, SocketFile(st)) : (.notHeld, nil)
        }
        return (fallback(path: path, pid: pid, held: held, procRoot: procRoot), nil)
    }

    /// What a failed `stat` of the socket path means: `.missing` only when the file is not there
    /// (ENOENT, ENOTDIR); a directory this user may not search (EACCES, EPERM: root's 0700
    /// `/run/libpod`, a user's 0700 `/run/user/UID`) says nothing about the socket, so it is
    /// `.unknown` with the directory named, never "missing" (which calls for a restart).
    static func absent(path: String, error: SystemError) -> SocketOwnership {
        if error.errno == .noSuchFileOrDirectory || error.errno == .notADirectory { return .missing }
        if error.isPermissionDenied {
            let closedDirectory = Files.firstUnsearchableDirectory(of: path).map { ": \($0) is not searchable" } ?? ""
            return .unknown("\(cannotCheck)\(closedDirectory)")
        }
        return .unknown("cannot be checked: \(error)")
    }

    /// The words for a check this user is not allowed to make.
    public static let cannotCheck = "cannot be checked as this user (permission denied)"

    /// Without sock_diag: the bound names in `/proc/PID/net/unix` (cannot see a rename).
    private static func fallback(path: String, pid: Int32, held: Set<UInt64>, procRoot: String) -> SocketOwnership {
        guard let table = try? Files.readText("\(procRoot)/\(pid)/net/unix") else {
            return .unknown("cannot read /proc/\(pid)/net/unix")
        }
        let absolute = path.hasPrefix("/") ? path : ((try? Files.readLink("\(procRoot)/\(pid)/cwd")) ?? "") + "/" + path
        var ours = false
        var others = 0
        for entry in UnixSocketTable.parse(table) where entry.isListening && (entry.path == path || entry.path == absolute) {
            if held.contains(entry.inode) { ours = true } else { others += 1 }
        }
        if ours { return others > 0 ? .ambiguous : .held }
        return .notHeld
    }
}

/// Every listening unix socket bound to a file, from one sock_diag dump.
public struct ListeningSockets: Sendable {
    private struct File: Hashable {
        let device: UInt64
        let inode: UInt64
    }
    private let byFile: [File: [UInt64]]

    /// The listening sockets now; nil when sock_diag is unavailable (then each check falls back).
    public static func now() -> ListeningSockets? {
        var capacity = 1024
        while true {
            var devices = [UInt64](repeating: 0, count: capacity)
            var inodes = [UInt64](repeating: 0, count: capacity)
            var sockets = [UInt64](repeating: 0, count: capacity)
            let n = Int(cslirp_unix_listeners(&devices, &inodes, &sockets, Int32(capacity)))
            if n < 0 { return nil }
            if n > capacity {
                capacity = n + 256
                continue
            }
            var byFile: [File: [UInt64]] = [:]
            for k in 0..<n { byFile[File(device: devices[k], inode: inodes[k]), default: []].append(sockets[k]) }
            return ListeningSockets(byFile: byFile)
        }
    }

    /// The socket inodes listening on the file with this `stat` device and inode.
    public func sockets(device: UInt64, inode: UInt64) -> [UInt64] {
        byFile[File(device: cslirp_kernel_dev(device), inode: inode)] ?? []
    }

    /// The socket inodes listening on the socket file at `path` (none when it is not there).
    public func sockets(boundTo path: String) -> [UInt64] {
        guard let st = try? Files.status(path) else { return [] }
        return sockets(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}

/// Rows of `/proc/net/unix`.
public enum UnixSocketTable {
    public struct Entry: Sendable, Equatable {
        public let inode: UInt64
        public let isListening: Bool
        public let path: String
    }

    /// Parses `Num RefCount Protocol Flags Type St Inode Path` lines.
    public static func parse(_ text: String) -> [Entry] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
            guard f.count >= 8, let flags = UInt32(f[3], radix: 16), let inode = UInt64(f[6]) else { return nil }
            return Entry(inode: inode, isListening: flags & 0x10000 != 0, path: String(f[7]))
        }
    }
}
