/// One problem a passive check found on a running slirp4netns instance.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable {
        /// The instance cannot do its job (no network, no forwards).
        case failure
        /// Worth a look; it may still work.
        case warning
    }

    /// Which check: `process`, `api-socket`, `log`.
    public let check: String
    public let severity: Severity
    /// What was found, in one line.
    public let message: String
    /// The classified cause with its fix, when known.
    @NullWhenAbsent public private(set) var cause: FailureCause?

    public init(check: String, severity: Severity, message: String, cause: FailureCause? = nil) {
        self.check = check
        self.severity = severity
        self.message = message
        self.cause = cause
    }
}
