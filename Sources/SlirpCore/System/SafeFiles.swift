#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

/// Files made and read where another user may have been first, for a slirpmon run as root.
///
/// Creating: a directory is a new private one (`mkdtemp`, mode 0700), never one that already
/// exists; a file is new (`O_CREAT|O_EXCL|O_NOFOLLOW`), never a link or a file someone left
/// there. Reading: a path is opened without blocking (`O_NONBLOCK|O_NOCTTY`: a FIFO at a
/// config file's name would otherwise hang the open, a terminal would become ours), the kind
/// is checked on the descriptor (`fstat`, so a swap after a check proves nothing), and the
/// bytes read are capped. A regular file then never blocks a read, so a read is bounded in time.
public enum SafeFiles {
    /// What a path must be to be read.
    public enum Kind: Sendable {
        /// A regular file (a config file, a log, a `/proc` file).
        case regularFile
        /// A network namespace file (nsfs): `/run/netns/NAME`, `/proc/PID/ns/net`.
        case networkNamespace
    }

    /// Creates a new directory `PARENT/PREFIX.XXXXXX` with a random suffix, mode 0700, owned by
    /// us; returns its path. Never an existing one: a user who pre-creates names gets nothing.
    /// The corresponding C function is `mkdtemp`.
    public static func makePrivateDirectory(in parent: String = "/tmp", prefix: String) throws(SystemError) -> String {
        var template = Array("\(parent)/\(prefix).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard made else { throw SystemError("mkdtemp", path) }
        return path
    }

    /// Creates a new file and returns its descriptor (write-only, or read-write when `readable`).
    /// Fails (EEXIST) when anything is at `path`, a symbolic link included: it is never followed.
    public static func createExclusive(_ path: String, mode: mode_t = 0o600, readable: Bool = false) throws(SystemError) -> FileDescriptor {
        do {
            return try .open(path, readable ? .readWrite : .writeOnly,
                             options: [.create, .exclusiveCreate, .noFollow, .closeOnExec, .noControllingTerminal], permissions: mode)
        } catch {
            throw SystemError("create", path, errno: error.errno, detail: error.errno == .fileExists ? "something is already there (never reused)" : nil)
        }
    }

    /// Writes `bytes` to a new file at `path` (see `createExclusive`).
    public static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(SystemError) {
        let fd = try createExclusive(path, mode: mode)
        defer { fd.close() }
        try fd.writeAll(bytes, path: path)
    }

    /// Opens `path` for reading without blocking and returns the descriptor once it is proven
    /// to be of `kind`. `followLinks: false` refuses a symbolic link as the last component.
    ///
    /// The file is looked at before it is opened: first a descriptor that only names it
    /// (`O_PATH`: no open of a device, a FIFO or a socket happens), its kind proven on that
    /// descriptor, and only then the same file opened for reading through it. Opening is not
    /// harmless: a user's link (their storage.conf, their process's `/proc/PID/fd/2`) may name a
    /// device whose open acts (a watchdog arms, a tape rewinds) or a FIFO whose writer waits for
    /// a reader, and root's open would do it.
    public static func openForReading(_ path: String, kind: Kind = .regularFile, followLinks: Bool = true) throws(SystemError) -> FileDescriptor {
        let pathFD = try FileDescriptor.open(path, .readOnly, options: followLinks ? [.pathOnly, .closeOnExec] : [.pathOnly, .closeOnExec, .noFollow])
        if !followLinks, let st = try? pathFD.status(), st.st_mode & S_IFMT == S_IFLNK {
            pathFD.close()
            throw SystemError("open", path, errno: .tooManySymbolicLinkLevels, detail: "a symbolic link (not followed)")
        }
        return try reopen(pathFD, as: kind, path: path)
    }

    /// Opens `path` inside the directory tree `root` as a process rooted there sees it: every
    /// symbolic link on the way resolves inside `root` (`/proc/PID/root/etc/resolv.conf`, whose
    /// links are the container's, not the host's). Non-blocking, a regular file required, proven
    /// before it is opened (as in `openForReading`).
    public static func openInRoot(_ root: String, _ path: String) throws(SystemError) -> FileDescriptor {
        let pathFD = try FileDescriptor.open(path, inRoot: root, options: .pathOnly)
        return try reopen(pathFD, as: .regularFile, path: "\(root)/\(path)")
    }

    /// Opens for reading (non-blocking, never as a controlling terminal) the file the `O_PATH`
    /// descriptor `pathFD` names, once it is proven to be of `kind`; closes `pathFD`.
    static func reopen(_ pathFD: FileDescriptor, as kind: Kind, path: String) throws(SystemError) -> FileDescriptor {
        defer { pathFD.close() }
        try require(kind, fd: pathFD, path: path)
        do {
            return try .open("/proc/self/fd/\(pathFD.rawValue)", .readOnly, options: [.closeOnExec, .nonBlocking, .noControllingTerminal])
        } catch {
            throw SystemError("open", path, errno: error.errno)
        }
    }

    /// Which file a directory entry is: device and inode, with its kind and owner (a file system
    /// may give a new file the inode number of one just removed, as ext4 does, but not a user's
    /// file root's owner or a socket's kind).
    public struct Identity: Sendable, Equatable {
        public let device: UInt64
        public let inode: UInt64
        public let type: mode_t
        public let owner: uid_t

        init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            type = st.st_mode & S_IFMT
            owner = st.st_uid
        }
    }

