import SlirpCore
import Synchronization

/// What a render could not read (a user's Podman that failed), said on stderr as `slirpmon
/// metrics` says it, but by a server that renders every few seconds for as long as it runs: each
/// distinct failure once per `interval`, at most `linesPerInterval` lines in an interval, so
/// that a user who makes their Podman fail in ever new ways (touching their containers.conf
/// voids the hold-off) cannot flood the journal. A failure is the same failure when only its
/// clock times differ (`PodmanHoldOff` writes "at 12:00:01; not asked again until 12:01:01").
/// Every line goes through `TerminalText` (a user's text in Podman's words, their paths).
public final class FailureLog: Sendable {
    /// Seconds before the same failure is said again.
    public let interval: Double
    /// Lines said within one interval at most; the rest are counted, and the count said.
    public let linesPerInterval: Int
    private let write: @Sendable (String) -> Void
    private let state = Mutex(State())

    private struct State {
        /// When each failure (its `key`) was last said, monotonic seconds.
        var said: [String: Double] = [:]
        var windowStart: Double?
        var linesInWindow = 0
        var notSaid = 0
    }

    /// `write` gets each line, already escaped (default: stderr).
    public init(interval: Double = 300, linesPerInterval: Int = 20,
                write: @escaping @Sendable (String) -> Void = { TerminalOutput.errorLine($0) }) {
        self.interval = interval
        self.linesPerInterval = max(1, linesPerInterval)
        self.write = write
    }

    /// Says those of `failures` not said within the last `interval`. `now`: monotonic seconds.
    public func note(_ failures: [String], now: Double = Double(Deadline.now.nanoseconds) / 1e9) {
        guard !failures.isEmpty else { return }
        let lines: [String] = state.withLock { state in
            var lines: [String] = []
            if state.windowStart.map({ now - $0 >= interval }) ?? true {
                if state.notSaid > 0 {
                    lines.append("slirpmon serve: \(state.notSaid) more Podman failure line(s) were not logged in the last \(Int(interval)) s (at most \(linesPerInterval) per \(Int(interval)) s)")
                }
                state.windowStart = now
                state.linesInWindow = 0
                state.notSaid = 0
                state.said = state.said.filter { now - $0.value < interval }
            }
            for failure in failures {
                let key = Self.key(failure)
                if let at = state.said[key], now - at < interval { continue }
                guard state.linesInWindow < linesPerInterval else {
                    state.notSaid += 1
                    continue
                }
                state.linesInWindow += 1
                state.said[key] = now
                lines.append("slirpmon serve: \(failure)")
            }
            return lines
        }
        for line in lines { write(TerminalText.escaping(line, as: .line)) }
    }

    /// The failure without its clock times (`HH:MM:SS`), at most 1000 bytes of it.
    static func key(_ failure: String) -> String {
        var bytes = Array(failure.utf8.prefix(1000))
        func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") }
        func colon(_ i: Int) -> Bool { i < bytes.count && bytes[i] == UInt8(ascii: ":") }
        var i = 0
        while i + 8 <= bytes.count {
            if digit(i), digit(i + 1), colon(i + 2), digit(i + 3), digit(i + 4), colon(i + 5), digit(i + 6), digit(i + 7) {
                bytes.replaceSubrange(i..<(i + 8), with: Array("HH:MM:SS".utf8))
                i += 8
            } else {
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
