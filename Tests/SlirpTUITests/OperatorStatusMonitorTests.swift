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
    /// A shell loop run as nobody: the user's fake slirp4netns started, killed 0.25 s later, again.
    final class DyingLoop {
        let pid: pid_t
        init() throws {
            let fake = try UserFakeSlirp.binary.get()
            guard let setpriv = Executables.find("setpriv") else { throw LabSetupError("setpriv is not installed: apt-get install util-linux") }
            let script = "while :; do \(fake) & p=$!; sleep 0.25; kill -9 $p; wait $p 2>/dev/null; sleep 0.05; done"
            guard case .success(let pid) = Executables.spawn(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/bin/sh", "-c", script],
                                                             environment: ["PATH=/usr/bin:/bin"]) else {
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
}
