#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small files slirpmon keeps for itself between runs (Podman's answer, process facts), in a
/// directory only its user can write: `/run/slirpmon` for root, `$XDG_RUNTIME_DIR/slirpmon` for
/// a user (none when that is unset). A file is trusted only when it is its user's own and
/// private; anything else is ignored, never trusted.
enum PrivateFile {
    /// The largest file read back, and so the largest written: a file that could not be read
    /// is not worth writing (it was: 1.77 GB to /run on every run with 300 hostile processes).
    static let limit = 64 << 20

    /// The directory of the current user's files, or nil when there is no private runtime directory.
    static func directoryForCurrentUser() -> String? {
        if geteuid() == 0 { return "/run/slirpmon" }
        guard let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty else { return nil }
        return "\(runtime)/slirpmon"
    }

    /// The file's bytes, if it is a regular file of the current user, private (no group or other
    /// access) and under `limit` bytes; nil otherwise (missing, someone else's, too large).
    static func read(_ path: String, limit: Int = PrivateFile.limit) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .noFollow, .nonBlocking, .noControllingTerminal]) else {
            return nil
        }
        defer { fd.close() }
        guard let st = try? fd.status(), st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o077 == 0,
              st.st_size < limit else { return nil }
        // Read from the start (pread), the size fstat gave: a file that shrank under us is not the one proven.
        guard let bytes = try? fd.read(fromAbsoluteOffset: 0, count: Int(st.st_size)), bytes.count == Int(st.st_size) else { return nil }
        return bytes
    }

    /// Replaces the file with `bytes` (mode 0600, written aside then renamed), when its directory
    /// is the current user's and private (created so when missing). Best effort: false when it
    /// could not be written, which only means nothing is kept; also when `bytes` are more than
    /// `limit` (what `read` would refuse).
    @discardableResult
    static func write(_ bytes: [UInt8], to path: String, limit: Int = PrivateFile.limit) -> Bool {
        guard bytes.count < limit else { return false }
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return false }
        let directory = String(path[..<slash])
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { return false }
        var st = stat()
        guard lstat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else { return false }
        let temporary = "\(path).\(getpid()).tmp"
        unlink(temporary) // one left by a run that died; the directory is ours alone
        guard let fd = try? SafeFiles.createExclusive(temporary) else { return false }
        let written = (try? fd.writeAll(bytes)) != nil
        fd.close()
        guard written, rename(temporary, path) == 0 else { unlink(temporary); return false }
        return true
    }
}
