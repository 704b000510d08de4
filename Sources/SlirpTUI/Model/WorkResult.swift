import SlirpCore

/// What background work reports back to the state.
public enum WorkResult: Equatable, Sendable {
    /// A full scan: the instances (and containers without a slirp4netns), what Podman said,
    /// or why the scan failed; `clock` is the wall time, formatted.
    case inventory([InstanceSnapshot], podman: PodmanStatus = .absent, error: String?, clock: String)
    case forwards(ProcessIdentity, [HostForward]?, error: String?)
    /// A RootlessKit instance's ports (`RootlessKitForward`, not yet joined with Docker: see
    /// `portsJoined`), or why they could not be listed; `listedAt`: the wall time they were read.
    case ports(ProcessIdentity, [RootlessKitForward]?, error: String?, dockerProblem: String? = nil, listedAt: String? = nil)
    /// The same ports joined with Docker rootless's proxies and containers (read on their own
    /// queue after the ports, for the opened pane only); `dockerProblem`: what could not be read.
    case portsJoined(ProcessIdentity, [RootlessKitForward], dockerProblem: String?)
    /// What changed since the scan before (the first scan's: the state as seen), oldest first.
    case events([InventoryEvent])
    /// Forwards added (request summary, id) and what stopped the rest: `failure`, the line for a
    /// request refused or never sent (or a batch refused whole), or `unanswered`, a request sent
    /// whole without an answer (it may still be added) with the error that says so.
    case added(EffectTarget, [AddedForward], failure: String?, unanswered: SentNoAnswer? = nil)
    /// `unanswered`: the removal was sent whole but not answered (it may still be carried out).
    case removed(EffectTarget, HostForward, error: String?, unanswered: Bool = false)
    /// A RootlessKit port removed, or why not (`unanswered`: sent whole, not answered).
    case removedPort(EffectTarget, RootlessKitPort, error: String?, unanswered: Bool = false)
    case logSaved(path: String?, error: String?)
    /// The tail of a log just (re)opened.
    case logLoaded(ProcessIdentity, lines: [String], truncatedBefore: Bool, error: String?)
    /// Complete new lines of the followed log.
    case logAppended(ProcessIdentity, lines: [String])
    case probed(version: String?, features: [String], error: String?)
    /// One step of the startup doctor running for a container.
    case doctorStep(containerID: String, DoctorStep)
    /// The doctor's whole report.
    case doctorFinished(containerID: String, DoctorReport)
    /// The DNS check of an instance: its report, or why it could not run.
    case dnsChecked(ProcessIdentity, DNSReport?, error: String?)
    /// A forward's probe of the instance's row, and when it ended (seconds since the epoch).
    case forwardProbed(ProcessIdentity, ProbeReport, at: Double)
}

/// Whether Podman could be asked, for the header.
public struct PodmanStatus: Equatable, Sendable {
    public var installed: Bool
    /// One line per Podman (user) that could not be asked.
    public var failures: [String]
    public init(installed: Bool, failures: [String] = []) {
        self.installed = installed
        self.failures = failures
    }
    public static let absent = PodmanStatus(installed: false)
    /// Host ports held for containers that no longer run (`PortHolder.sentence`), with the PID to stop.
    public var stalePorts: [String] = []

    /// The stale port holders as one header line, or nil when there is none.
    public var staleLine: String? {
        guard let first = stalePorts.first else { return nil }
        return "Stale port: " + first + (stalePorts.count > 1 ? " (+\(stalePorts.count - 1) more: `slirpmon ports` lists each)" : "")
    }

    /// The header lines under the counts: Podman's failures, then the stale port holders.
    public var headerLines: [String] { [failureLine, staleLine].compactMap { $0 } }

    /// All failures as one line, or nil when Podman answered (or is not installed).
    public var failureLine: String? {
        guard installed, let first = failures.first else { return nil }
        return "Podman: " + first + (failures.count > 1 ? " (+\(failures.count - 1) more: `slirpmon list` prints each)" : "")
    }
}

/// A request sent whole that the instance did not answer, and the error that says so, explained
/// (`ForwardSession.Failure.explanation`).
public struct SentNoAnswer: Equatable, Sendable {
    /// What was sent: an `add_hostfwd`, or a RootlessKit `POST /v1/ports`.
    public var kind: UnansweredRequest.Kind
    public var explanation: String
    public init(request: ForwardRequest, explanation: String) {
        kind = .add(request)
        self.explanation = explanation
    }
    public init(port: RootlessKitPortSpec, explanation: String) {
        kind = .addPort(port)
        self.explanation = explanation
    }
}

/// One forward the API accepted.
public struct AddedForward: Equatable, Sendable {
    public var summary: String
    public var id: Int
    public init(summary: String, id: Int) {
        self.summary = summary
        self.id = id
    }
}
