import SlirpServe
import Testing

/// `slirpmon serve`'s log of Podman's failures: said as `slirpmon metrics` says them, but once per
/// failure per interval and safe for a terminal or a journal, whatever a user puts in them.
@Suite("slirpmon serve logs each Podman failure once per 5 minutes, escaped")
struct FailureLogTests {
    /// The lines written, as the log hands them to stderr.
    final class Lines: @unchecked Sendable {
        let lines = Locked<[String]>([])
        var all: [String] { lines.value }
    }

    func log(_ lines: Lines, linesPerInterval: Int = 20) -> FailureLog {
        FailureLog(interval: 300, linesPerInterval: linesPerInterval) { line in lines.lines.update { $0.append(line) } }
    }

    @Test("a user's failing Podman on every render (every 2 s): one line, again after 5 minutes; its clock times do not make it new")
    func sameFailureOncePerInterval() {
        let lines = Lines()
        let failures = log(lines)
        let failure = { (clock: String) in "alice's podman did not answer within 10 s (storage locked?) at \(clock); not asked again until \(clock) or until its configuration or containers change" }
        failures.note([failure("12:00:01")], now: 1000)
        for step in 1..<100 { failures.note([failure("12:0\(step % 10):0\(step % 10)")], now: 1000 + Double(step) * 2) }
        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(lines.all.first == "slirpmon serve: \(failure("12:00:01"))")
        failures.note([failure("12:05:02")], now: 1301)
        #expect(lines.all.count == 2 && lines.all.last?.contains("12:05:02") == true, "\(lines.all)")
        failures.note([], now: 1302)
        #expect(lines.all.count == 2)
    }

    @Test("a failure carrying a user's escape sequences and newlines is one line with them shown as \\x1B, never sent to the terminal")
    func hostileTextIsEscaped() {
        let lines = Lines()
        log(lines).note(["mallory's podman failed: Error: \u{1B}]0;root owned\u{07}\u{1B}[2J\nslirpmon serve: forged line \u{202E}"], now: 5)
        let line = lines.all.first ?? ""
        #expect(lines.all.count == 1)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{202E}" }, "\(line.debugDescription)")
        #expect(line.contains("\\x1B]0;root owned\\x07\\x1B[2J\\x0Aslirpmon serve: forged line \\u{202E}"), "\(line)")
    }

    @Test("a user whose Podman fails a new way on every render (touching their containers.conf): at most 20 lines per 5 minutes, then how many were not logged")
    func aFloodIsCapped() {
        let lines = Lines()
        let failures = log(lines, linesPerInterval: 20)
        for step in 0..<150 { failures.note(["mallory's podman failed: Error: attempt \(step)"], now: 10 + Double(step) * 2) }
        #expect(lines.all.count == 20, "\(lines.all.count) lines")
        failures.note(["mallory's podman failed: Error: attempt 999"], now: 311)
        #expect(lines.all.count == 22, "\(lines.all.suffix(3))")
        #expect(lines.all[20] == "slirpmon serve: 130 more Podman failure line(s) were not logged in the last 300 s (at most 20 per 300 s)", "\(lines.all[20])")
        #expect(lines.all[21].hasSuffix("attempt 999"))
    }
}
