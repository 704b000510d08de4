import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// Follows the unlinked log of one instance by offset: a tail when opened, then only new bytes.
///
/// The descriptor stays open, so the log stays readable (and savable) for a while even
/// after the process has gone.
final class LogFollower {
    private(set) var identity: ProcessIdentity?
    private var log: UnlinkedLog?
    private var offset: Int64 = 0
    private var partial = ""
    static let tailBytes = 512 << 10

    /// Opens the log of `identity` and returns its tail.
    func open(_ identity: ProcessIdentity) -> WorkResult {
        self.identity = identity
        log = nil
        partial = ""
        do {
            let opened = try UnlinkedLog(pid: identity.pid)
            let chunk = try opened.tail(maxBytes: Self.tailBytes)
            log = opened
            offset = chunk.endOffset
            let lines = split(chunk.text)
            return .logLoaded(identity, lines: lines, truncatedBefore: chunk.truncatedBefore, error: nil)
        } catch {
            return .logLoaded(identity, lines: [], truncatedBefore: false, error: error.description)
        }
    }

    /// New complete lines since the last call (nil when nothing is open or nothing changed).
    func poll() -> WorkResult? {
        guard let log, let identity else { return nil }
        guard let chunk = try? log.read(from: offset, maxBytes: 1 << 20) else { return nil }
        if chunk.truncatedBefore {
            // The file shrank: start again from its beginning.
            partial = ""
            offset = chunk.endOffset
            return .logLoaded(identity, lines: split(chunk.text), truncatedBefore: false, error: nil)
        }
        guard !chunk.bytes.isEmpty else { return nil }
        offset = chunk.endOffset
        let lines = split(chunk.text)
        return lines.isEmpty ? nil : .logAppended(identity, lines: lines)
    }

    /// Complete lines of `partial + text`; an unfinished last line waits for its newline.
    private func split(_ text: String) -> [String] {
        var all = (partial + text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        partial = all.popLast() ?? ""
        return all
    }

    /// Copies the whole log of `identity` to `./slirp4netns-PID-TIME.log`; returns the path.
    func save(_ identity: ProcessIdentity) -> WorkResult {
        let reader: UnlinkedLog
        do {
            if self.identity == identity, let log { reader = log } else { reader = try UnlinkedLog(pid: identity.pid) }
        } catch {
            return .logSaved(path: nil, error: error.description)
        }
        var directory = [CChar](repeating: 0, count: 4096)
        let cwd = getcwd(&directory, directory.count) != nil ? String(cString: directory) : "."
        let path = "\(cwd == "/" ? "" : cwd)/slirp4netns-\(identity.pid)-\(Clock.stamp()).log"
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            return .logSaved(path: nil, error: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var from: Int64 = 0
        var written: Int64 = 0
        while true {
            let chunk: LogChunk
            do { chunk = try reader.read(from: from, maxBytes: 1 << 20) } catch {
                return .logSaved(path: nil, error: error.description)
            }
            let bytes = Array(chunk.text.utf8)
            if bytes.isEmpty { break }
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return 0 }
                    return Glibc.write(fd, base + done, raw.count - done)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    return .logSaved(path: nil, error: "writing \(path): \(String(cString: strerror(errno)))")
                }
                done += n
            }
            written += Int64(bytes.count)
            from = chunk.endOffset
        }
        return .logSaved(path: path + " (\(Format.bytes(written)))", error: nil)
    }
}
