/// What a metrics page holds beyond the per-instance series.
public struct MetricsOptions: Sendable {
    /// One `slirpmon_forward_info` series per live forward (`--per-forward`). Off by default: a
    /// forward's ports are labels, and an instance may carry thousands of forwards.
    public var perForward: Bool
    /// Seconds to wait for each API socket's answer (`list_hostfwd`).
    public var apiTimeout: Double
    /// Ask Podman for container names and for containers whose slirp4netns is missing.
    public var podman: Bool

    public init(perForward: Bool = false) {
        self.perForward = perForward
        apiTimeout = 2
        podman = true
    }
}
