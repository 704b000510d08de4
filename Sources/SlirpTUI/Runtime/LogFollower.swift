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
    /// The unfinished last line, at most `maximumLineBytes` of it.
    private var partial: [UInt8] = []
    /// Bytes of the current line not kept (past `maximumLineBytes`); its kept part has been shown.
    private var droppedOfLine = 0
    static let tailBytes = 512 << 10
    /// The most kept of one line: a slirp4netns log line is under 200 bytes; a user's process
    /// writing megabytes without a newline is shown cut, with a note, never kept whole.
    static let maximumLineBytes = 4 << 10
    /// The line shown after a cut one (a line of its own, so it shows whatever the pane's width).
    static let cutNote = "[slirpmon: the line above is longer than \(maximumLineBytes >> 10) KiB: cut; the rest up to its newline is not kept]"
    /// The most `save` copies: the last this many bytes of the log (a sparse 3 GiB log is not copied whole).
    static let saveLimit: Int64 = 64 << 20

    /// Opens the log of `identity` and returns its tail.
    func open(_ identity: ProcessIdentity) -> WorkResult {
        self.identity = identity
        log = nil
        partial = []
        droppedOfLine = 0
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
            partial = []
            droppedOfLine = 0
            offset = chunk.endOffset
            return .logLoaded(identity, lines: split(chunk.text), truncatedBefore: false, error: nil)
        }
        guard !chunk.bytes.isEmpty else { return nil }
        offset = chunk.endOffset
        let lines = split(chunk.text)
        return lines.isEmpty ? nil : .logAppended(identity, lines: lines)
    }

    /// Complete lines of `partial + text`; an unfinished last line waits for its newline. A line
    /// is kept to `maximumLineBytes`: when it grows past that, its kept part is shown at once
    /// with a note line after it and the rest, up to its newline, is dropped.
    private func split(_ text: String) -> [String] {
        var lines: [String] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let newline = utf8[start...].firstIndex(of: UInt8(ascii: "\n"))
            let piece = utf8[start..<(newline ?? utf8.endIndex)]
            if droppedOfLine > 0 {
                droppedOfLine += piece.count
            } else {
                let room = Self.maximumLineBytes - partial.count
                partial.append(contentsOf: piece.prefix(room))
                if piece.count > room {
                    droppedOfLine = piece.count - room
                    lines.append(String(decoding: partial, as: UTF8.self))
                    lines.append(Self.cutNote)
                    partial = []
                }
            }
            guard let newline else { break }
            if droppedOfLine > 0 { droppedOfLine = 0 } else { lines.append(String(decoding: partial, as: UTF8.self)) }
            partial = []
            start = utf8.index(after: newline)
        }
        return lines
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
        // A new file: never a link or a file someone left in the working directory.
        let fd: FileDescriptor
        do { fd = try SafeFiles.createExclusive(path) } catch {
            return .logSaved(path: nil, error: "cannot create \(path): \(error.reason)")
        }
        defer { fd.close() }
        // At most the last `saveLimit` bytes: a sparse log of gigabytes would fill the disk.
        let size = (try? reader.size()) ?? 0
        var from: Int64 = max(0, size - Self.saveLimit)
        let cut = from
        var written: Int64 = 0
        while from - cut < Self.saveLimit {
            let chunk: LogChunk
            do { chunk = try reader.read(from: from, maxBytes: Int(min(1 << 20, Self.saveLimit - (from - cut)))) } catch {
                return .logSaved(path: nil, error: error.description)
            }
            let bytes = Array(chunk.text.utf8)
            if bytes.isEmpty { break }
            do { try fd.writeAll(bytes, path: path) } catch {
                return .logSaved(path: nil, error: "writing \(path): \(error.reason)")
            }
            written += Int64(bytes.count)
            from = chunk.endOffset
        }
        let note = cut > 0 ? ": the end of a \(Format.bytes(size)) log, cut at \(Format.bytes(Self.saveLimit))" : ""
        return .logSaved(path: path + " (\(Format.bytes(written))\(note))", error: nil)
    }
}
