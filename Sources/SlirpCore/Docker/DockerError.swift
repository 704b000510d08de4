/// Something about Docker rootless that slirpmon could not read or refused: a proxy's command
/// line not in dockerd's form, a `docker` run that failed or answered in an unexpected shape.
public struct DockerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being read: `rootlesskit-docker-proxy (PID 4242)`, `slirpmon-dk's docker inspect`.
    public let context: String
    /// What was wrong, in words that never repeat the user's text verbatim.
    public let reason: String

    public init(_ context: String, _ reason: String) {
        self.context = context
        self.reason = reason
    }

    public var description: String { "\(context): \(reason)" }
}
