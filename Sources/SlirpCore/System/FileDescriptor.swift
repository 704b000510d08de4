#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

/// An open file descriptor: the one way slirpmon opens, reads, writes, `fstat`s, polls and
/// closes. Every call retries `EINTR` inside (`retryingOnInterrupt`) and throws `SystemError`,
/// whose `errno` is an `Errno` by name; the `path` a call takes is only for its error's text.
///
/// The shape is swift-system's (`FileDescriptor.open(path, .readOnly, options:)`, `read(into:)`,
/// `read(fromAbsoluteOffset:into:)`, `writeAll`, `close`), and like it this is a plain `Int32`:
/// nothing is closed for you (a `defer { fd.close() }` beside the open).
/// swift-system 1.8.1 is not used: it lacks `openat`/`openat2` (`RESOLVE_IN_ROOT`), `O_PATH` and `O_NOCTTY` by name, `poll` and sockets, its `Errno` carries no path, and linking it adds 254 conformance records that every start-up scans (`slirpmon --version` +1.7% instructions) and a second package for `assets/fuzz.sh` to build.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static var standardOutput: FileDescriptor { FileDescriptor(rawValue: 1) }
    public static var standardError: FileDescriptor { FileDescriptor(rawValue: 2) }

    /// How a file is opened: `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    public enum AccessMode: Sendable, Hashable {
        case readOnly, writeOnly, readWrite

        var flags: Int32 {
            switch self {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        }
    }

    /// The `O_` flags slirpmon opens with.
    public struct OpenOptions: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// `O_NONBLOCK`: a FIFO's open and reads never wait.
        public static var nonBlocking: OpenOptions { OpenOptions(rawValue: O_NONBLOCK) }
        /// `O_CREAT` (give `permissions`).
        public static var create: OpenOptions { OpenOptions(rawValue: O_CREAT) }
        /// `O_TRUNC`
        public static var truncate: OpenOptions { OpenOptions(rawValue: O_TRUNC) }
        /// `O_EXCL`: with `create`, fails when anything is at the path (a link included).
        public static var exclusiveCreate: OpenOptions { OpenOptions(rawValue: O_EXCL) }
        /// `O_NOFOLLOW`: a symbolic link as the last component fails (`ELOOP`).
        public static var noFollow: OpenOptions { OpenOptions(rawValue: O_NOFOLLOW) }
        /// `O_DIRECTORY`
        public static var directory: OpenOptions { OpenOptions(rawValue: O_DIRECTORY) }
        /// `O_CLOEXEC`: not inherited by programs slirpmon starts. Every open here passes it.
        public static var closeOnExec: OpenOptions { OpenOptions(rawValue: O_CLOEXEC) }
        /// `O_NOCTTY`: a terminal opened never becomes slirpmon's controlling terminal.
        public static var noControllingTerminal: OpenOptions { OpenOptions(rawValue: O_NOCTTY) }
        /// `O_PATH`: a descriptor that names the file without opening it (nothing can block or act).
        public static var pathOnly: OpenOptions { OpenOptions(rawValue: cslirp_o_path()) }
    }

    /// Opens `path`. The corresponding C function is `open`.
    public static func open(_ path: String, _ mode: AccessMode, options: OpenOptions = [], permissions: mode_t = 0) throws(SystemError) -> FileDescriptor {
        let fd = retryingOnInterrupt { Glibc.open(path, mode.flags | options.rawValue, permissions) }
        if fd < 0 { throw SystemError("open", path) }
        return FileDescriptor(rawValue: fd)
    }

    /// Opens `path` inside the tree `root` as a process rooted there sees it: every symbolic link
    /// on the way resolves inside `root`, none through `/proc`'s magic links. The corresponding C
    /// function is `openat2` with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`.
    public static func open(_ path: String, inRoot root: String, options: OpenOptions) throws(SystemError) -> FileDescriptor {
        let fd = retryingOnInterrupt { cslirp_open_in_root(root, path, options.rawValue) }
        if fd < 0 { throw SystemError("open", "\(root)/\(path)") }
        return FileDescriptor(rawValue: fd)
    }

    /// Closes the descriptor. Not retried and not reported: Linux frees the descriptor even when
    /// `close` fails (`EINTR` included), and a retry could close one another thread just opened.
    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Reads what is there now into `buffer`: the byte count, 0 at the end of the file.
    /// The corresponding C function is `read`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, path: String? = nil) throws(SystemError) -> Int {
        let n = retryingOnInterrupt { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
        if n < 0 { throw SystemError("read", path) }
        return n
    }

    /// Reads into `buffer` from `offset`, leaving the file offset alone: the byte count, 0 at
    /// the end. The corresponding C function is `pread`.
    public func read(fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer, path: String? = nil) throws(SystemError) -> Int {
        let n = retryingOnInterrupt { pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
        if n < 0 { throw SystemError("pread", path) }
        return n
    }

    /// At most `limit` bytes from the current offset, read until the end of the file (or the limit).
    public func read(upTo limit: Int, path: String? = nil) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var failure: SystemError?
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16384) { buffer in
            while result.count < limit {
                let n: Int
                do throws(SystemError) { n = try read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<min(buffer.count, limit - result.count)])), path: path) } catch {
                    failure = error
                    return
                }
                if n == 0 { return }
                result.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<n]))
            }
        }
        if let failure { throw failure }
        return result
    }

    /// `count` bytes from `offset`, fewer when the file ends first (it may have shrunk).
    public func read(fromAbsoluteOffset offset: Int64, count: Int, path: String? = nil) throws(SystemError) -> [UInt8] {
        var failure: SystemError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while initialized < count {
                let n: Int
                do throws(SystemError) { n = try read(fromAbsoluteOffset: offset + Int64(initialized), into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[initialized...])), path: path) } catch {
                    failure = error
                    return
                }
                if n == 0 { return }
                initialized += n
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes what the file takes now of `buffer`: the byte count. The corresponding C function is `write`.
    public func write(_ buffer: UnsafeRawBufferPointer, path: String? = nil) throws(SystemError) -> Int {
        let n = retryingOnInterrupt { Glibc.write(rawValue, buffer.baseAddress, buffer.count) }
        if n < 0 { throw SystemError("write", path) }
        return n
    }

    /// Writes every byte of `buffer`, in as many `write`s as it takes; a `write` that takes
    /// nothing fails (`EIO`) rather than looping.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, path: String? = nil) throws(SystemError) {
        var offset = 0
        while offset < buffer.count {
            let n = try write(UnsafeRawBufferPointer(rebasing: buffer[offset...]), path: path)
            if n == 0 { throw SystemError("write", path, errno: .ioError) }
            offset += n
        }
    }

    /// Writes every byte of `bytes` (see `writeAll(_:path:)`).
    public func writeAll(_ bytes: [UInt8], path: String? = nil) throws(SystemError) {
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try writeAll(raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes every byte of `bytes` at `offset`, leaving the file offset alone. The corresponding
    /// C function is `pwrite`.
    public func writeAll(toAbsoluteOffset offset: Int64, _ bytes: [UInt8], path: String? = nil) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                let rest = UnsafeRawBufferPointer(rebasing: raw[done...])
                return retryingOnInterrupt { pwrite(rawValue, rest.baseAddress, rest.count, off_t(offset) + off_t(done)) }
            }
            if n < 0 { throw SystemError("pwrite", path) }
            if n == 0 { throw SystemError("pwrite", path, errno: .ioError) }
            done += n
        }
    }

    /// Makes the file `size` bytes long (a longer one sparse). The corresponding C function is `ftruncate`.
    public func resize(to size: Int64, path: String? = nil) throws(SystemError) {
        if retryingOnInterrupt({ ftruncate(rawValue, off_t(size)) }) != 0 { throw SystemError("ftruncate", path) }
    }

    /// What the descriptor's file is: kind, owner, size, times. The corresponding C function is `fstat`.
    public func status(path: String? = nil) throws(SystemError) -> stat {
        var st = stat()
        if fstat(rawValue, &st) != 0 { throw SystemError("fstat", path) }
        return st
    }

    /// Waits until one of `fds` is ready or `deadline` passes, at most `atMost` milliseconds:
    /// how many are ready, 0 when the time ran out, -1 on failure (errno set). Interrupted, it
    /// waits again for what is left. The corresponding C function is `poll`.
    public static func poll(_ fds: UnsafeMutableBufferPointer<pollfd>, until deadline: Deadline, atMost: Int32 = .max) -> Int32 {
        retryingOnInterrupt { Glibc.poll(fds.baseAddress, nfds_t(fds.count), min(deadline.remainingMilliseconds, atMost)) }
    }

    /// `poll(_:until:atMost:)` for a list of descriptors.
    public static func poll(_ fds: inout [pollfd], until deadline: Deadline, atMost: Int32 = .max) -> Int32 {
        fds.withUnsafeMutableBufferPointer { poll($0, until: deadline, atMost: atMost) }
    }

    /// `poll(_:until:atMost:)` for one descriptor.
    public static func poll(_ fd: inout pollfd, until deadline: Deadline, atMost: Int32 = .max) -> Int32 {
        withUnsafeMutablePointer(to: &fd) { poll(UnsafeMutableBufferPointer(start: $0, count: 1), until: deadline, atMost: atMost) }
    }
}

/// Retries `body` while it fails with `EINTR`: the one place slirpmon handles interrupted calls
/// (`FileDescriptor`'s calls and the socket calls of `UnixStreamSocket` go through it).
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
