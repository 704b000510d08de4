/// Why a request to a RootlessKit REST API socket (`$STATE/api.sock`) did not succeed.
public enum RootlessKitAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request was not sent: slirpmon refused it (`reason`) before connecting.
    case invalidRequest(String)
    /// Connecting failed (no socket file, nobody listening, permission).
    case connect(path: String, SystemError)
    /// The path does not fit a unix socket address.
    case pathTooLong(path: String, bytes: Int)
    /// The deadline passed while waiting for `phase` (connect, write, reply).
    case timedOut(path: String, phase: String, seconds: Double)
    /// The listener is not the rootlesskit process the socket should belong to (`SO_PEERCRED`): nothing was sent.
    case wrongPeer(path: String, expected: Int32, actual: Int32)
    /// The socket file at the path is not the one proven held by `expected`: nothing was connected.
    case replaced(path: String, expected: Int32)
    /// Reading or writing failed after connecting.
    case transfer(path: String, SystemError)
    /// The reply exceeded the cap.
    case replyTooLarge(path: String, limit: Int)
    /// The reply is not the HTTP or JSON RootlessKit sends; `reason` says what was wrong.
    case badReply(path: String, status: Int?, reason: String)
    /// RootlessKit refused the request with `status` and its own `message`, verbatim.
    case rootlesskit(status: Int, message: String)

    public var description: String {
        switch self {
        case .invalidRequest(let reason):
            return "not sent: \(reason)"
        case .connect(let path, let error):
            switch error.errno {
            case .noSuchFileOrDirectory: return "no RootlessKit API socket at \(path) (the instance has exited, or its state directory is elsewhere)"
            case .connectionRefused: return "nothing listens on \(path): the rootlesskit process that owned it has exited"
            case .permissionDenied, .notPermitted: return "permission denied connecting to \(path): run slirpmon as root or as the instance's user"
            default: return "cannot connect to \(path): \(error.reason)"
            }
        case .pathTooLong(let path, let bytes):
            return "RootlessKit API socket path is \(bytes) bytes, longer than the \(maximumUnixSocketPathLength) a unix socket allows: \(path)"
        case .timedOut(let path, let phase, let seconds):
            return "rootlesskit did not answer within \(formatSeconds(seconds)) (waiting for \(phase) on \(path)): the process may be stopped or hung"
        case .wrongPeer(let path, let expected, let actual):
            return "refusing to talk to \(path): it is held by pid \(actual), not by rootlesskit pid \(expected) (the path was replaced)"
        case .replaced(let path, let expected):
            return "refusing to connect to \(path): the socket file there is not the one rootlesskit pid \(expected) was found holding (replaced since it was checked)"
        case .transfer(let path, let error):
            return "connection to \(path) failed: \(error.reason)"
        case .replyTooLarge(let path, let limit):
            return "reply from \(path) exceeds \(limit >= 1 << 20 ? "\(limit / (1 << 20)) MiB" : "\(limit) bytes"): not a RootlessKit API socket?"
        case .badReply(let path, let status, let reason):
            return "not a RootlessKit API reply\(status.map { " (HTTP \($0))" } ?? ""): \(reason) (from \(path))"
        case .rootlesskit(let status, let message):
            return "rootlesskit: \(message) (HTTP \(status))"
        }
    }

    /// What the operator can do about it, when slirpmon knows.
    public var hint: String? {
        guard case .rootlesskit(_, let message) = self else { return nil }
        if message.hasPrefix("conflict with ID ") {
            return "another RootlessKit port (id \(message.dropFirst("conflict with ID ".count))) already forwards this parent address and port: remove it first, or choose another port"
        }
        if message.hasPrefix("unknown id") { return "no port has that id: `slirpmon fwd list TARGET` shows the ids" }
        if message.hasPrefix("cannot expose privileged port") {
            return "ports below net.ipv4.ip_unprivileged_port_start (1024 by default) need `sysctl -w net.ipv4.ip_unprivileged_port_start=PORT` on the host, or a port of 1024 or more"
        }
        if message.contains("address already in use") { return "the parent port is already in use on the host" }
        if message.hasPrefix("unsupported protocol") { return "this port driver does not take that protocol (the slirp4netns driver takes tcp, tcp4, udp, udp4)" }
        return nil
    }

    /// True when the whole request was written but no answer was understood: RootlessKit may have
    /// carried it out (a port added), so the outcome is unknown, not a failure.
    public var requestWasSent: Bool {
        switch self {
        case .timedOut(_, let phase, _): return phase == "reply"
        case .transfer(_, let error): return error.operation == "read"
        case .badReply, .replyTooLarge: return true
        default: return false
        }
    }
}
