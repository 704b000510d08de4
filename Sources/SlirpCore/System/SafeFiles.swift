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
    public static func createExclusive(_ path: String, mode: mode_t = 0o600, readable: Bool = false) throws(SystemError) -> Int32 {
        let access = readable ? O_RDWR : O_WRONLY
        let fd = retryingOnInterrupt { open(path, access | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode) }
        if fd < 0 {
            let code = errno
            throw SystemError("create", path, code: code, detail: code == EEXIST ? "something is already there (never reused)" : nil)
        }
        return fd
    }

    /// Writes `bytes` to a new file at `path` (see `createExclusive`).
    public static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(SystemError) {
        let fd = try createExclusive(path, mode: mode)
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
    }

    /// Writes every byte of `bytes` to `fd`. The corresponding C function is `write`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return retryingOnInterrupt { write(fd, base + offset, raw.count - offset) }
            }
            if n < 0 { throw SystemError("write", path) }
            offset += n
        }
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
    public static func openForReading(_ path: String, kind: Kind = .regularFile, followLinks: Bool = true) throws(SystemError) -> Int32 {
        let flags = cslirp_o_path() | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW)
        let pathFD = retryingOnInterrupt { open(path, flags) }
        if pathFD < 0 { throw SystemError("open", path) }
        if !followLinks {
            var st = stat()
            if fstat(pathFD, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
                close(pathFD)
                throw SystemError("open", path, code: ELOOP, detail: "a symbolic link (not followed)")
            }
        }
        return try reopen(pathFD, as: kind, path: path)
    }

    /// Opens `path` inside the directory tree `root` as a process rooted there sees it: every
    /// symbolic link on the way resolves inside `root` (`/proc/PID/root/etc/resolv.conf`, whose
    /// links are the container's, not the host's). Non-blocking, a regular file required, proven
    /// before it is opened (as in `openForReading`).
    public static func openInRoot(_ root: String, _ path: String) throws(SystemError) -> Int32 {
        let pathFD = cslirp_open_in_root(root, path, cslirp_o_path())
        if pathFD < 0 { throw SystemError("open", "\(root)/\(path)") }
        return try reopen(pathFD, as: .regularFile, path: "\(root)/\(path)")
    }

    /// Opens for reading (non-blocking, never as a controlling terminal) the file the `O_PATH`
    /// descriptor `pathFD` names, once it is proven to be of `kind`; closes `pathFD`.
    static func reopen(_ pathFD: Int32, as kind: Kind, path: String) throws(SystemError) -> Int32 {
        defer { close(pathFD) }
        try require(kind, fd: pathFD, path: path)
        let fd = retryingOnInterrupt { open("/proc/self/fd/\(pathFD)", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        if fd < 0 { throw SystemError("open", path) }
        return fd
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
        let dirFD = retryingOnInterrupt { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard dirFD >= 0 else { return false }
        defer { close(dirFD) }
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0, Identity(st) == identity else { return false }
        return unlinkat(dirFD, name, 0) == 0
    }

    /// At most `limit` bytes of the open file `fd`, read from its current offset.
    public static func read(_ fd: Int32, limit: Int, path: String) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var failure: SystemError?
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16384) { buffer in
            guard let base = buffer.baseAddress else { return }
            while result.count < limit {
                let n = retryingOnInterrupt { Glibc.read(fd, base, min(buffer.count, limit - result.count)) }
                if n < 0 { failure = SystemError("read", path); return }
                if n == 0 { return }
                result.append(contentsOf: UnsafeBufferPointer(start: base, count: n))
            }
        }
        if let failure { throw failure }
        return result
    }

    /// The whole of a regular file, refused (EFBIG) when it is larger than `limit` bytes.
    public static func readRegularFile(_ path: String, limit: Int, followLinks: Bool = true) throws(SystemError) -> [UInt8] {
        let fd = try openForReading(path, followLinks: followLinks)
        defer { close(fd) }
        let bytes = try read(fd, limit: limit + 1, path: path)
        if bytes.count > limit { throw SystemError("read", path, code: EFBIG, detail: "larger than \(limit) bytes (not read)") }
        return bytes
    }

    /// Throws unless the open descriptor is of `kind`.
    static func require(_ kind: Kind, fd: Int32, path: String) throws(SystemError) {
        var st = stat()
        if fstat(fd, &st) != 0 { throw SystemError("fstat", path) }
        switch kind {
        case .regularFile:
            guard st.st_mode & S_IFMT == S_IFREG else {
                throw SystemError("open", path, code: EINVAL, detail: "\(describe(st.st_mode)), not a regular file (not read)")
            }
        case .networkNamespace:
            guard cslirp_fd_is_nsfs(fd) == 1 else {
                throw SystemError("open", path, code: EINVAL, detail: "\(describe(st.st_mode)), not a network namespace file (not entered)")
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
