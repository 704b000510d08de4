#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call, with what was being done and on which path.
///
/// Every syscall wrapper in SlirpCore throws this one type, so callers can tell
/// "permission denied" from "gone" without looking at raw errno values.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The operation that failed, usually the C function name (`open`, `connect`).
    public let operation: String
    /// The path or object the operation was about, when there is one.
    public let subject: String?
    /// The `errno` value the call left behind.
    public let code: Int32
    /// Says what was wrong when no errno does (a FIFO where a regular file was expected).
    public let detail: String?

    public init(_ operation: String, _ subject: String? = nil, code: Int32 = errno, detail: String? = nil) {
        self.operation = operation
        self.subject = subject
        self.code = code
        self.detail = detail
    }

    /// The C library's text for `code`, e.g. "Permission denied", or the detail when there is one.
    public var reason: String { detail ?? String(cString: strerror(code)) }

    public var isPermissionDenied: Bool { code == EACCES || code == EPERM }
    /// The object does not exist (any more): a vanished process or a removed file.
    public var isGone: Bool { code == ENOENT || code == ESRCH }

    public var description: String {
        if let subject { return "\(operation)(\(subject)): \(reason)" }
        return "\(operation): \(reason)"
    }
}

/// Retries `body` while it fails with `EINTR`; the one place SlirpCore handles interrupted calls.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
