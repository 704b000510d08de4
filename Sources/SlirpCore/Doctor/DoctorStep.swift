/// One step of the startup doctor and what it found.
public struct DoctorStep: Codable, Sendable, Equatable {
    /// How a step ended. Only `failed` makes the doctor report a failure.
    public enum Status: String, Codable, Sendable {
        case passed, failed, skipped, warning
    }

    /// Stable step names (`--json`): `binary`, `options`, `features`, `trial`, `host`.
    public let name: String
    /// What the step does, in words.
    public let title: String
    public var status: Status
    /// What it found, one fact per line.
    public var details: [String]
    /// Why it failed (or warns), when it does.
    @NullWhenAbsent public var cause: FailureCause?

    public init(name: String, title: String, status: Status = .passed, details: [String] = [], cause: FailureCause? = nil) {
        self.name = name
        self.title = title
        self.status = status
        self.details = details
        self.cause = cause
    }


    /// Marks the step failed (keeps the first cause).
    mutating func fail(_ detail: String, cause: FailureCause) {
        status = .failed
        details.append(detail)
        if self.cause == nil || self.cause?.kind == .unknown { self.cause = cause }
    }

    /// Marks the step as a warning, unless it already failed.
    mutating func warn(_ detail: String, cause: FailureCause? = nil) {
        if status != .failed { status = .warning }
        details.append(detail)
        if self.cause == nil { self.cause = cause }
    }
}
