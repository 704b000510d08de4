#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What an instance's log says about the API requests it took.
///
/// slirp4netns writes every API request it reads to its stderr (`api_handler: got request: ...`)
/// before acting on it, and its forwards change only through such requests (`add_hostfwd`,
/// `remove_hostfwd`). When stderr is a regular file (Podman's unlinked log), that file is an
/// audit trail: while it is exactly as it was right after a `list_hostfwd` answer that was the
/// only request in its window, no request came since, and that answer still holds. `list` uses
/// this to skip asking instances whose forwards cannot have changed (`Inventory`'s cache).
///
/// Anything the proof does not cover means asking again: stderr not a regular file (a pipe,
/// `/dev/null`), the log grown or touched by anything at all, another request's echo in the
/// window, an echo in another format (another slirp4netns version), a log that cannot be read.
///
/// The proof rests on the echo being written: slirp4netns does not stop when it cannot write
/// its log. So a log on a filesystem with little room left proves nothing (`hasRoom`); what
/// it cannot see is a request taken while the filesystem was full, which was freed again
/// before the next look.
public enum RequestAudit {
    /// The log (fd 2) as it stands: which file, how long, when it last changed.
    public struct Mark: Equatable, Sendable {
        public let device: UInt64
        public let inode: UInt64
        public let size: Int64
        /// Its status change time (`st_ctim`): moved by every write and truncation, and by nothing a user can set.
        public let changedSeconds: Int64
        public let changedNanoseconds: Int64
    }

    /// The process's stderr now, or nil when it is not a regular file or cannot be looked at.
    public static func mark(pid: Int32, procRoot: String = "/proc") -> Mark? {
        guard let st = try? Files.status("\(procRoot)/\(pid)/fd/2"), st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Mark(st)
    }

    /// The room a log's filesystem must have for its echoes to be trusted: far more than an echo
    /// needs, so a filesystem filling up is not trusted either.
    static let roomNeeded: UInt64 = 1 << 20

    /// True when the filesystem of the process's stderr has room for its echoes (`roomNeeded`
    /// available to it); false when it is fuller or cannot be looked at.
    public static func hasRoom(pid: Int32, procRoot: String = "/proc") -> Bool {
        var fs = statvfs()
        guard statvfs("\(procRoot)/\(pid)/fd/2", &fs) == 0 else { return false }
        return UInt64(fs.f_bavail) * UInt64(fs.f_frsize) >= roomNeeded
    }

    /// The line slirp4netns writes for each request, up to the request's bytes.
    static let echoPrefix = Array("api_handler: got request: ".utf8)

    /// The most a window between two marks is read (one request's echo is under 100 bytes).
    static let windowLimit = 64 << 10

    /// The log's mark now, when it grew since `before` by output that holds the echo of `request`
    /// (ours) and no other request: no request was taken in between but ours. Nil otherwise.
    public static func markAfterOnly(_ request: [UInt8], pid: Int32, procRoot: String = "/proc", before: Mark) -> Mark? {
        // Proven a regular file before it is opened: the process may have put a FIFO or a device at fd 2 since `before`.
        guard let fd = try? SafeFiles.openForReading("\(procRoot)/\(pid)/fd/2") else { return nil }
        defer { fd.close() }
        guard let st = try? fd.status() else { return nil }
        let after = Mark(st)
        guard let window = window(of: fd, from: before, to: after), isOnlyEcho(of: request, in: window) else { return nil }
        return after
    }

    /// The log's mark now, when it grew since `before` by output whose every request echo (at least
    /// `atLeast` of them) is the `list_hostfwd` request slirpmon sends, byte for byte: forwards change
    /// only through `add_hostfwd` and `remove_hostfwd`, so a forward list true at `before` still holds.
    /// (Monitors and `list`s on one host then do not make each other ask again.) Another spelling of a
    /// listing, by another client, proves nothing: nil, ask again.
    public static func markAfterOnlyListings(pid: Int32, procRoot: String = "/proc", before: Mark, atLeast: Int) -> Mark? {
        guard let fd = try? FileDescriptor.open("\(procRoot)/\(pid)/fd/2", .readOnly, options: [.closeOnExec, .noControllingTerminal, .nonBlocking]) else {
            return nil
        }
        defer { fd.close() }
        guard let st = try? fd.status(), st.st_mode & S_IFMT == S_IFREG else { return nil }
        let after = Mark(st)
        guard let window = window(of: fd, from: before, to: after),
              areOnlyEchoes(of: APIMessage.listRequest(), in: window, atLeast: atLeast) else { return nil }
        return after
    }

    /// What the log `fd` gained between the marks `before` and `after`: nil unless it is the same
    /// file, grown by at most `windowLimit` bytes, all of them read.
    static func window(of fd: FileDescriptor, from before: Mark, to after: Mark) -> [UInt8]? {
        guard before.device == after.device, before.inode == after.inode, after.size > before.size,
              after.size - before.size <= windowLimit else { return nil }
        let count = Int(after.size - before.size)
        guard let window = try? fd.read(fromAbsoluteOffset: before.size, count: count), window.count == count else { return nil }
        return window
    }

    /// True when every request echo in `window` is `request`'s, and there are at least `atLeast`.
    static func areOnlyEchoes(of request: [UInt8], in window: [UInt8], atLeast: Int) -> Bool {
        let starts = occurrences(of: echoPrefix, in: window)
        guard starts.count >= atLeast else { return false }
        let expected = request + [UInt8(ascii: "\n")]
        return starts.allSatisfy { start in
            let body = start + echoPrefix.count
            return window.count >= body + expected.count && window[body..<body + expected.count].elementsEqual(expected)
        }
    }

    /// True when `window` holds exactly one request echo, and it is `request`'s (slirp4netns echoes
    /// the bytes it read, then a newline).
    static func isOnlyEcho(of request: [UInt8], in window: [UInt8]) -> Bool {
        let starts = occurrences(of: echoPrefix, in: window)
        guard starts.count == 1 else { return false }
        let body = starts[0] + echoPrefix.count
        let expected = request + [UInt8(ascii: "\n")]
        return window.count >= body + expected.count && window[body..<body + expected.count].elementsEqual(expected)
    }

    /// Where `needle` starts in `haystack` (overlaps included).
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return [] }
        var found: [Int] = []
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { found.append(start) }
        }
        return found
    }
}

extension RequestAudit.Mark {
    init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                  changedSeconds: Int64(st.st_ctim.tv_sec), changedNanoseconds: Int64(st.st_ctim.tv_nsec))
    }
}
