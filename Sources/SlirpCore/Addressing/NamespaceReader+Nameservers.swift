#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

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

    /// Why no resolv.conf was read: nothing runs in the namespace.
    static let nobodyInside = "no process in the namespace to read resolv.conf from"

    /// Fills `observed`'s nameservers from the resolv.conf of a process whose network namespace is
    /// the one at `netnsPath` (same device and inode), and names that process; says why not in
    /// `resolvConfProblem`. Returns the process read (PID and start time), to be passed back as
    /// `remembered` next time: while it still lives in that namespace only its resolv.conf is read
    /// (a few calls under its `/proc/PID`); otherwise, or without one, one pass over `/proc` finds
    /// another (asked for one instance at a time: `show`, the monitor's selected instance).
    ///
    /// Which process: one whose root directory is not ours (a container's, where Podman puts the
    /// resolv.conf it writes) before one in another mount namespace (`ip netns exec` binds
    /// `/etc/netns/NAME/resolv.conf` there) before one that sees the host's files (rootlessport's
    /// child sits in a container's namespace with the host's resolv.conf); the lowest PID within each.
    @discardableResult
    public static func readNameservers(into observed: inout ObservedAddresses, netnsPath: String, procRoot: String = "/proc",
                                       remembered: ProcessIdentity? = nil) -> ProcessIdentity? {
        if let remembered, let wanted = ContainerJoin.identity(netnsPath),
           let read = readNameservers(into: &observed, pid: remembered.pid, startTicks: remembered.startTicks, namespace: wanted, procRoot: procRoot) {
            return read
        }
        let candidates = rankedForResolvConf(processesInside(netnsPath: netnsPath, procRoot: procRoot), procRoot: procRoot)
        guard let wanted = ContainerJoin.identity(netnsPath), !candidates.isEmpty else {
            observed.resolvConfProblem = nobodyInside
            return nil
        }
        for pid in candidates.prefix(resolvConfTries) {
            if let read = readNameservers(into: &observed, pid: pid, startTicks: nil, namespace: wanted, procRoot: procRoot) { return read }
        }
        observed.resolvConfProblem = "the namespace's processes exited while their resolv.conf was read"
        return nil
    }

    /// Reads the resolv.conf `pid` sees into `observed`, when it is (still) in the network namespace
    /// `wanted` and, with `startTicks`, the same process; nil when it is not, or gone (try another).
    ///
    /// Everything is read through one descriptor of its `/proc/PID` directory: once the process
    /// exits, nothing under that descriptor can be looked up, even if its PID is reused, so its
    /// command, start time, namespace and resolv.conf are all one process's.
    static func readNameservers(into observed: inout ObservedAddresses, pid: Int32, startTicks: UInt64?,
                                namespace wanted: ContainerJoin.FileIdentity, procRoot: String) -> ProcessIdentity? {
        let base = "\(procRoot)/\(pid)"
        guard let directory = try? FileDescriptor.open(base, .readOnly, options: [.directory, .closeOnExec]) else { return nil }
        defer { directory.close() }
        guard let stat = processFile(directory, "stat").flatMap(ProcessStat.init(bytes:)), !stat.isZombie, !stat.isKernelThread,
              startTicks.map({ $0 == stat.startTicks }) ?? true,
              identity(directory, "ns/net") == wanted,
              let comm = processFile(directory, "comm").map({ String(decoding: $0, as: UTF8.self).trimmingSpaces }),
              let owner = try? directory.status(path: base).st_uid else { return nil }
        let source = NameserverSource(pid: pid, command: TerminalText.escaping(comm))
        do {
            let text = try resolvConf(process: directory, path: "\(base)/root", readableBy: owner)
            observed.nameservers = ObservedAddresses.nameservers(inResolvConf: text)
            observed.resolvConfProblem = nil
        } catch {
            // Gone meanwhile: its files vanish with it (try another).
            guard processFile(directory, "stat") != nil else { return nil }
            observed.nameservers = nil
            observed.resolvConfProblem = error.isGone ? "\(source) has no /etc/resolv.conf" : error.description
        }
        observed.nameserverSource = source
        return stat.identity
    }

    /// `/etc/resolv.conf` as the process whose `/proc/PID` is open at `process` sees it: its links
    /// resolve inside that process's root, never on the host; a FIFO or device there (a user's bind
    /// mount) is refused, not waited on, and so is a file on FUSE (its daemon, a user's program,
    /// answers the read, or never does). Read only when anyone may read it or `owner` (the
    /// process's) owns it: a user who binds a file only root may read (/etc/shadow) over their
    /// container's resolv.conf learns nothing from root. `path` names the root in errors.
    static func resolvConf(process: FileDescriptor, path root: String, readableBy owner: uid_t) throws(SystemError) -> String {
        var identity: ContainerJoin.FileIdentity?
        return try resolvConf(process: process, path: root, readableBy: owner, identity: &identity)
    }

    /// `resolvConf`, and the device and inode of the file read (the file itself, links followed inside the root).
    static func resolvConf(process: FileDescriptor, path root: String, readableBy owner: uid_t,
                           identity: inout ContainerJoin.FileIdentity?) throws(SystemError) -> String {
        let path = "\(root)/etc/resolv.conf"
        let rootFD = FileDescriptor(rawValue: openat(process.rawValue, "root", cslirp_o_path() | O_DIRECTORY | O_CLOEXEC))
        guard rootFD.rawValue >= 0 else { throw SystemError("open", root) }
        defer { rootFD.close() }
        let pathFD = FileDescriptor(rawValue: cslirp_open_in_root_fd(rootFD.rawValue, "etc/resolv.conf", cslirp_o_path()))
        guard pathFD.rawValue >= 0 else { throw SystemError("open", path) }
        if cslirp_fd_is_fuse(pathFD.rawValue) == 1 {
            pathFD.close()
            throw SystemError("open", path, errno: .permissionDenied, detail: "on FUSE: its daemon answers a read, or never does (not read)")
        }
        let fd = try SafeFiles.reopen(pathFD, as: .regularFile, path: path)
        defer { fd.close() }
        let st = try fd.status(path: path)
        guard st.st_mode & S_IROTH != 0 || st.st_uid == owner else {
            throw SystemError("open", path, errno: .permissionDenied,
                              detail: "mode \(String(st.st_mode & 0o7777, radix: 8)), owner uid \(st.st_uid): the process's owner (uid \(owner)) may not read it (not read)")
        }
        identity = ContainerJoin.FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        return String(decoding: try fd.read(upTo: resolvConfLimit, path: path), as: UTF8.self)
    }

    /// A small file under the open `/proc/PID` directory (`stat`, `comm`), or nil.
    private static func processFile(_ directory: FileDescriptor, _ name: String) -> [UInt8]? {
        let fd = FileDescriptor(rawValue: openat(directory.rawValue, name, O_RDONLY | O_CLOEXEC))
        guard fd.rawValue >= 0 else { return nil }
        defer { fd.close() }
        return try? fd.read(upTo: 4096)
    }

    /// Device and inode of what `name` under the open directory names (links followed: `ns/net` is its namespace).
    private static func identity(_ directory: FileDescriptor, _ name: String) -> ContainerJoin.FileIdentity? {
        var st = stat()
        guard fstatat(directory.rawValue, name, &st, 0) == 0 else { return nil }
        return ContainerJoin.FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// The processes whose network namespace is the one at `netnsPath`: the same nsfs device and
    /// inode as `/proc/PID/ns/net`, in PID order; at most `limit`.
    static func processesInside(netnsPath: String, procRoot: String, limit: Int = .max) -> [Int32] {
        guard let wanted = ContainerJoin.identity(netnsPath), let pids = try? Files.processIDs(procRoot: procRoot) else { return [] }
        var found: [Int32] = []
        for pid in pids.sorted() where ContainerJoin.identity("\(procRoot)/\(pid)/ns/net") == wanted {
            found.append(pid)
            if found.count >= limit { break }
        }
        return found
    }

    /// `pids` in the order their resolv.conf is preferred (see `readNameservers(into:netnsPath:procRoot:remembered:)`),
    /// without those whose root cannot be looked at (defunct, gone) and kernel threads (`PF_KTHREAD` in
    /// their `stat`; kdevtmpfs's root is a devtmpfs of its own, so it would rank as a container).
    /// A process's command line is not read: that read takes the process's memory lock, which a
    /// user's process stuck in a page fault (userfaultfd, FUSE-backed memory) holds.
    static func rankedForResolvConf(_ pids: [Int32], procRoot: String) -> [Int32] {
        let ourRoot = ContainerJoin.identity("\(procRoot)/self/root"), ourMounts = ContainerJoin.identity("\(procRoot)/self/ns/mnt")
        let ranked = pids.compactMap { pid -> (pid: Int32, rank: Int)? in
            guard let root = ContainerJoin.identity("\(procRoot)/\(pid)/root"),
                  let stat = (try? Files.readProcessFile("\(procRoot)/\(pid)/stat", limit: 4096)).flatMap(ProcessStat.init(bytes:)),
                  !stat.isKernelThread else { return nil }
            if root != ourRoot { return (pid, 0) }
            return (pid, ContainerJoin.identity("\(procRoot)/\(pid)/ns/mnt") != ourMounts ? 1 : 2)
        }
        return ranked.sorted { ($0.rank, $0.pid) < ($1.rank, $1.pid) }.map(\.pid)
    }
}
