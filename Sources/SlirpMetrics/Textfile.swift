#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SlirpCore

/// `slirpmon metrics --textfile DIR`: the page as `DIR/slirpmon.prom`, for node_exporter's
/// textfile collector, written the way its collector scripts do it: into a temporary file in
/// the same directory (a name without `.prom`, which the collector skips), synced, then renamed
/// over the old file, so a scrape reads the whole old page or the whole new one.
///
/// Run as root, every step goes through descriptors, never through the path again, and the
/// directory must be one no other user can change: the real path (links resolved) is walked
/// from `/` one component at a time without following links, each directory on the way owned
/// by root or a system account (Debian's `/var/lib/prometheus` is `prometheus`'s) and writable
/// by no one else (a sticky one like `/tmp` allowed on the way), and `DIR` itself root's and
/// writable by root alone. Otherwise a user could plant a link where the file goes and root
/// would write, or rename, through it.
public enum Textfile {
    /// The file's name in the directory (node_exporter reads `*.prom`).
    public static let fileName = "slirpmon.prom"
    /// The file's mode: node_exporter runs as its own user (`prometheus` on Debian) and must read it.
    public static let mode: mode_t = 0o644

    /// Refuses, before anything is collected, a directory `write` would refuse.
    public static func check(_ directory: String) throws(MetricsError) {
        try open(directory).close()
    }

    /// Replaces `directory/slirpmon.prom` with `bytes`; the old file stays whole on any failure.
    public static func write(_ bytes: [UInt8], into directory: String) throws(MetricsError) {
        let dir = try open(directory)
        defer { dir.close() }
        let temporary = ".\(fileName).\(getpid())"
        let fd: FileDescriptor
        do {
            fd = try create(temporary, in: dir)
        } catch {
            // One left by a run that died with this PID (the directory is root's alone when root runs this).
            guard error.errno == .fileExists else { throw .write(error) }
            do {
                try dir.unlink(temporary)
                fd = try create(temporary, in: dir)
            } catch { throw .write(error) }
        }
        do {
            defer { fd.close() }
            try fd.setPermissions(mode, path: temporary)
            try fd.writeAll(bytes, path: temporary)
            try fd.synchronize(path: temporary)
        } catch {
            try? dir.unlink(temporary)
            throw .write(error)
        }
        do {
            try dir.rename(temporary, to: fileName)
        } catch {
            try? dir.unlink(temporary)
            throw .write(error)
        }
        // The rename itself on disk: a crash now leaves the new file or the old one, named.
        try? dir.synchronize(path: directory)
    }

    private static func create(_ name: String, in dir: FileDescriptor) throws(SystemError) -> FileDescriptor {
        try .open(name, in: dir, .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec, .noControllingTerminal],
                  permissions: mode)
    }

    /// The directory, opened; as root only one no other user can change (see above).
    static func open(_ directory: String) throws(MetricsError) -> FileDescriptor {
        guard geteuid() == 0 else {
            do { return try .open(directory, .readOnly, options: [.directory, .closeOnExec]) } catch { throw .write(error) }
        }
        guard let resolved = realpath(directory, nil) else {
            throw .write(SystemError("realpath", directory))
        }
        let real = String(cString: resolved)
        free(resolved)
        var current: FileDescriptor
        do { current = try .open("/", .readOnly, options: [.directory, .closeOnExec]) } catch { throw .write(error) }
        var walked = ""
        for component in real.split(separator: "/").map(String.init) {
            do { try check(current, path: walked.isEmpty ? "/" : walked, final: false) } catch { current.close(); throw error }
            let next: FileDescriptor
            do {
                next = try FileDescriptor.open(component, in: current, .readOnly, options: [.directory, .noFollow, .closeOnExec])
            } catch {
                current.close()
                throw error.errno == .tooManySymbolicLinkLevels
                    ? .unsafeDirectory(path: directory, reason: "\(walked)/\(component) became a symbolic link while it was checked")
                    : .write(error)
            }
            current.close()
            current = next
            walked += "/" + component
        }
        do {
            try check(current, path: real, final: true)
        } catch {
            current.close()
            throw error
        }
        return current
    }

    /// Debian's `UID_MIN` (/etc/login.defs): accounts below it are the system's (services such
    /// as `prometheus`), not users who log in.
    static let firstUserID: uid_t = 1000

    /// Refuses a directory another user than root owns or may write to (`final`: a sticky bit
    /// or a system account's ownership does not make `DIR` itself acceptable, only a directory
    /// on the way to it).
    private static func check(_ dir: FileDescriptor, path: String, final: Bool) throws(MetricsError) {
        let st: stat
        do { st = try dir.status(path: path) } catch { throw .write(error) }
        let fix = "use a directory that only root can write to, such as /var/lib/prometheus/node-exporter (Debian's textfile directory)"
        if st.st_uid != 0 && (final || st.st_uid >= firstUserID) {
            throw .unsafeDirectory(path: path, reason: "it belongs to uid \(st.st_uid), who could plant a link where root writes; \(fix)")
        }
        let othersWrite = st.st_mode & 0o022 != 0
        let sticky = st.st_mode & S_ISVTX != 0
        if othersWrite && (final || !sticky) {
            throw .unsafeDirectory(path: path, reason: "other users may write to it (mode \(String(st.st_mode & 0o7777, radix: 8))); \(fix)")
        }
    }
}