    /// The identity of what is at `path` (a link itself, not followed) when it is of kind
    /// `type` (an `S_IFMT` value) and owned by `owner`; nil otherwise or when nothing is there.
    public static func identity(of path: String, type: mode_t, owner: uid_t) -> Identity? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == type, st.st_uid == owner else { return nil }
        return Identity(st)
    }

    /// Removes the entry `path` only while it is still the file `identity` (looked up and
    /// removed through one descriptor of its directory, never following a link): in a shared
    /// directory, a file someone else put at the name afterwards stays. True when removed.
    /// The corresponding C function is `unlinkat`.
    @discardableResult
    public static func remove(_ path: String, ifStill identity: Identity) -> Bool {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { return false }
        guard let dirFD = try? FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec]) else { return false }
        defer { dirFD.close() }
        var st = stat()
        guard fstatat(dirFD.rawValue, name, &st, AT_SYMLINK_NOFOLLOW) == 0, Identity(st) == identity else { return false }
        return unlinkat(dirFD.rawValue, name, 0) == 0
    }

    /// The whole of a regular file, refused (EFBIG) when it is larger than `limit` bytes.
    public static func readRegularFile(_ path: String, limit: Int, followLinks: Bool = true) throws(SystemError) -> [UInt8] {
        let fd = try openForReading(path, followLinks: followLinks)
        defer { fd.close() }
        let bytes = try fd.read(upTo: limit + 1, path: path)
        if bytes.count > limit { throw SystemError("read", path, errno: .fileTooLarge, detail: "larger than \(limit) bytes (not read)") }
        return bytes
    }

    /// Throws unless the open descriptor is of `kind`.
    static func require(_ kind: Kind, fd: FileDescriptor, path: String) throws(SystemError) {
        let st = try fd.status(path: path)
        switch kind {
        case .regularFile:
            guard st.st_mode & S_IFMT == S_IFREG else {
                throw SystemError("open", path, errno: .invalidArgument, detail: "\(describe(st.st_mode)), not a regular file (not read)")
            }
        case .networkNamespace:
            guard cslirp_fd_is_nsfs(fd.rawValue) == 1 else {
                throw SystemError("open", path, errno: .invalidArgument, detail: "\(describe(st.st_mode)), not a network namespace file (not entered)")
            }
        }
    }

    /// "a FIFO", "a directory"...: what a file's mode says it is.
    static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "a special file"
        }
    }
}
