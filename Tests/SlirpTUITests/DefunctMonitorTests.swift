import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real monitor, in tmux, on slirp4netns processes that die under it: a row whose process turns
/// defunct, or is gone, keeps the values seen while it ran, marked last seen; a defunct process it
/// never saw running shows its configuration unknown, not slirp4netns's defaults.
@Suite(.serialized)
struct DefunctMonitorTests {
    /// An instance started by hand (a child of this test: not reaped until the lab stops it) with
    /// options that are not slirp4netns's defaults, its network unique to the test.
    static func start(_ lab: SlirpLab, _ name: String) throws -> (SlirpLab.Instance, cidr: String) {
        let cidr = "10.9.\(UInt8.random(in: 1...250)).0/24"
        var spec = SlirpLab.Spec(name: name, cidr: cidr)
        spec.mtu = 65000
        return (try lab.start(spec), cidr)
    }

    /// What the screen says of `pid`: its row of the list and the pane below it. The PID filter
    /// matches text, so another suite's container row whose ID holds those digits (a created
    /// container shows Podman's default cidr) can share the list; it is not this instance's.
    static func about(_ pid: Int32, in screen: String) -> String {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let title = lines.firstIndex(where: { $0.contains(" pid \(pid) ") }) else { return screen }
        return (lines[..<title].filter { $0.contains(" \(pid) ") } + lines[title...]).joined(separator: "\n")
    }

    static func isDefunct(_ pid: Int32) -> Bool {
        (try? Files.readText("/proc/\(pid)/stat"))?.contains(") Z ") == true
    }

    @Test("a row whose slirp4netns turns defunct, then is gone, keeps its cidr and command line marked last seen; one never seen running says unknown")
    func defunctAndGoneRowsKeepLastSeenValues() throws {
        try #require(TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")")
        let lab = try SlirpLab(prefix: "smt-dfmon-\(getpid())-\(UInt32.random(in: 0..<100000))")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        // Killed before the monitor starts: it never sees it run.
        let (early, _) = try Self.start(lab, "early")
        lab.signal(early, SIGKILL)
        try #require(eventually { Self.isDefunct(early.pid) }, "pid \(early.pid) is not defunct")
        let (late, cidr) = try Self.start(lab, "late")

        let tmux = TmuxHarness(width: 160, height: 45)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)

        // Never seen running: unknown, with the reason; nothing computed from slirp4netns's defaults.
        tmux.showOnly(pid: early.pid)
        let unknown = tmux.waitUntil { $0.contains("PID \(early.pid)") && $0.contains("config  unknown") }
        #expect(unknown.found, "no 'unknown' for a defunct instance never seen running:\n\(unknown.screen)")
        let unknownShown = Self.about(early.pid, in: unknown.screen)
        #expect(!unknownShown.contains("10.0.2.0/24") && !unknownShown.contains("10.0.2.100"), "defaults shown as facts:\n\(unknown.screen)")
        #expect(!unknownShown.contains("started without --api-socket") && !unknownShown.contains("tap device (default name)"), "\(unknown.screen)")
        #expect(!unknownShown.contains("podman restart"), "a hand-started instance is offered Podman's fix:\n\(unknown.screen)")

        // Seen running, then killed: defunct, its values kept and marked last seen.
        tmux.showOnly(pid: late.pid)
        #expect(tmux.waitUntil { $0.contains("PID \(late.pid)") && $0.contains(cidr) }.found, "pid \(late.pid) is not shown with \(cidr)")
        lab.signal(late, SIGKILL)
        let defunct = tmux.waitUntil { $0.contains("zombie") && $0.contains("config  last seen") }
        #expect(defunct.found, "a row turned defunct is not marked last seen:\n\(defunct.screen)")
        #expect(defunct.screen.contains(cidr) && defunct.screen.contains("--mtu=65000"), "its values are gone:\n\(defunct.screen)")
        let defunctShown = Self.about(late.pid, in: defunct.screen)
        #expect(!defunctShown.contains("10.0.2.100") && !defunctShown.contains("started without --api-socket"), "\(defunct.screen)")
        #expect(!defunctShown.contains("podman restart"), "a hand-started instance is offered Podman's fix:\n\(defunct.screen)")
        #expect(defunct.screen.contains("(last seen): the process has exited"), "its API socket is shown as checked:\n\(defunct.screen)")

        // Reaped: the row is gone, still with the values last seen.
        lab.stop(late)
        let gone = tmux.waitUntil { $0.contains("gone: the process has exited") }
        #expect(gone.found, "the row is not marked gone:\n\(gone.screen)")
        #expect(gone.screen.contains("config  last seen") && gone.screen.contains(cidr) && gone.screen.contains("--mtu=65000"), "\(gone.screen)")
        let goneShown = Self.about(late.pid, in: gone.screen)
        #expect(!goneShown.contains("10.0.2.100"), "\(gone.screen)")

        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test("a row whose slirp4netns exits while its socket was held says nothing of the socket or its forwards once gone")
    func goneRowDoesNotClaimItsSocket() throws {
        try #require(TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")")
        let lab = try SlirpLab(prefix: "smt-gonemon-\(getpid())-\(UInt32.random(in: 0..<100000))")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        let (instance, _) = try Self.start(lab, "held")
        let tmux = TmuxHarness(width: 160, height: 45)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        tmux.showOnly(pid: instance.pid)
        func row(_ screen: String) -> String { screen.split(separator: "\n").first { $0.contains(" \(instance.pid) ") }.map(String.init) ?? "" }
        let held = tmux.waitUntil { row($0).contains(" yes ") }
        #expect(held.found, "the socket is not shown held while it runs:\n\(held.screen)")
        lab.stop(instance) // killed and reaped at once: from running straight to gone
        let gone = tmux.waitUntil { row($0).contains(" gone ") }
        #expect(gone.found, "the row is not marked gone:\n\(gone.screen)")
        #expect(!row(gone.screen).contains(" yes "), "a gone process's socket is shown held: \(row(gone.screen))")
        #expect(!row(gone.screen).contains(" 0 "), "a gone process's forward count is shown as current: \(row(gone.screen))")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
