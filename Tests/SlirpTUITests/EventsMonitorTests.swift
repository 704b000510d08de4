import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real monitor, in tmux, while slirp4netns processes die under it (Podman #4488: nothing
/// notices that slirp4netns died): the status line says so at the next refresh, in the warning
/// colour, and the Events pane lists it with its time.
@Suite(.serialized)
struct EventsMonitorTests {
    /// The screen's line that mentions `text`, or "".
    static func line(_ screen: String, _ text: String) -> String {
        screen.split(separator: "\n").first { $0.contains(text) }.map(String.init) ?? ""
    }

    /// The foreground colour (SGR 30-37) in effect where `marker` starts in a `capture-pane -e` screen:
    /// tmux writes an attribute only where it changes, so the state is followed from the top.
    static func foreground(at marker: String, in escaped: String) -> Int? {
        guard let range = escaped.range(of: marker) else { return nil }
        let before = Array(escaped[..<range.lowerBound].unicodeScalars)
        var colour: Int?
        var i = 0
        while i < before.count {
            guard before[i] == "\u{1B}", i + 1 < before.count, before[i + 1] == "[" else { i += 1; continue }
            var j = i + 2
            var body = ""
            while j < before.count, before[j] != "m", body.count < 32 { body.unicodeScalars.append(before[j]); j += 1 }
            let parameters: [Int] = body.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
            var k = 0
            while k < parameters.count {
                let p = parameters[k]
                if p == 0 || p == 39 { colour = nil }
                if (30...37).contains(p) { colour = p }
                if p == 38 { k += (k + 1 < parameters.count && parameters[k + 1] == 5) ? 2 : 4 } // 256 or RGB: not one of ours
                k += 1
            }
            i = j + 1
        }
        return colour
    }

    /// The status line: the one above the function-key bar.
    static func statusLine(_ screen: String) -> String {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let bar = lines.lastIndex { $0.contains("F10Quit") } ?? lines.count
        return bar > 0 ? lines[bar - 1] : ""
    }

    /// True when the status line names `pid` with `kind`: alone (`NAME pid N: kind: ...`) or among
    /// others noticed at the same refresh (`3 lost: NAME pid N kind, ...`).
    static func says(_ screen: String, _ kind: String, _ pid: Int32) -> Bool {
        let status = statusLine(screen)
        return status.contains("pid \(pid): \(kind):") || status.contains("pid \(pid) \(kind)")
    }

    /// The times of day (as the monitor writes them) from `from` to `to`, a second apart.
    static func times(from: Double, to: Double) -> [String] {
        stride(from: from.rounded(.down), through: to, by: 1).map { Format.wallTime(at: $0) }
    }

    @Test("a slirp4netns killed while the monitor runs is in the status line at once, in the warning colour; the Events pane lists it with its time; one stopped says died")
    func deathIsShownAtOnce() throws {
        try #require(TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")")
        let lab = try SlirpLab(prefix: "smt-evmon-\(getpid())-\(UInt32.random(in: 0..<100000))")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        let victim = try lab.start(SlirpLab.Spec(name: "victim"))
        let stopped = try lab.start(SlirpLab.Spec(name: "stopped"))
        let tmux = TmuxHarness(width: 160, height: 40)
        defer { tmux.tearDown() }
        // In colour (the test runner sets NO_COLOR): the warning colour is what is checked.
        let binary = try #require(TmuxHarness.binary)
        try tmux.start("env -u NO_COLOR \(binary) -d 0.5; echo EXITED $?; sleep 120")
        #expect(tmux.waitFor("F10Quit").found)
        // Other suites' instances may fill the list and the pane: both narrowed to the victim by the filter.
        tmux.showOnly(pid: victim.pid)
        try #require(tmux.waitFor(" \(victim.pid) ").found, "pid \(victim.pid) is not listed")

        let killedAt = Date().timeIntervalSince1970
        lab.signal(victim, SIGKILL) // a child of this test: defunct until the lab stops it
        let said = tmux.waitUntil(timeout: 5) { Self.says($0, "defunct", victim.pid) }
        let after = Date().timeIntervalSince1970 - killedAt
        #expect(said.found, "the death is not in the status line:\n\(said.screen)")
        #expect(after < 2.5, "said \(after) s after the kill, with a refresh every 0.5 s")
        let status = Self.statusLine(said.screen)
        #expect(Self.times(from: killedAt, to: killedAt + after + 1).contains { status.hasPrefix($0) }, "not with its time: \(status)")
        // The warning colour: yellow (SGR 33) where the status line's text starts.
        let escaped = tmux.capture(escapes: true)
        let now = Self.statusLine(tmux.capture())
        #expect(Self.foreground(at: String(now.prefix(24)), in: escaped) == 33, "not in the warning colour: \(escaped.debugDescription)")

        tmux.send("4")
        let pane = tmux.waitUntil { $0.contains("4 Events") && $0.contains("newest first") && Self.line($0, "pid \(victim.pid)  slirp4netns exited, not reaped") != "" }
        #expect(pane.found, "the Events pane does not list it:\n\(pane.screen)")
        let listed = Self.line(pane.screen, "pid \(victim.pid)  slirp4netns exited, not reaped")
        #expect(listed.contains("defunct") && Self.times(from: killedAt, to: killedAt + after + 1).contains { listed.hasPrefix($0) }, "\(listed)")
        // The state as first seen: its start, at the process's own start time.
        let start = Self.line(pane.screen, "pid \(victim.pid)  slirp4netns started")
        #expect(start.hasPrefix(Format.wallTime(at: victim.startTimeForTest)), "\(start)\n\(pane.screen)")

        tmux.send("F4", "Escape") // the filter cleared: the next death is another instance's
        let stoppedAt = Date().timeIntervalSince1970
        lab.stop(stopped) // exits and is reaped at once: died
        let died = tmux.waitUntil(timeout: 5) { Self.says($0, "died", stopped.pid) }
        #expect(died.found, "a death is not in the status line:\n\(died.screen)")
        #expect(Date().timeIntervalSince1970 - stoppedAt < 2.5)
        #expect(Self.line(died.screen, "pid \(stopped.pid)  slirp4netns exited").contains("died"), "not in the pane:\n\(died.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}

extension SlirpLab.Instance {
    /// The process's start time, as `/proc` gives it (0 when it cannot be read).
    var startTimeForTest: Double {
        ((try? ProcessScanner().scan()) ?? []).first { $0.pid == pid }?.startTime ?? 0
    }
}
