import SlirpCore

/// What background work reports back to the state.
public enum WorkResult: Equatable, Sendable {
    /// A full scan: the instances, or why the scan failed; `clock` is the wall time, formatted.
    case inventory([InstanceSnapshot], error: String?, clock: String)
    case forwards(ProcessIdentity, [HostForward]?, error: String?)
    /// Forwards added (request summary, id) and the failure that stopped the rest, explained.
    case added(EffectTarget, [AddedForward], failure: String?)
    case removed(EffectTarget, HostForward, error: String?)
    case logSaved(path: String?, error: String?)
    /// The tail of a log just (re)opened.
    case logLoaded(ProcessIdentity, lines: [String], truncatedBefore: Bool, error: String?)
    /// Complete new lines of the followed log.
    case logAppended(ProcessIdentity, lines: [String])
    case probed(version: String?, features: [String], error: String?)
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
