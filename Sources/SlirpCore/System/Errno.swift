#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An error number by name: `.noSuchFileOrDirectory`, never `2` (the names are swift-system's).
///
/// Only the values SlirpCore looks at are named; any other arrives as its raw value and is
/// described by the C library (`strerror`).
public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno` now: read it right after the failed call.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The C library's text, e.g. "Permission denied".
    public var description: String { String(cString: strerror(rawValue)) }

    /// `EPERM`: the operation is not permitted (not ours to do, whatever the file's mode).
    public static var notPermitted: Errno { Errno(rawValue: EPERM) }
    /// `ENOENT`
    public static var noSuchFileOrDirectory: Errno { Errno(rawValue: ENOENT) }
    /// `ESRCH`: the process has gone.
    public static var noSuchProcess: Errno { Errno(rawValue: ESRCH) }
    /// `EINTR`: a signal arrived during the call (retried inside `FileDescriptor`, never seen outside it).
    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    /// `EIO`; also what slirpmon says when a call made no progress and gave no errno (a write of 0 bytes).
    public static var ioError: Errno { Errno(rawValue: EIO) }
    /// `EAGAIN`: nothing to read, or no room to write, on a non-blocking descriptor now.
    public static var wouldBlock: Errno { Errno(rawValue: EAGAIN) }
    /// `EACCES`
    public static var permissionDenied: Errno { Errno(rawValue: EACCES) }
    /// `ENOTDIR`: a path component is not a directory (so the file is not there).
    public static var notADirectory: Errno { Errno(rawValue: ENOTDIR) }
    /// `EEXIST`
    public static var fileExists: Errno { Errno(rawValue: EEXIST) }
    /// `EINVAL`; also slirpmon's word for "not the kind of file asked for" (a FIFO where a file was expected).
    public static var invalidArgument: Errno { Errno(rawValue: EINVAL) }
    /// `EFBIG`; also slirpmon's word for "larger than the limit, not read".
    public static var fileTooLarge: Errno { Errno(rawValue: EFBIG) }
    /// `EPIPE`: the reader has gone.
    public static var brokenPipe: Errno { Errno(rawValue: EPIPE) }
    /// `ELOOP`; also a symbolic link refused by `O_NOFOLLOW`.
    public static var tooManySymbolicLinkLevels: Errno { Errno(rawValue: ELOOP) }
    /// `ETIMEDOUT`; also slirpmon's word for a program that did not finish in time.
    public static var timedOut: Errno { Errno(rawValue: ETIMEDOUT) }
    /// `ECONNREFUSED`: nothing listens on the socket.
    public static var connectionRefused: Errno { Errno(rawValue: ECONNREFUSED) }
    /// `EINPROGRESS`: a non-blocking connect goes on.
    public static var nowInProgress: Errno { Errno(rawValue: EINPROGRESS) }
    /// `ENETUNREACH`: no route to the network.
    public static var networkUnreachable: Errno { Errno(rawValue: ENETUNREACH) }
    /// `EHOSTUNREACH`: an unreachable route.
    public static var hostUnreachable: Errno { Errno(rawValue: EHOSTUNREACH) }
}
