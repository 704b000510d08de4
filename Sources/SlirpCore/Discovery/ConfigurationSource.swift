/// Where an instance's configuration (its command line, and all that is computed from it) comes
/// from: the running process, what was read of it while it ran, or nowhere.
///
/// A defunct (zombie) process has no command line left in `/proc/PID/cmdline`: its values are
/// never slirp4netns's defaults taken for facts, but what was read while it ran (kept facts:
/// `InventoryCache`, on disk for `list` and `show`, the monitor's earlier snapshot), marked last
/// seen, or unknown with the reason.
public enum ConfigurationSource: Sendable, Equatable {
    /// Read from the running process's command line (by this scan, or by an earlier scan of the
    /// very same process, at `readAt`: seconds since the epoch).
    case commandLine(readAt: Double)
    /// The process has exited (defunct, or gone): what its command line said while it ran, as
    /// read at `readAt` (seconds since the epoch).
    case lastSeen(readAt: Double)
    /// Nothing is known of it: `reason` says why.
    case unknown(reason: String)

    /// True unless nothing is known.
    public var isKnown: Bool {
        if case .unknown = self { return false }
        return true
    }

    /// When the values were read, for values last seen; nil otherwise.
    public var lastSeenAt: Double? {
        if case .lastSeen(let at) = self { return at }
        return nil
    }

    /// Why nothing is known; nil when something is.
    public var unknownReason: String? {
        if case .unknown(let reason) = self { return reason }
        return nil
    }

    /// The same values, now that the process has exited: read from a running command line, they are last seen.
    public var afterExit: ConfigurationSource {
        if case .commandLine(let at) = self { return .lastSeen(readAt: at) }
        return self
    }

    /// The JSON word: `command_line`, `last_seen` or `unknown`.
    public var word: String {
        switch self {
        case .commandLine: "command_line"
        case .lastSeen: "last_seen"
        case .unknown: "unknown"
        }
    }
}
