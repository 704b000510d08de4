#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small, allocation-light file helpers for `/proc` and `/sys`, where sizes are unknown
/// (stat says 0) and files change between reads.
public enum Files {
    /// Reads at most `limit` bytes of a regular file, however `stat` reports its size (0 in
    /// `/proc`). Opened without blocking and refused unless it is a regular file (`SafeFiles`):
    /// a FIFO a user put at the path fails at once instead of hanging the read.
    public static func readBytes(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = try SafeFiles.openForReading(path)
        defer { fd.close() }
        return try fd.read(upTo: limit, path: path)
    }

    /// Reads a `/proc/PID` file that the kernel hands over whole in one `read` when the buffer
    /// holds it (`stat`, `status`, `cmdline`): a short first read is the whole file, so the
    /// `read` that would return 0 is not made (one syscall less per file, process and scan).
    /// At most `limit` bytes. Not `fstat`ed: files under `/proc/PID` are the kernel's, never a
    /// FIFO, and this runs for every process on every scan; non-blocking all the same.
    public static func readProcessFile(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .nonBlocking, .noControllingTerminal])
        defer { fd.close() }
        var result: [UInt8] = []
        var failure: SystemError?
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16384) { buffer in
            while result.count < limit {
                let n: Int
                do throws(SystemError) { n = try fd.read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<min(buffer.count, limit - result.count)])), path: path) } catch {
                    failure = error
                    return
                }
                if n == 0 { return }
                result.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<n]))
                if n < buffer.count && result.count == n { return }
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Reads a whole regular file as UTF-8 text (invalid bytes are repaired, never fatal);
    /// refused when it is larger than `limit` bytes (see `SafeFiles.readRegularFile`).
    public static func readText(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> String {
        let bytes = try SafeFiles.readRegularFile(path, limit: limit)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The target of a symbolic link, e.g. `/proc/PID/fd/1`. The corresponding C function is `readlink`.
    public static func readLink(_ path: String) throws(SystemError) -> String {
        // An uninitialised buffer and one String: this runs for every fd of every instance on every refresh.
        let target: String? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(PATH_MAX) + 1) { buffer in
            guard let base = buffer.baseAddress else { return nil }
            let n = base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { readlink(path, $0, buffer.count - 1) }
            return n < 0 ? nil : String(decoding: UnsafeBufferPointer(start: base, count: n), as: UTF8.self)
        }
        guard let target else { throw SystemError("readlink", path) }
        return target
    }

    /// `stat` of a path (following links). The corresponding C function is `stat`.
    public static func status(_ path: String) throws(SystemError) -> stat {
        var st = stat()
        if stat(path, &st) != 0 { throw SystemError("stat", path) }
        return st
    }

    /// `lstat` of a path (not following links).
    public static func linkStatus(_ path: String) throws(SystemError) -> stat {
        var st = stat()
        if lstat(path, &st) != 0 { throw SystemError("lstat", path) }
        return st
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The first directory on the way to `path` that this process may not search (no `x` for
    /// its effective ids): why a `stat` of `path` failed with EACCES. Nil when every one may be
    /// searched, or when the way stops for another reason (a component missing, ENOENT, or not a
    /// directory, ENOTDIR: that is no permission problem and is not reported as one).
    ///
    /// A relative `path` is walked from the working directory, as `stat` resolves it: its
    /// prefixes are returned relative (`closed`), and the working directory itself, when it is
    /// the one closed, by its absolute name (else `.`). The corresponding C function is
    /// `faccessat` (with `AT_EACCESS`).
    public static func firstUnsearchableDirectory(of path: String) -> String? {
        let absolute = path.hasPrefix("/")
        if !absolute {
            // access(".") asks for `x` on the working directory itself (its own path is not walked).
            let result = faccessat(AT_FDCWD, ".", X_OK, AT_EACCESS)
            if result != 0 { return errno == EACCES ? (workingDirectory() ?? ".") : nil }
        }
        var directory = ""
        for component in path.split(separator: "/").dropLast() {
            directory += (directory.isEmpty && !absolute ? "" : "/") + component
            if faccessat(AT_FDCWD, directory, X_OK, AT_EACCESS) != 0 { return errno == EACCES && isDirectory(directory) ? directory : nil }
        }
        return nil
    }

    /// Whether `path` is a directory: a file without `x` also fails `access(X_OK)` with EACCES,
    /// but the way through it ends in ENOTDIR.
    private static func isDirectory(_ path: String) -> Bool {
        (try? status(path)).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
    }

    /// The absolute name of the working directory; nil when it cannot be had. The corresponding C
    /// function is `getcwd`.
    static func workingDirectory() -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX) + 1) { buffer in
            guard let base = buffer.baseAddress, getcwd(base, buffer.count) != nil else { return nil }
            return String(cString: base)
        }
    }

    /// Names in a directory, without `.` and `..`; at most `limit` of them, in the directory's
    /// order (`/proc/PID/fd`: ascending). The corresponding C functions are `opendir` and `readdir`.
    public static func directoryEntries(_ path: String, limit: Int = .max) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while names.count < limit, let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Numeric entries of `/proc`: the PIDs visible to us, in no particular order.
    public static func processIDs(procRoot: String = "/proc") throws(SystemError) -> [Int32] {
        guard let dir = opendir(procRoot) else { throw SystemError("opendir", procRoot) }
        defer { closedir(dir) }
        var pids: [Int32] = []
        while let entry = readdir(dir) {
            let pid: Int32? = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { p in
                    var value: Int32 = 0
                    var i = 0
                    while p[i] != 0 {
                        let c = p[i]
                        guard c >= 48 && c <= 57, i < 10 else { return nil }
                        value = value &* 10 &+ Int32(c - 48)
                        i += 1
                    }
                    return i > 0 ? value : nil
                }
            }
            if let pid { pids.append(pid) }
        }
        return pids
    }

    /// Writes `text` to a file (mode 0644), replacing any old one; a symbolic link at `path` is
    /// refused, never followed. Where another user may have been first, use `SafeFiles.writeNew`.
    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .closeOnExec, .noFollow, .noControllingTerminal],
                                         permissions: mode)
        defer { fd.close() }
        try fd.writeAll(Array(text.utf8), path: path)
    }
}
