/// Something about Docker rootless that slirpmon could not read or refused: a proxy's command
/// line not in dockerd's form, a daemon API socket not proven, silent, or answering in an unexpected shape.
public struct DockerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being read: `rootlesskit-docker-proxy (PID 4242)`, `Docker API socket /run/user/1008/docker.sock`.
    public let context: String
    /// What was wrong, in words that never repeat the user's text verbatim.
    public let reason: String

    public init(_ context: String, _ reason: String) {
        self.context = context
        self.reason = reason
    }

    public var description: String { "\(context): \(reason)" }
}
