/// What an instance costs and carries: CPU % and tap traffic per second over a window, with the
/// totals they come from, and whether it is pinned at a whole CPU.
///
/// A rate needs two readings. The monitor keeps the last ones (`LoadHistory`); `slirpmon list`
/// reads twice only when asked (`--rates SECONDS`); otherwise every rate is nil and `unmeasured`
/// says why (never 0 for "not measured").
public struct InstanceLoad: Sendable, Equatable {
    /// User plus system CPU time since it started.
    public var cpuSeconds: Double
    /// CPU time over wall time in `cpuWindow`, in percent of one CPU (a process using two whole
    /// CPUs shows 200, as in htop and top).
    public var cpuPercent: Double?
    public var cpuWindow: Double?
    /// Run plus wait-for-a-CPU time of its main thread over wall time, in percent: how much of a
    /// CPU it wanted, got or not (on a busy host a spinning slirp4netns gets 30 % and waits 70 %).
    public var demandPercent: Double?
    /// The window `demandPercent` and `pinned` were judged over.
    public var pinnedWindow: Double?
    /// The tap's counters at the last reading (nil: not read; `tapError` says why when known).
    public var tap: InterfaceCounters?
    public var tapRates: TrafficRates?
    public var tapWindow: Double?
    /// Seconds from the reading `tapRates` end at to this refresh: 0 when the namespace was read now
    /// (the monitor reads an unselected instance's every 30 s); nil without rates.
    public var tapAge: Double?
    public var tapError: String?
    /// True when it wanted a whole CPU over `pinnedWindow` (`LoadRule.isPinned`); nil: no window long enough yet.
    public var pinned: Bool?
    /// Why the rates are not known, in words; nil when they are.
    public var unmeasured: String?

    public init(cpuSeconds: Double) { self.cpuSeconds = cpuSeconds }

    /// One reading only (`slirpmon show`, `list` without `--rates`): totals, no rate.
    public static func single(cpuSeconds: Double, reason: String) -> InstanceLoad {
        var load = InstanceLoad(cpuSeconds: cpuSeconds)
        load.unmeasured = reason
        return load
    }

    /// The load between two readings of the same process (`list --rates`): judged pinned over the whole interval.
    public static func between(_ a: LoadSample, _ b: LoadSample) -> InstanceLoad {
        var load = InstanceLoad(cpuSeconds: b.cpuSeconds)
        let seconds = b.at - a.at
        guard seconds >= 0.05 else {
            load.unmeasured = "the two readings were too close together"
            return load
        }
        load.cpuPercent = max(0, b.cpuSeconds - a.cpuSeconds) / seconds * 100
        load.cpuWindow = seconds
        if let x = a.demandSeconds, let y = b.demandSeconds { load.demandPercent = max(0, y - x) / seconds * 100 }
        // A burst shorter than `shortestWindow` is not judged: pinned stays unknown (null), not false.
        if seconds >= LoadRule.shortestWindow {
            load.pinnedWindow = seconds
            load.pinned = LoadRule.isPinned(cpuPercent: load.cpuPercent, demandPercent: load.demandPercent)
        }
        load.tap = b.tap
        if let x = a.tap, let y = b.tap {
            load.tapRates = TrafficRates(from: x, to: y, seconds: seconds)
            load.tapWindow = load.tapRates == nil ? nil : seconds
        }
        return load
    }
}

/// When an instance counts as pinned at a whole CPU, and what is said about it.
public enum LoadRule {
    /// Percent of one CPU (wanted, else used) from which it is pinned: near 100 %, as slirp4netns
    /// #157 and #277 describe it (a single-threaded event loop that takes one CPU and no more).
    public static let pinnedPercent = 90.0
    /// The monitor judges over at least this long (a burst of a few seconds is not pinned).
    public static let monitorWindow = 10.0
    /// `list --rates` judges only a window at least this long: a fraction of a second of work is no pinned loop.
    public static let shortestWindow = 2.0
    /// Below this CPU % over a refresh, `/proc/PID/schedstat` is not read (an idle instance costs
    /// no extra read): a spinning process gets more than this on any host it is not starved on.
    public static let busyPercent = 5.0

    /// Pinned when it wanted (ran or waited runnable for) at least `pinnedPercent` of a CPU, or,
    /// without schedstat, used that much. Nil when neither is known.
    public static func isPinned(cpuPercent: Double?, demandPercent: Double?) -> Bool? {
        guard let percent = demandPercent ?? cpuPercent else { return nil }
        return percent >= pinnedPercent
    }

    /// The finding for a pinned instance, or nil. `restart`: the command that restarts it (its
    /// container's or pod's, as its owner), when known.
    public static func finding(pid: Int32, load: InstanceLoad, restart: String?) -> Finding? {
        guard load.pinned == true, let window = load.pinnedWindow else { return nil }
        let wanted = load.demandPercent.map { "wanted a CPU \(Int($0.rounded())) % of the time" }
        let used = load.cpuPercent.map { "\(load.demandPercent == nil ? "used" : "got") \(Int($0.rounded())) %" }
        let over = [wanted, used].compactMap { $0 }.joined(separator: ", ")
        var message = "slirp4netns \(pid) is pinned at a whole CPU (\(over), over the last \(Int(window.rounded())) s)"
        let cause: String
        if let rates = load.tapRates {
            message += "; tap \(Format.rate(rates.rxBytes + rates.txBytes))/s, \(Int((rates.rxPackets + rates.txPackets).rounded())) packets/s"
            cause = rates.rxPackets + rates.txPackets >= 1000
                ? "its traffic takes a whole CPU: slirp4netns moves every packet on one thread, and near 100 % it drops packets and connections (slirp4netns #277)"
                : "a whole CPU with little traffic: a busy loop in slirp4netns or libslirp (slirp4netns #157, #227)"
        } else {
            cause = "a busy loop in slirp4netns or libslirp (slirp4netns #157, #227), or more traffic than one thread moves (slirp4netns #277)"
        }
        let how = restart ?? "as it was started: no Podman container is known for it"
        let fix = "if its tap carries little traffic, restart it (\(how)); for heavy traffic, give the container a network that does not go through one slirp4netns thread (rootful bridge, or pasta)"
        return Finding(check: "cpu", severity: .warning, message: message, cause: FailureCause(.unknown, cause: cause, fix: fix))
    }
}
