#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The log of a slirp4netns process, reached through its open stdout or stderr.
///
/// Podman creates the log and unlinks it at once; it survives only as fd 1 and 2 of
/// the process. Opening `/proc/PID/fd/N` gives a new descriptor on the same file,
/// which is read with `pread` by offset: opening a 1 GiB log costs one `fstat` and
/// one read of the tail, never a read of the whole file.
public final class UnlinkedLog {
    public let pid: Int32
    /// 1 or 2: the descriptor whose file this is.
    public let fd: Int32
    /// The original path of the file, without ` (deleted)`.
    public let originalPath: String
    /// True when the file's name has been removed (as Podman does).
    public let isDeleted: Bool
    private let handle: FileDescriptor

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Neither fd 1 nor fd 2 is a regular file (a terminal, a pipe, /dev/null).
        case notAFile(pid: Int32, targets: [String])
        case system(SystemError)

        public var description: String {
            switch self {
            case .notAFile(let pid, let targets):
                return "slirp4netns \(pid) does not log to a file (stdout/stderr: \(targets.joined(separator: ", "))): nothing to read"
            case .system(let error):
                if error.isPermissionDenied {
                    return "cannot open the log (\(error.subject ?? "")): permission denied; run slirpmon as root or as the process's user"
                }
                if error.isGone { return "cannot open the log: the process has exited (\(error.subject ?? ""))" }
                return "cannot open the log: \(error)"
            }
        }
    }

    /// Opens the log of `pid`: fd 1 when it is a regular file, else fd 2.
    ///
    /// Pipes and terminals are refused without opening them: reading another
    /// process's pipe would steal its output.
    public init(pid: Int32, procRoot: String = "/proc") throws(Failure) {
        var targets: [String] = []
        var lastError: SystemError?
        for fd: Int32 in [1, 2] {
            let link = "\(procRoot)/\(pid)/fd/\(fd)"
            let target: String
            do { target = try Files.readLink(link) } catch {
                lastError = error
                continue
            }
            targets.append(target)
            // Only a regular file is opened (a pipe or a terminal would lose output to us; a device's
            // open may act), proven before it is opened (`SafeFiles.openForReading`). The magic link
            // must be followed: O_NOFOLLOW always fails on it (ELOOP).
            let handle: FileDescriptor
            do { handle = try SafeFiles.openForReading(link) } catch {
                if error.errno != .invalidArgument { lastError = error } // not a regular file
                continue
            }
            self.handle = handle
            self.pid = pid
            self.fd = fd
            (originalPath, isDeleted) = LogPath.stripDeleted(target)
            return
        }
        if targets.isEmpty, let lastError { throw .system(lastError) }
        if let lastError, lastError.isPermissionDenied { throw .system(lastError) }
        throw .notAFile(pid: pid, targets: targets)
    }

    deinit { handle.close() }

    /// The current size of the file in bytes.
    public func size() throws(Failure) -> Int64 {
        do { return Int64(try handle.status(path: originalPath).st_size) } catch { throw .system(error) }
    }

    /// The last `maxBytes` of the log, starting at a line boundary unless that is the start of the file.
    /// Returns the text and the offset where the next `read(from:)` should start.
    public func tail(maxBytes: Int) throws(Failure) -> LogChunk {
        let end = try size()
        let start = max(0, end - Int64(maxBytes))
        var bytes = try read(offset: start, count: Int(end - start))
        var from = start
        // Drop the partial first line, unless it is all there is (one line longer than maxBytes).
        if start > 0, let newline = bytes.firstIndex(of: UInt8(ascii: "\n")), newline < bytes.count - 1 {
            from += Int64(newline + 1)
            bytes.removeFirst(newline + 1)
        }
        return LogChunk(bytes: bytes, startOffset: from, endOffset: from + Int64(bytes.count), truncatedBefore: from > 0)
    }

    /// New bytes since `offset`, at most `maxBytes` (the rest on the next call). If the
    /// file shrank below `offset` (truncated), reading restarts at 0 and says so.
    public func read(from offset: Int64, maxBytes: Int = 1 << 20) throws(Failure) -> LogChunk {
        let end = try size()
        var from = offset
        var restarted = false
        if end < offset { from = 0; restarted = true }
        let count = Int(min(Int64(maxBytes), end - from))
        guard count > 0 else { return LogChunk(bytes: [], startOffset: from, endOffset: from, truncatedBefore: restarted) }
        let bytes = try read(offset: from, count: count)
        return LogChunk(bytes: bytes, startOffset: from, endOffset: from + Int64(bytes.count), truncatedBefore: restarted)
    }

    private func read(offset: Int64, count: Int) throws(Failure) -> [UInt8] {
        do { return try handle.read(fromAbsoluteOffset: offset, count: count, path: originalPath) } catch { throw .system(error) }
    }
}

/// A piece of a log and where it lies in the file.
public struct LogChunk: Sendable, Equatable {
    /// The bytes exactly as the file holds them (`slirpmon log --raw`; the terminal text is
    /// made from them, so a byte that is not UTF-8 is shown by its value).
    public let bytes: [UInt8]
    /// The bytes as UTF-8 text (an invalid byte becomes U+FFFD).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    public let startOffset: Int64
    /// Where the next read should begin.
    public let endOffset: Int64
    /// True when the text does not start at the beginning of the file (or the file was truncated).
    public let truncatedBefore: Bool

    /// The lines of the text; a last line without newline is kept (it may still be growing).
    public var lines: [Substring] {
        let text = text
        guard !text.isEmpty else { return [] }
        // Split on the newline byte: Character splitting runs grapheme breaking on every byte.
        return Array(text.utf8.split(separator: 10, omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).map { Substring($0) })
    }
}
