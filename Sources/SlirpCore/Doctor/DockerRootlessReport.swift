/// The Docker rootless doctor's findings (`slirpmon doctor --docker-rootless USER --json`): the
/// same `steps`, `verdict`, `healthy`, `log`, `arguments` and `binary` as the Podman doctor's
/// `DoctorReport`, with a subject of its own.
public struct DockerRootlessReport: Encodable, Sendable, Equatable {
    /// Whose daemon, and the settings it starts with.
    public struct Subject: Codable, Sendable, Equatable {
        public var user: String
        public var uid: UInt32
        /// The script followed (the unit's `ExecStart=`, Debian's path, or the one in PATH).
        public var script: String
        /// The unit files whose `Environment=` lines were read.
        public var unitFiles: [String]
        /// The variables that decide the start, each with its origin.
        public var variables: [DockerRootlessSettings.Variable]
        /// Unit lines or files not understood or refused.
        public var problems: [String]

        enum CodingKeys: String, CodingKey {
            case user, uid, script, variables, problems
            case unitFiles = "unit_files"
        }
    }

    public var subject: Subject
    public var steps: [DoctorStep]
    @NullWhenAbsent public private(set) var verdict: DoctorReport.Verdict?
    /// True when no step failed (warnings allowed).
    public private(set) var healthy: Bool
    /// The trial's rootlesskit output (stdout and stderr), whole.
    @NullWhenAbsent public var log: String?
    /// rootlesskit's arguments as the script would exec it (without the program and the command).
    @NullWhenAbsent public var arguments: [String]?
    /// The rootlesskit the script would run.
    @NullWhenAbsent public var binary: String?

    /// The verdict: the trial's cause when the real start failed for a known reason, told with an
    /// earlier step's words when that step saw the same cause (it knows the specifics: the tun's
    /// mode, the variable's file); otherwise the first failed step's.
    public init(subject: Subject, steps: [DoctorStep], log: String?, arguments: [String]?, binary: String?) {
        let verdict = Self.decide(steps)
        (self.subject, self.steps, self.verdict, healthy) = (subject, steps, verdict, verdict == nil)
        (self.log, self.arguments, self.binary) = (log, arguments, binary)
    }

    static func decide(_ steps: [DoctorStep]) -> DoctorReport.Verdict? {
        let failed = steps.filter { $0.status == .failed }
        var verdict: DoctorReport.Verdict?
        if let trial = failed.first(where: { $0.name == "trial" }), let seen = trial.cause, seen.kind != .unknown {
            let earlier = failed.first { $0.name != "trial" && $0.cause?.kind == seen.kind }?.cause
            verdict = DoctorReport.Verdict(step: trial.name, cause: earlier.map { FailureCause($0.kind, cause: $0.cause, fix: $0.fix, evidence: seen.evidence) } ?? seen)
        } else if let first = failed.first(where: { $0.cause != nil && $0.cause?.kind != .unknown }) ?? failed.first {
            verdict = DoctorReport.Verdict(step: first.name, cause: first.cause ?? FailureCause(.unknown, cause: first.details.last ?? "the step failed",
                                                                                                fix: "read the details and the log above"))
        }
        return verdict
    }
}
