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

    /// The endpoint of the rootlesskit parent `parentPID` with state directory `stateDir`, checked
    /// now. `held`: the parent's sockets as a caller read them a moment ago (the same command), so
    /// that its fds (one per port with the builtin driver) are not read twice.
    public static func of(parentPID: Int32, stateDir: String, procRoot: String = "/proc", listeners: ListeningSockets? = nil,
                          held: HeldSockets? = nil) -> RootlessKitEndpoint {
        let path = (stateDir.hasSuffix("/") ? String(stateDir.dropLast()) : stateDir) + "/api.sock"
        let sockets = held ?? HeldSockets.read(parentPID, procRoot: procRoot)
        let (ownership, file) = SocketOwnership.verify(path: path, pid: parentPID, socketInodes: sockets.inodes, fdsProblem: sockets.problem,
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
    /// The endpoint of its API socket; nil while its state directory is unknown. Its fds are
    /// read again unless `justRead` (this value was read by the same command a moment ago).
    public func endpoint(procRoot: String = "/proc", listeners: ListeningSockets? = nil, justRead: Bool = false) -> RootlessKitEndpoint? {
        stateDir.map { RootlessKitEndpoint.of(parentPID: pid, stateDir: $0, procRoot: procRoot, listeners: listeners, held: justRead ? heldSockets : nil) }
    }
}

/// The socket inodes a process's fds hold, or why they could not be read.
public struct HeldSockets: Sendable, Equatable {
    /// nil when the fds could not be read.
    public let inodes: Set<UInt64>?
    /// Why they could not be read.
    public let error: SystemError?

    /// Why ownership cannot be proven from them, in `SocketOwnership`'s words; nil when they were read.
    var problem: String? {
        error.map { $0.isPermissionDenied ? SocketOwnership.cannotCheck : "its file descriptors cannot be read: \($0.reason)" }
    }

    /// More fds than this are not read: a rootlesskit holds a few dozen, plus one per port with the builtin driver.
    static let descriptorLimit = 4096

    init(links: some Sequence<String>) {
        inodes = Set(links.compactMap(ProcessScanner.socketInode))
        error = nil
    }

    init(_ error: SystemError) {
        inodes = nil
        self.error = error
    }

    static func read(_ pid: Int32, procRoot: String) -> HeldSockets {
        let base = "\(procRoot)/\(pid)/fd"
        do {
            return HeldSockets(links: try Files.directoryEntries(base, limit: descriptorLimit).lazy.compactMap { try? Files.readLink("\(base)/\($0)") })
        } catch { return HeldSockets(error) }
    }
}
