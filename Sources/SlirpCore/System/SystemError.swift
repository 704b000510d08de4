#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call, with what was being done and on which path.
///
/// Every syscall wrapper in SlirpCore throws this one type, so callers can tell
/// "permission denied" from "gone" by name (`errno == .permissionDenied`), never by number.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The operation that failed, usually the C function name (`open`, `connect`).
    public let operation: String
    /// The path or object the operation was about, when there is one.
    public let subject: String?
    /// The error number the call left behind.
    public let errno: Errno
    /// Says what was wrong when no errno does (a FIFO where a regular file was expected).
    public let detail: String?

    /// `errno` defaults to the calling thread's: make this right after the failed call.
    public init(_ operation: String, _ subject: String? = nil, errno: Errno = .current, detail: String? = nil) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
        self.detail = detail
    }

    /// The same with a raw `errno` value (a C function's return value, `SO_ERROR`).
    public init(_ operation: String, _ subject: String? = nil, code: Int32, detail: String? = nil) {
        self.init(operation, subject, errno: Errno(rawValue: code), detail: detail)
    }

    /// The raw `errno` value (`errno.rawValue`).
    public var code: Int32 { errno.rawValue }

    /// The C library's text for `errno`, e.g. "Permission denied", or the detail when there is one.
    public var reason: String { detail ?? errno.description }

    public var isPermissionDenied: Bool { errno == .permissionDenied || errno == .notPermitted }
    /// The object does not exist (any more): a vanished process or a removed file.
    public var isGone: Bool { errno == .noSuchFileOrDirectory || errno == .noSuchProcess }

    public var description: String {
        if let subject { return "\(operation)(\(subject)): \(reason)" }
        return "\(operation): \(reason)"
    }
}
