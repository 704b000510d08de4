/// One thing that changed among the slirp4netns instances, and when: what `slirpmon events` prints
/// and the monitor's Events pane lists. Made by comparing two inventory snapshots (`EventSnapshot`),
/// so the CLI and the monitor say the same.
public struct InventoryEvent: Sendable, Equatable, Encodable {
    /// What happened. The raw values are the JSON's `kind` (stable).
    public enum Kind: String, Sendable, CaseIterable, Encodable {
        /// A slirp4netns process appeared (its `time` is the process's own start time).
        case started
        /// A slirp4netns process is gone (exited and reaped) that was running at the look before.
        case died
        /// A slirp4netns process exited and its parent has not reaped it: the namespace has no network.
        case defunct
        /// A Podman container that was (or is) running lost its slirp4netns: Podman does not notice
        /// (Podman #4488), the container keeps running without a network.
        case lostSlirp4netns = "lost_slirp4netns"
        /// A forward appeared in the instance's `list_hostfwd` (added by anyone: Podman, slirpmon, a script).
        case forwardAdded = "forward_added"
        /// A forward is no longer in the instance's `list_hostfwd`.
        case forwardRemoved = "forward_removed"
        /// A probe of a forward made in the monitor (`p`) gave another verdict than works: made by the
        /// monitor into its own Events pane. `slirpmon events` compares inventory snapshots and so
        /// never sees a probe (another process's, or `fwd probe`'s, whose exit status and JSON are
        /// its record). Its `forward` is the probed one when it has an id; `message` names it always.
        case probeFailed = "probe_failed"

        /// The word the monitor and the CLI's text show.
        public var word: String {
            switch self {
            case .started: "started"
            case .died: "died"
            case .defunct: "defunct"
            case .lostSlirp4netns: "lost slirp4netns"
            case .forwardAdded: "forward added"
            case .forwardRemoved: "forward removed"
            case .probeFailed: "probe failed"
            }
        }

        /// True for what leaves a namespace without a network: shown at once in the monitor's status line.
        public var isLoss: Bool { self == .died || self == .defunct || self == .lostSlirp4netns }
    }

    /// How `time` was known. The raw values are the JSON's `timing` (stable).
    public enum Timing: String, Sendable, Encodable {
        /// The process's own start time from `/proc/PID/stat` (exact to a clock tick).
        case processStart = "process_start"
        /// When slirpmon noticed it: for a change (`seen` false) it happened after the look before,
        /// at most one interval earlier; for the state as first seen, at some unknown time before.
        case noticed
    }

    public let kind: Kind
    /// Seconds since the epoch.
    public let time: Double
    public let timing: Timing
    /// True for the state as it stood at the first look (an instance running, a forward present):
    /// reported once when slirpmon starts looking, not seen happening.
    public let seen: Bool
    /// The slirp4netns process: nil for a container whose slirp4netns slirpmon never saw.
    public let process: ProcessIdentity?
    /// The name an operator knows it by (`SlirpInstance.displayName`, or the container's name).
    public let name: String
    public let containerID: String?
    public let user: String?
    /// The forward added or removed; nil for the other kinds.
    public let forward: HostForward?
    /// What happened in words when the kind's own words are not enough (a probe's verdict, a
    /// summary of a user's events left out); `message` is this when set.
    public let detail: String?

    public init(kind: Kind, time: Double, timing: Timing, seen: Bool, process: ProcessIdentity?, name: String,
                containerID: String?, user: String?, forward: HostForward? = nil, detail: String? = nil) {
        self.detail = detail
        self.kind = kind
        self.time = time
        self.timing = timing
        self.seen = seen
        self.process = process
        self.name = name
        self.containerID = containerID
        self.user = user
        self.forward = forward
    }

    /// What happened, in words (without the time and the name).
    public var message: String {
        if let detail { return detail }
        switch kind {
        case .started: return "slirp4netns started"
        case .died: return "slirp4netns exited"
        case .defunct: return "slirp4netns exited, not reaped by its parent (defunct): the namespace has no network"
        case .lostSlirp4netns:
            return "the container runs without its slirp4netns: it has no network until it is restarted"
        case .forwardAdded: return "forward \(forward.map { "\($0.id): \($0.summary)" } ?? "?") added"
        case .forwardRemoved: return "forward \(forward.map { "\($0.id): \($0.summary)" } ?? "?") removed"
        case .probeFailed: return "probe of forward \(forward.map { "\($0.id): \($0.summary)" } ?? "?") failed"
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, time, timing, seen, pid, name, user, forward, message
        case startTicks = "start_ticks"
        case containerID = "container_id"
    }

    /// Every key always written (`null` when unknown): the shape `events --json` documents.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        // Milliseconds: what a snapshot's clock means; more digits would only be noise.
        try c.encode((time * 1000).rounded() / 1000, forKey: .time)
        try c.encode(timing, forKey: .timing)
        try c.encode(seen, forKey: .seen)
        try c.encode(NullWhenAbsent(wrappedValue: process.map { Int($0.pid) }), forKey: .pid)
        try c.encode(NullWhenAbsent(wrappedValue: process.map { $0.startTicks }), forKey: .startTicks)
        try c.encode(name, forKey: .name)
        try c.encode(NullWhenAbsent(wrappedValue: containerID), forKey: .containerID)
        try c.encode(NullWhenAbsent(wrappedValue: user), forKey: .user)
        try c.encode(NullWhenAbsent(wrappedValue: forward), forKey: .forward)
        try c.encode(message, forKey: .message)
    }
}
