import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// How the monitor is started (from `slirpmon` and `slirpmon demo`).
public struct MonitorConfiguration: Sendable {
    /// Seconds between refreshes (`-d`/`--delay`).
    public var delay: Double = 1
    public var useColor = true
    public var readOnly = false
    /// A title shown in the header (e.g. "demo").
    public var banner: String?
    public init() {}
}

/// Runs the full-screen monitor until the operator quits; returns the exit status.
public func runMonitor(_ configuration: MonitorConfiguration) -> Int32 {
    FileOutput.standardError("slirpmon: the ncurses monitor is not built yet; use `slirpmon list` (see --help)\n")
    return 1
}

enum FileOutput {
    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
