/// What the check of an instance's API socket found, as one word: `held`, `missing`,
/// `not-held`, `ambiguous` or `unverified` (the raw value is the word `list` and `list --json`
/// (`api_socket_status`) write; the monitor's API column says `unverified` too, one word for one fact).
public enum SocketStatus: String, Sendable, Equatable, CaseIterable, Encodable {
    case held
    case missing
    case notHeld = "not-held"
    case ambiguous
    case unverified
}

extension SocketOwnership {
    /// The status word of this finding (`unknown(why)` is `unverified`: the reason is in `description`).
    public var status: SocketStatus {
        switch self {
        case .held: .held
        case .missing: .missing
        case .notHeld: .notHeld
        case .ambiguous: .ambiguous
        case .unknown: .unverified
        }
    }
}
