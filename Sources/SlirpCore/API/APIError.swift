/// Why a request to a slirp4netns API socket did not succeed.
public enum APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Connecting failed (no socket file, nobody listening, permission).
    case connect(path: String, SystemError)
    /// The path does not fit a unix socket address.
    case pathTooLong(path: String, bytes: Int)
    /// The deadline passed while waiting for `phase` (connect, write, reply).
    case timedOut(path: String, phase: String, seconds: Double)
    /// The socket at the path is not held by the slirp4netns process it should belong to.
    case wrongPeer(path: String, expected: Int32, actual: Int32)
    /// The socket file at the path is not the one proven to be held by `expected` (replaced since the check): nothing was connected.
    case replaced(path: String, expected: Int32)
    /// Reading or writing failed after connecting.
    case transfer(path: String, SystemError)
    /// The reply exceeded the safety limit.
    case replyTooLarge(path: String, limit: Int)
    /// The reply could not be understood.
    case badReply(path: String, APIMessage.DecodeError)
    /// slirp4netns answered with an error; `desc` is its text, verbatim.
    case slirp(desc: String)

    public var description: String { describe(program: "slirp4netns") }

    /// The words, naming `program` as the process that should answer (`RootlessKitAPIError` says rootlesskit).
    func describe(program: String) -> String {
        switch self {
        case .connect(let path, let error):
            switch error.errno {
            case .noSuchFileOrDirectory:
                let why = program == "slirp4netns" ? "removed, or the instance was started without --api-socket" : "removed: the \(program) instance has exited?"
                return "no API socket at \(path) (\(why))"
            case .connectionRefused: return "nothing listens on \(path): the \(program) process that owned it has exited"
            case .permissionDenied, .notPermitted: return "permission denied connecting to \(path): run slirpmon as root or as the instance's user"
            default: return "cannot connect to \(path): \(error.reason)"
            }
        case .pathTooLong(let path, let bytes):
            return "API socket path is \(bytes) bytes, longer than the \(maximumUnixSocketPathLength) a unix socket allows: \(path)"
        case .timedOut(let path, let phase, let seconds):
            return "\(program) did not answer within \(formatSeconds(seconds)) (waiting for \(phase) on \(path)): the process may be stopped or hung"
        case .wrongPeer(let path, let expected, let actual):
            return "refusing to talk to \(path): it is held by pid \(actual), not by \(program) pid \(expected) (the path was replaced)"
        case .replaced(let path, let expected):
            return "refusing to connect to \(path): the socket file there is not the one \(program) pid \(expected) was found holding (replaced since it was checked)"
        case .transfer(let path, let error):
            return "connection to \(path) failed: \(error.reason)"
        case .replyTooLarge(let path, let limit):
            return "reply from \(path) exceeds \(limit / (1 << 20)) MiB: not a \(program) API socket?"
        case .badReply(let path, let error):
            return "\(error) (from \(path))"
        case .slirp(let desc):
            return "slirp4netns: \(desc)"
        }
    }

    /// What the operator can do about it, when slirpmon knows.
    public var hint: String? {
        guard case .slirp(let desc) = self else { return nil }
        if desc.hasSuffix("slirp_add_hostfwd failed") {
            return "the host port could not be bound: it is already in use, or the host address is not one of this host's"
        }
        if desc.hasSuffix("remove_hostfwd: bad arguments.id") {
            return "no forward has that id; `slirpmon fwd list TARGET` shows the ids"
        }
        if desc.hasSuffix("slirp_remove_hostfwd failed") {
            return "slirp4netns knows the id but the forward is gone from libslirp"
        }
        if desc.contains("too large message") { return "the request was too large (4096 bytes or more)" }
        if desc.contains("cannot parse JSON") || desc.contains("unknown execute") || desc.contains("no execute found") {
            return "this slirp4netns does not understand the request: is it older than 0.4?"
        }
        if desc.contains("bad arguments.") { return "slirp4netns rejected one of the arguments named above" }
        return nil
    }

    /// True when the whole request was written and its end signalled (`shutdown(SHUT_WR)`), but no
    /// answer was understood: slirp4netns may carry it out yet (a stopped process does once it is
    /// continued: the request waits in its socket), so the outcome is unknown, not a failure. A
    /// request that was not connected or not written whole never reaches slirp4netns's parser
    /// whole: that one was not carried out.
    public var requestWasSent: Bool {
        switch self {
        case .timedOut(_, let phase, _): return phase == "reply"
        case .transfer(_, let error): return error.operation == "shutdown" || error.operation == "read"
        case .badReply, .replyTooLarge: return true
        default: return false
        }
    }

    /// True for `add_hostfwd` failing to bind the host port.
    public var isBindFailure: Bool {
        if case .slirp(let desc) = self { return desc.hasSuffix("slirp_add_hostfwd failed") }
        return false
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\((seconds * 10).rounded() / 10) s"
}
