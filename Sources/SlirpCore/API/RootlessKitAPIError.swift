/// Why a request to a RootlessKit REST API socket (`$STATE/api.sock`) did not succeed.
public enum RootlessKitAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request was not sent: slirpmon refused it (`reason`) before connecting.
    case invalidRequest(String)
    /// Connecting, proving the peer, writing or reading failed (the socket layer's error, which
    /// `APIClient` shares with slirp4netns's API), in words that name rootlesskit.
    case transport(APIError)
    /// The reply is not the HTTP or JSON RootlessKit sends; `reason` says what was wrong.
    case badReply(path: String, status: Int?, reason: String)
    /// RootlessKit refused the request with `status` and its own `message`, verbatim.
    case rootlesskit(status: Int, message: String)

    public var description: String {
        switch self {
        case .invalidRequest(let reason):
            return "not sent: \(reason)"
        case .transport(let error):
            return error.describe(program: "rootlesskit")
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
        // The slirp4netns port driver hands DELETE to slirp4netns, whose refusal of an id it lacks comes back verbatim.
        if message.contains("remove_hostfwd: bad arguments.id") {
            return "no port has that id (slirp4netns's words, through the slirp4netns port driver): `slirpmon fwd list TARGET` shows the ids"
        }
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
        case .transport(let error): return error.requestWasSent
        case .badReply: return true
        case .invalidRequest, .rootlesskit: return false
        }
    }
}
