import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// A copy of an instance's log in the working directory, made on the worker's queue (up to
/// `limit` bytes: never on the input thread) with the bytes exactly as the log holds them
/// (a user's log may hold anything; the copy is evidence, not text).
struct LogSave: @unchecked Sendable {
    // @unchecked: `UnlinkedLog` only reads at offsets (`pread`) through a descriptor it never changes,
    // so the follower's open log may be read here while the input thread keeps following it; the
    // reference keeps the descriptor open until the copy is made.
    let identity: ProcessIdentity
    /// The follower's open log of this instance (readable for a while after the process has gone); nil: opened here.
    let open: UnlinkedLog?

    /// The most copied: the last this many bytes of the log (a sparse 3 GiB log is not copied whole).
    static let limit: Int64 = 64 << 20

    /// Copies the log to `./slirp4netns-PID-TIME.log` and says where, or why not.
    func run() -> WorkResult {
        let reader: UnlinkedLog
        if let open { reader = open } else {
            do { reader = try UnlinkedLog(pid: identity.pid) } catch { return .logSaved(path: nil, error: error.description) }
            // Opened by PID: the process must still be the one asked for (the PID may have been reused since).
            guard ProcessScanner().isAlive(identity) else {
                return .logSaved(path: nil, error: "process \(identity.pid) has exited: its log is gone")
            }
        }
        let name = "slirp4netns-\(identity.pid)-\(Clock.stamp()).log"
        var directory = [CChar](repeating: 0, count: 4096)
        let cwd = getcwd(&directory, directory.count) != nil ? String(cString: directory) : "."
        let path = "\(cwd == "/" ? "" : cwd)/\(name)"
        // A new file, never a link or a file someone left there, created by a name relative to the
        // working directory the process holds: a user who owns a parent of it cannot swap the path
        // between getcwd and open.
        let fd: FileDescriptor
        do { fd = try SafeFiles.createExclusive(name) } catch {
            return .logSaved(path: nil, error: "cannot create \(path): \(error.reason)")
        }
        defer { fd.close() }
        // At most the last `limit` bytes: a sparse log of gigabytes would fill the disk.
        let size = (try? reader.size()) ?? 0
        var from: Int64 = max(0, size - Self.limit)
        let cut = from
        var written: Int64 = 0
        while from - cut < Self.limit {
            let chunk: LogChunk
            do { chunk = try reader.read(from: from, maxBytes: Int(min(1 << 20, Self.limit - (from - cut)))) } catch {
                return .logSaved(path: nil, error: error.description)
            }
            if chunk.bytes.isEmpty { break }
            do { try fd.writeAll(chunk.bytes, path: path) } catch {
                return .logSaved(path: nil, error: "writing \(path): \(error.reason)")
            }
            written += Int64(chunk.bytes.count)
            from = chunk.endOffset
        }
        let note = cut > 0 ? ": the end of a \(Format.bytes(size)) log, cut at \(Format.bytes(Self.limit))" : ""
        return .logSaved(path: path + " (\(Format.bytes(written))\(note))", error: nil)
    }
}
