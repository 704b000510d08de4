#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process whose `/etc/resolv.conf` stood for a network namespace's nameservers.
public struct NameserverSource: Sendable, Equatable, Codable, CustomStringConvertible {
    public let pid: Int32
    /// Its `comm`, escaped for a terminal (its owner names it).
    public let command: String

    /// "PID 4242 (catatonit)".
    public var description: String { "PID \(pid) (\(command))" }
}

extension NamespaceReader {
    /// The largest resolv.conf read: far above any real one (glibc reads 3 nameservers).
    static let resolvConfLimit = 64 << 10

    /// How many processes of a namespace are tried before giving up (each one gone in between).
    static let resolvConfTries = 4

    /// Fills `observed`'s nameservers from the resolv.conf of a process whose network namespace is
    /// the one at `netnsPath` (same device and inode), and names that process; says why not in
    /// `resolvConfProblem`. One pass over `/proc`: asked for one instance at a time (`show`, the
    /// monitor's selected instance), never for a whole fleet.
    ///
    /// Which process: one whose root directory is not ours (a container's, where Podman puts the
    /// resolv.conf it writes) before one in another mount namespace (`ip netns exec` binds
    /// `/etc/netns/NAME/resolv.conf` there) before one that sees the host's files (rootlessport's
    /// child sits in a container's namespace with the host's resolv.conf); the lowest PID within each.
    public static func readNameservers(into observed: inout ObservedAddresses, netnsPath: String, procRoot: String = "/proc") {
        let candidates = rankedForResolvConf(processesInside(netnsPath: netnsPath, procRoot: procRoot), procRoot: procRoot)
        guard !candidates.isEmpty else {
            observed.resolvConfProblem = "no process in the namespace to read resolv.conf from"
            return
        }
        for pid in candidates.prefix(resolvConfTries) {
            if readNameservers(into: &observed, pid: pid, procRoot: procRoot) { return }
        }
        observed.resolvConfProblem = "the namespace's processes exited while their resolv.conf was read"
    }

    /// Reads the resolv.conf `pid` sees into `observed`; false when the process is gone (try another).
    static func readNameservers(into observed: inout ObservedAddresses, pid: Int32, procRoot: String) -> Bool {
        let base = "\(procRoot)/\(pid)"
        let comm = (try? Files.readText("\(base)/comm"))?.trimmingSpaces
        do {
            let owner = try Files.status(base).st_uid
            let text = try resolvConf(root: "\(base)/root", readableBy: owner)
            // Read after the file: a PID reused in between would otherwise name the wrong process.
            guard let comm, Files.exists("\(base)/ns/net") else { return false }
            observed.nameservers = ObservedAddresses.nameservers(inResolvConf: text)
            observed.nameserverSource = NameserverSource(pid: pid, command: TerminalText.escaping(comm))
            observed.resolvConfProblem = nil
            return true
        } catch {
            guard let comm, Files.exists(base) else { return false }
            observed.nameserverSource = NameserverSource(pid: pid, command: TerminalText.escaping(comm))
            observed.nameservers = nil
            observed.resolvConfProblem = error.isGone ? "\(observed.nameserverSource?.description ?? "its process") has no /etc/resolv.conf" : error.description
            return true
        }
    }

    /// `/etc/resolv.conf` as the process rooted at `root` sees it: its links resolve inside that
    /// root, never on the host; a FIFO or device there (a user's bind mount) is refused, not waited on.
    /// Read only when anyone may read it or `owner` (the process's) owns it: a user who binds a file
    /// only root may read (/etc/shadow) over their container's resolv.conf learns nothing from root.
    static func resolvConf(root: String, readableBy owner: uid_t) throws(SystemError) -> String {
        let path = "\(root)/etc/resolv.conf"
        let fd = try SafeFiles.openInRoot(root, "etc/resolv.conf")
        defer { fd.close() }
        let st = try fd.status(path: path)
        guard st.st_mode & S_IROTH != 0 || st.st_uid == owner else {
            throw SystemError("open", path, errno: .permissionDenied,
                              detail: "mode \(String(st.st_mode & 0o7777, radix: 8)), owner uid \(st.st_uid): the process's owner (uid \(owner)) may not read it (not read)")
        }
        return String(decoding: try fd.read(upTo: resolvConfLimit, path: path), as: UTF8.self)
    }

    /// The processes whose network namespace is the one at `netnsPath`: the same nsfs device and
    /// inode as `/proc/PID/ns/net`, in PID order; at most `limit`.
    static func processesInside(netnsPath: String, procRoot: String, limit: Int = .max) -> [Int32] {
        guard let wanted = identity(netnsPath), let pids = try? Files.processIDs(procRoot: procRoot) else { return [] }
        var found: [Int32] = []
        for pid in pids.sorted() where identity("\(procRoot)/\(pid)/ns/net") == wanted {
            found.append(pid)
            if found.count >= limit { break }
        }
        return found
    }

    /// `pids` in the order their resolv.conf is preferred (see `readNameservers(into:netnsPath:procRoot:)`),
    /// without those whose root cannot be looked at (defunct, gone) and kernel threads (no command
    /// line; kdevtmpfs's root is a devtmpfs of its own, so it would rank as a container).
    static func rankedForResolvConf(_ pids: [Int32], procRoot: String) -> [Int32] {
        let ourRoot = identity("\(procRoot)/self/root"), ourMounts = identity("\(procRoot)/self/ns/mnt")
        let ranked = pids.compactMap { pid -> (pid: Int32, rank: Int)? in
            guard let root = identity("\(procRoot)/\(pid)/root"),
                  (try? Files.readProcessFile("\(procRoot)/\(pid)/cmdline", limit: 1))?.isEmpty == false else { return nil }
            if root != ourRoot { return (pid, 0) }
            return (pid, identity("\(procRoot)/\(pid)/ns/mnt") != ourMounts ? 1 : 2)
        }
        return ranked.sorted { ($0.rank, $0.pid) < ($1.rank, $1.pid) }.map(\.pid)
    }

    /// Device and inode of what `path` names (links followed: `/proc/PID/ns/net` is its namespace).
    private static func identity(_ path: String) -> [UInt64]? {
        guard let st = try? Files.status(path) else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }
}
