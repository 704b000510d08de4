/// What a metrics page holds beyond the per-instance series.
public struct MetricsOptions: Sendable {
    /// One `slirpmon_forward_info` series per live forward (`--per-forward`). Off by default: a
    /// forward's ports are labels, and an instance may carry thousands of forwards.
    public var perForward: Bool
    /// At most this many `slirpmon_forward_info` series per instance (`forwards_unlisted` counts
    /// the rest): a user adds forwards through their own API socket, 10 000 of them would be
    /// 10 000 series on every scrape.
    public var forwardsPerInstance: Int
    /// Seconds to wait for each API socket's answer (`list_hostfwd`).
    public var apiTimeout: Double
    /// Ask Podman for container names and for containers whose slirp4netns is missing.
    public var podman: Bool

    public init(perForward: Bool = false) {
        self.perForward = perForward
        forwardsPerInstance = 256
        apiTimeout = 2
        podman = true
    }
}
