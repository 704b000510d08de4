import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real monitor, in tmux, with no filter, while an unprivileged user starts and kills a
/// process named slirp4netns in a loop (any user can): the operator's own result stays readable,
/// the user's flood takes a bounded part of the Events history, and a failed probe is an event.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct OperatorStatusMonitorTests {
    /// A shell loop run as nobody (or root): the user's fake slirp4netns started, killed 0.25 s later, again.
    final class DyingLoop {
        let pid: pid_t
        init(asRoot: Bool = false) throws {
            let fake = try UserFakeSlirp.binary.get()
            guard let setpriv = Executables.find("setpriv") else { throw LabSetupError("setpriv is not installed: apt-get install util-linux") }
            let script = "while :; do \(fake) & p=$!; sleep 0.25; kill -9 $p; wait $p 2>/dev/null; sleep 0.05; done"
            let (program, args) = asRoot ? ("/bin/sh", ["-c", script]) : (setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/bin/sh", "-c", script])
            guard case .success(let pid) = Executables.spawn(program, args, environment: ["PATH=/usr/bin:/bin"]) else {
                throw LabSetupError("cannot start the user's loop")
            }
            self.pid = pid
        }
        deinit {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
    }

    /// The Events pane's count (` 123 events, newest first`), or nil.
    static func eventCount(_ screen: String) -> Int? {
        for line in screen.split(separator: "\n") where line.contains("newest first") {
            let words = line.split(separator: " ")
            if let i = words.firstIndex(where: { $0.hasPrefix("event") }), i > 0, let n = Int(words[i - 1]) { return n }
        }
        return nil
    }

    /// N of the summary line's "N more ... of nobody's instances", or nil.
    static func summarized(_ screen: String) -> Int? {
        guard let line = screen.split(separator: "\n").first(where: { $0.contains("of nobody's instances (more than") }),
              let more = line.range(of: " more ") else { return nil }
        return line[..<more.lowerBound].split(separator: " ").last.flatMap { Int($0) }
    }

    /// A uid no account and no other test uses: its processes' deaths are not capped by another
    /// user's churn (the full suite starts and stops root's instances by the dozen).
    static let quietUID: UInt32 = 64_123

    /// A process named slirp4netns of `quietUID`, killed (and reaped) by `stop()`: a death.
    static func quietInstance() throws -> UserFakeSlirp {
        try UserFakeSlirp(["--configure", "--mtu=1500", "--netns-type=path", "/run/netns/smt-absent-\(getpid())", "tap0"], uid: quietUID)
    }

    /// An instance of `lab` with a forward from 127.0.0.1 that nothing listens behind (its probe
    /// fails: nothing_listens), and the text of that forward's row.
    static func instanceWithAForward(_ name: String) throws -> (lab: TestLab, instance: SlirpLab.Instance, row: String) {
        let lab = try TestLab(name)
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "h", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)]))
        return (lab, instance, "127.0.0.1:\(port.value)")
    }

    /// Probes the selected forward (`p`) and waits for its result in the status line; returns it.
    @discardableResult
    static func probe(_ tmux: TmuxHarness, row: String) throws -> String {
        tmux.send("p")
        let said = "probe tcp \(row) -> 10.0.2.100:80: nothing_listens"
        try #require(tmux.waitUntil(timeout: 10) { EventsMonitorTests.statusLine($0).contains(said) }.found, "the probe's result is not said")
        return said
    }

    /// Quits the monitor and expects it to exit 0.
    static func quit(_ tmux: TmuxHarness) {
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test("with no filter and a user's slirp4netns dying in a loop: the operator's probe result stays in the status line for seconds, the failed probe is an event, and the user's flood is one summary line past 60 events a minute")
    func operatorsResultOutlastsAUsersDyingLoop() throws {
        let lab = try TestLab("tui-hold")
        defer { withExtendedLifetime(lab) {} }
        let port = try DemoFleet.freeTCPPort()
        // Nothing listens behind the forward: its probe fails (nothing_listens).
        let instance = try lab.start(.init(name: "h", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)]))
        let tmux = TmuxHarness(width: 200, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.3", filteredTo: String(instance.pid))
        tmux.send("3")
        let row = "127.0.0.1:\(port.value)"
        try #require(tmux.waitFor(row).found, "the forward is not listed")
        let loop = try DyingLoop()
        defer { withExtendedLifetime(loop) {} }
        tmux.send("F4", "Escape") // no filter: every user's deaths reach the status line
        #expect(tmux.waitUntil(timeout: 10) { EventsMonitorTests.statusLine($0).contains("slirp4netns exited") || EventsMonitorTests.statusLine($0).contains(" lost: ") }.found,
                "the user's deaths are not said")
        try #require(tmux.waitFor(row).found, "the forwards pane left the instance when the filter was cleared")
        tmux.send("p")
        let said = "probe tcp \(row) -> 10.0.2.100:80: nothing_listens"
        try #require(tmux.waitUntil(timeout: 10) { EventsMonitorTests.statusLine($0).contains(said) }.found, "the probe's result is not said")
        // 3 s: ten refreshes, each with the user's deaths in it.
        let until = Deadline.after(seconds: 3)
        var lost: String?
        while !until.hasPassed {
            let status = EventsMonitorTests.statusLine(tmux.capture())
            if !status.contains(said) { lost = status; break }
            usleep(200_000)
        }
        #expect(lost == nil, "the operator's result was overwritten: \(lost ?? "")")
        // Then the events are said again.
        #expect(tmux.waitUntil(timeout: 10) { !EventsMonitorTests.statusLine($0).contains(said) }.found, "the events never came back to the status line")

        tmux.send("4")
        // The user's flood fills the screen: the filter finds the probe's event by its words.
        let probeEvent = "probe of tcp \(row) -> 10.0.2.100:80 failed: nothing_listens"
        tmux.filter("probe of tcp \(row)")
        let listed = tmux.waitFor(probeEvent)
        #expect(listed.found, "the failed probe is not in the Events pane:\n\(listed.screen)")
        #expect(EventsMonitorTests.line(listed.screen, probeEvent).contains("probe failed"), "\(listed.screen)")
        tmux.send("F4", "Escape")
        let summary = tmux.waitUntil(timeout: 40) { $0.contains("of nobody's instances (more than 60 events of one user in a minute") }
        try #require(summary.found, "no summary of the user's flood:\n\(summary.screen)")
        let before = try #require(Self.eventCount(summary.screen), "\(summary.screen)")
        let leftOut = try #require(Self.summarized(summary.screen), "\(summary.screen)")
        usleep(4_000_000) // the loop goes on: a dozen more of the user's events
        let screen = tmux.capture()
        let after = try #require(Self.eventCount(screen), "\(screen)")
        let leftOutAfter = try #require(Self.summarized(screen), "\(screen)")
        #expect(leftOutAfter >= leftOut + 8, "the user's loop went on, counted in its summary line: \(leftOut) -> \(leftOutAfter)")
        // Other tests on this machine may start and stop a few instances meanwhile: not a dozen.
        #expect(after - before <= 6, "the user's events still fill the history one by one: \(before) -> \(after)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test("a flooding user's summary line is said once, and never over another user's death: another user's slirp4netns dying stays in the status line while nobody's loop goes on")
    func floodSummaryDoesNotHideADeath() throws {
        let victim = try Self.quietInstance()
        let tmux = TmuxHarness(width: 220, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.3")
        try #require(tmux.waitFor("F10Quit").found, "the monitor did not start")
        let loop = try DyingLoop()
        defer { withExtendedLifetime(loop) {} }
        // Past 60 of nobody's events this minute: the summary line, said when first made.
        let summary = tmux.waitUntil(timeout: 60) { EventsMonitorTests.statusLine($0).contains("of nobody's instances (more than") }
        try #require(summary.found, "the user's summary line was never said:\n\(summary.screen)")
        victim.stop()
        let said = tmux.waitUntil(timeout: 5) { EventsMonitorTests.says($0, "died", victim.pid) }
        try #require(said.found, "another user's death is not said:\n\(said.screen)")
        // 3 s: ten refreshes, each with more of nobody's deaths counted in the summary.
        let until = Deadline.after(seconds: 3)
        var over: String?
        while !until.hasPassed {
            let status = EventsMonitorTests.statusLine(tmux.capture())
            if status.contains("of nobody's instances") { over = status; break }
            usleep(150_000)
        }
        #expect(over == nil, "the flood's summary was said over another user's death: \(over ?? "")")
        Self.quit(tmux)
    }

    @Test("two slirp4netns dying while the operator's probe result holds the status line are both said after it, in one line")
    func deathsDuringTheHoldAreAllSaid() throws {
        let (first, second) = (try Self.quietInstance(), try Self.quietInstance())
        let (lab, probed, row) = try Self.instanceWithAForward("tui-merge")
        defer { withExtendedLifetime(lab) {} }
        let tmux = TmuxHarness(width: 220, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.3", filteredTo: String(probed.pid))
        tmux.send("3")
        try #require(tmux.waitFor(row).found, "pid \(probed.pid)'s forward is not shown:\n\(tmux.capture())")
        tmux.send("F4", "Escape") // no filter: the other instances' deaths reach the status line
        try #require(tmux.waitFor(row).found, "the forwards pane left the instance when the filter was cleared")
        try Self.probe(tmux, row: row)
        first.stop()
        usleep(1_000_000) // another refresh or three
        second.stop()
        // Every status line shown until then (another test's instance dying may be said right after).
        var lines: [String] = []
        let until = Deadline.after(seconds: 10)
        while !until.hasPassed {
            let screen = tmux.capture()
            if lines.last != EventsMonitorTests.statusLine(screen) { lines.append(EventsMonitorTests.statusLine(screen)) }
            if EventsMonitorTests.says(screen, "died", first.pid) && EventsMonitorTests.says(screen, "died", second.pid) { break }
            usleep(30_000)
        }
        #expect(lines.contains { $0.contains("pid \(first.pid) died") && $0.contains("pid \(second.pid) died") },
                "not both deaths said after the hold:\n\(lines.joined(separator: "\n"))")
        Self.quit(tmux)
    }

    @Test("the operator's failed probe of a flooding user's instance is listed in the Events pane, not counted in that user's summary")
    func probeOfAFloodingUsersInstanceIsListed() throws {
        let (lab, instance, row) = try Self.instanceWithAForward("tui-cap")
        defer { withExtendedLifetime(lab) {} }
        let tmux = TmuxHarness(width: 220, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.3")
        try #require(tmux.waitFor("F10Quit").found, "the monitor did not start")
        // Root (the instance's owner) floods past 60 events this minute.
        let loop = try DyingLoop(asRoot: true)
        defer { withExtendedLifetime(loop) {} }
        let summary = tmux.waitUntil(timeout: 60) { EventsMonitorTests.statusLine($0).contains("of root's instances (more than") }
        try #require(summary.found, "root's flood was never summarized:\n\(summary.screen)")
        tmux.showOnly(pid: instance.pid)
        tmux.send("3")
        try #require(tmux.waitFor(row).found, "the forward is not listed")
        try Self.probe(tmux, row: row)
        tmux.send("4")
        let probeEvent = "probe of tcp \(row) -> 10.0.2.100:80 failed: nothing_listens"
        // The filter edits the one typed before (the PID): cleared first, or the two run together.
        tmux.send("F4")
        tmux.send("Escape")
        usleep(150_000)
        tmux.filter("probe of tcp \(row)")
        let listed = tmux.waitFor(probeEvent)
        #expect(listed.found, "the failed probe is hidden in root's summary:\n\(listed.screen)")
        Self.quit(tmux)
    }
}
