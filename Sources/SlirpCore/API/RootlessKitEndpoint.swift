/// A RootlessKit instance's API socket, `$STATE/api.sock`, and whether its rootlesskit parent
/// process is proven to hold it.
///
/// The rule is the one `APIEndpoint` keeps for slirp4netns: a request goes only to the socket the
/// instance's own process listens on. The rootlesskit parent (not its `/proc/self/exe` child)
/// listens on `api.sock`; the proof is sock_diag against that process's fds (`SocketOwnership`),
/// and the client it gives connects to the proven file only and checks `SO_PEERCRED`.
public struct RootlessKitEndpoint: Sendable {
    /// The rootlesskit parent process.
    public let parentPID: Int32
    public let path: String
    public let ownership: SocketOwnership
    /// The socket file proven held: requests connect to it only.
    public let file: SocketFile?

    /// More fds than this are not read (a rootlesskit holds a few dozen).
    static let descriptorLimit = 4096

    /// The endpoint of the rootlesskit parent `parentPID` with state directory `stateDir`, checked now.
    public static func of(parentPID: Int32, stateDir: String, procRoot: String = "/proc", listeners: ListeningSockets? = nil) -> RootlessKitEndpoint {
        let path = (stateDir.hasSuffix("/") ? String(stateDir.dropLast()) : stateDir) + "/api.sock"
        var inodes: Set<UInt64>?
        var problem: String?
        do {
            let base = "\(procRoot)/\(parentPID)/fd"
            var found = Set<UInt64>()
            for entry in try Files.directoryEntries(base, limit: descriptorLimit) {
                if let link = try? Files.readLink("\(base)/\(entry)"), let inode = ProcessScanner.socketInode(link) { found.insert(inode) }
            }
            inodes = found
        } catch {
            problem = error.isPermissionDenied ? SocketOwnership.cannotCheck : "its file descriptors cannot be read: \(error.reason)"
        }
        let (ownership, file) = SocketOwnership.verify(path: path, pid: parentPID, socketInodes: inodes, fdsProblem: problem,
                                                       procRoot: procRoot, listeners: listeners)
        return RootlessKitEndpoint(parentPID: parentPID, path: path, ownership: ownership, file: file)
    }

    /// Why no request may be sent, in words, or nil when it may. `allowingUnverified`: the
    /// operator's `--unverified` for a socket whose owner could not be proven (`SO_PEERCRED` still applies).
    public func blocker(allowingUnverified: Bool = false) -> String? {
        if ownership.isUsable { return nil }
        if ownership.isUnverified {
            if allowingUnverified { return nil }
            return "RootlessKit API socket \(path) is \(ownership), so it is not proven to be rootlesskit pid \(parentPID)'s and nothing was sent (run as root or as the instance's owner)"
        }
        return "RootlessKit API socket \(path) is \(ownership) (rootlesskit pid \(parentPID))"
    }

    /// A client of this socket, pinned to the proven file and the rootlesskit parent's PID; nil while `blocker` says no.
    public func client(timeout: Double = 2, allowingUnverified: Bool = false) -> RootlessKitAPI? {
        guard blocker(allowingUnverified: allowingUnverified) == nil else { return nil }
        return RootlessKitAPI(socketPath: path, expectedPID: parentPID, expectedFile: file, timeout: timeout)
    }
}

extension RootlessKitParent {
    /// The endpoint of its API socket, checked now; nil while its state directory is unknown.
    public func endpoint(procRoot: String = "/proc", listeners: ListeningSockets? = nil) -> RootlessKitEndpoint? {
        stateDir.map { RootlessKitEndpoint.of(parentPID: pid, stateDir: $0, procRoot: procRoot, listeners: listeners) }
    }
}
