/// The words for closed sets of findings, as the CLI's text and the monitor both show them
/// (`--json` writes the raw values, which scripts read and which do not change).

extension AddressCheck.Status {
    /// `ok`, `MISMATCH` (upper case: the one an operator must see), `not computable`, `not observed`.
    public var word: String {
        switch self {
        case .match: "ok"
        case .mismatch: "MISMATCH"
        case .notComputable: "not computable"
        case .notObserved: "not observed"
        case .notConfigured: "not configured"
        }
    }
}

extension DoctorStep.Status {
    /// Four letters, so that the step names after it line up: `PASS`, `FAIL`, `SKIP`, `WARN`.
    public var tag: String {
        switch self {
        case .passed: "PASS"
        case .failed: "FAIL"
        case .skipped: "SKIP"
        case .warning: "WARN"
        }
    }
}

extension ConfigurationSource {
    /// Where a configuration shown comes from, in words, when it is not the running process's:
    /// `last seen: as read ... at HH:MM:SS ...`, `unknown: REASON`; nil for the running process's command line.
    public var note: String? {
        switch self {
        case .commandLine: nil
        case .lastSeen(let at): "last seen: as read from its command line at \(Format.wallTime(at: at)), while it ran (it has exited since)"
        case .unknown(let reason): "unknown: \(reason)"
        }
    }
}
