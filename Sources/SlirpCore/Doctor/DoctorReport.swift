/// The startup doctor's findings: every step, and a verdict naming the failure.
///
/// JSON keys are snake_case and always present (`null` when unknown).
public struct DoctorReport: Codable, Sendable, Equatable {
    /// What was checked.
    public struct Subject: Codable, Sendable, Equatable {
        /// The container name or ID given, or nil for `--options`/defaults.
        @NullWhenAbsent public var container: String?
        @NullWhenAbsent public var containerID: String?
        /// The container's (or the given) slirp4netns options, before containers.conf's.
        public var options: [String]
        /// containers.conf `network_cmd_options`, placed first.
        public var engineOptions: [String]
        public var portMappings: Int
        /// `root` or `rootless`: how the trial ran.
        public var mode: String
        public var containersConf: [String]

        enum CodingKeys: String, CodingKey {
            case container, options, mode
            case containerID = "container_id"
            case engineOptions = "engine_options"
            case portMappings = "port_mappings"
            case containersConf = "containers_conf"
        }
    }

    /// The failure that decides the outcome.
    public struct Verdict: Codable, Sendable, Equatable {
        /// The step that failed.
        public var step: String
        public var cause: FailureCause
    }

    public var subject: Subject
    public var steps: [DoctorStep]
    /// The first failure, or nil when every step passed (warnings allowed).
    @NullWhenAbsent public private(set) var verdict: Verdict?
    /// The trial's slirp4netns log (what Podman prints once and then loses).
    @NullWhenAbsent public var log: String?
    /// The argument list Podman would run (without the program).
    @NullWhenAbsent public var arguments: [String]?
    @NullWhenAbsent public var binary: String?

    /// True when no step failed (warnings allowed): `verdict == nil`, kept beside it for `--json`.
    public private(set) var healthy: Bool

    enum CodingKeys: String, CodingKey {
        case subject, steps, verdict, log, arguments, binary, healthy
    }

    public init(subject: Subject, steps: [DoctorStep], log: String?, arguments: [String]?, binary: String?) {
        self.subject = subject
        self.steps = steps
        self.log = log
        self.arguments = arguments
        self.binary = binary
        // The first failed step decides; when its cause is unknown, a later step may know better.
        let failed = steps.filter { $0.status == .failed }
        let first = failed.first { $0.cause != nil && $0.cause?.kind != .unknown && $0.name == failed.first?.name }
            ?? failed.first { $0.cause != nil && $0.cause?.kind != .unknown } ?? failed.first
        // A cause foreseen from the options (no evidence) gives way to the same cause seen in the trial's log.
        let seen = first?.cause?.evidence == nil ? failed.first { $0.cause?.kind == first?.cause?.kind && $0.cause?.evidence != nil } : nil
        let decisive = seen ?? first
        let verdict = decisive.map { step in
            Verdict(step: step.name, cause: step.cause ?? FailureCause(.unknown, cause: step.details.last ?? "the step failed",
                                                                      fix: "read the details and the log above"))
        }
        self.verdict = verdict
        healthy = verdict == nil
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subject = try c.decode(Subject.self, forKey: .subject)
        steps = try c.decode([DoctorStep].self, forKey: .steps)
        let verdict = try c.decodeIfPresent(Verdict.self, forKey: .verdict)
        self.verdict = verdict
        log = try c.decodeIfPresent(String.self, forKey: .log)
        arguments = try c.decodeIfPresent([String].self, forKey: .arguments)
        binary = try c.decodeIfPresent(String.self, forKey: .binary)
        healthy = verdict == nil
    }
}

extension DoctorReport {
    /// slirp4netns prints its whole --help after a usage error: keep the `Usage:` line, drop the option list.
    public static func collapsingHelp(_ lines: [String]) -> [String] {
        var out: [String] = []
        var inHelp = false
        var dropped = 0
        for line in lines where !line.isEmpty {
            if line.hasPrefix("Usage: ") { inHelp = true; out.append(line); continue }
            if inHelp && (line.hasPrefix("-") || line.hasPrefix("User-mode networking")) { dropped += 1; continue }
            if inHelp && dropped > 0 { out.append("(\(dropped) lines of --help omitted)"); dropped = 0 }
            inHelp = false
            out.append(line)
        }
        if dropped > 0 { out.append("(\(dropped) lines of --help omitted)") }
        return out
    }
}
