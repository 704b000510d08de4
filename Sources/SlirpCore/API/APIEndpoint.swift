/// One process's API socket: its absolute path and whether the process is proven to hold it.
///
/// All a one-instance command (`fwd add|list|rm`) needs before it sends anything, learnt from
/// that process alone: no scan of the host, no inventory, nothing sent. The socket is proven as
/// for the monitor and `list` (`SocketOwnership`: sock_diag against the process's fds), and the
/// client it gives connects to the proven file only (`APIClient.expectedFile`) and checks the
/// listener's PID (`SO_PEERCRED`).
public struct APIEndpoint: Sendable {
    public let process: SlirpProcess
    /// The socket's path, made absolute through the process's working directory; nil: no `--api-socket`.
    public let path: String?
    /// Whether the process holds the socket at `path` (nil when there is none).
    public let ownership: SocketOwnership?
    /// The socket file proven held: requests connect to it only.
    public let file: SocketFile?

    public init(process: SlirpProcess, path: String?, ownership: SocketOwnership?, file: SocketFile?) {
        self.process = process
        self.path = path
        self.ownership = ownership
        self.file = file
    }

    /// The endpoint of `process`, checked now. `listeners`: the host's listening sockets, when a
    /// refresh dumped them already for all its checks (nil: this check dumps them).
    public static func of(_ process: SlirpProcess, procRoot: String = "/proc", listeners: ListeningSockets? = nil) -> APIEndpoint {
        guard var path = process.configuration.apiSocket else { return APIEndpoint(process: process, path: nil, ownership: nil, file: nil) }
        // A defunct process holds no socket: its path (last seen) is shown, not checked.
        if process.isZombie { return APIEndpoint(process: process, path: path, ownership: nil, file: nil) }
        // A relative path is the process's: slirp4netns bound it in its own working directory.
        if !path.hasPrefix("/"), let cwd = try? Files.readLink("\(procRoot)/\(process.pid)/cwd") {
            path = cwd + "/" + path
        }
        let (ownership, file) = SocketOwnership.verify(path: path, process: process, procRoot: procRoot, listeners: listeners)
        return APIEndpoint(process: process, path: path, ownership: ownership, file: file)
    }

    /// Why no request may be sent (forwards listed, added or removed), in words, or nil when they may.
    /// `allowingUnverified`: the operator's `--unverified`.
    public func blocker(allowingUnverified: Bool = false) -> String? {
        Self.blocker(process: process, path: path, ownership: ownership, allowingUnverified: allowingUnverified)
    }

    /// Why no request may be sent to `path` of `process`. A socket whose owner could not be proven
    /// (`SocketOwnership.unknown`: another user's process, whose fds cannot be read) gets nothing, unless
    /// `allowingUnverified` (the operator's explicit `--unverified`; `SO_PEERCRED` still checks the listener's PID).
    static func blocker(process: SlirpProcess, path: String?, ownership: SocketOwnership?, allowingUnverified: Bool) -> String? {
        if process.isZombie { return "the process is defunct (zombie): it has exited" }
        guard let path else {
            if RootlessNetwork.claimed(by: process) != nil {
                return "no API socket: Podman starts a rootless network's slirp4netns without one; its containers' ports are carried by rootlessport (a port is added by creating the container again with -p)"
            }
            return "no API socket: the instance was started without --api-socket (Podman adds one only with port_handler=slirp4netns and at least one -p)"
        }
        guard let ownership, !ownership.isUsable else { return nil }
        if ownership.isUnverified {
            if allowingUnverified { return nil }
            return "API socket \(path) is \(ownership), so it is not proven to be this slirp4netns's and nothing was sent (run as root or as the instance's owner)"
        }
        return "API socket \(path) is \(ownership)"
    }

    /// A client of this socket, pinned to the proven file and the process's PID; nil without a socket.
    public func client(timeout: Double) -> APIClient? {
        path.map { APIClient(socketPath: $0, expectedPID: process.pid, expectedFile: file, timeout: timeout) }
    }
}
