import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real binary in a real terminal (tmux) against real slirp4netns instances this test starts.
///
/// Needs root; skipped with the reason otherwise. Each test names its namespaces, sockets and
/// tmux server uniquely, and stops only what it started, by PID.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct EndToEndTests {
    /// Starts one instance on a cidr of its own, so its guest IP is unmistakable on this host.
    func startInstance(_ lab: TestLab, cidr: String, apiSocket: Bool = true) throws -> SlirpLab.Instance {
        var spec = SlirpLab.Spec(name: "i", cidr: cidr, apiSocket: apiSocket)
        spec.mtu = 65520
        return try lab.start(spec)
    }

    @Test func anInstanceAppearsWithItsGuestIPAndItsLogFollowsLive() throws {
        let lab = try TestLab("tui-log")
        defer { withExtendedLifetime(lab) {} }
        let instance = try startInstance(lab, cidr: "10.77.31.0/24")
        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(instance.pid))
        let appeared = tmux.waitFor("10.77.31.100")
        #expect(appeared.found, "guest IP not shown:\n\(appeared.screen)")
        let details = tmux.waitFor("--cidr=10.77.31.0/24")
        #expect(details.found, "details do not decode the command line:\n\(details.screen)")
        #expect(details.screen.contains("(deleted)"))

        tmux.send("2")
        let log = tmux.waitFor("tapfd")
        #expect(log.found, "log lines not shown:\n\(log.screen)")

        // A request from elsewhere lands in the log: the pane shows it without a key press.
        guard let socket = instance.apiSocket else { throw HarnessError("no socket") }
        _ = try? APIClient(socketPath: socket, expectedPID: instance.pid).list()
        let live = tmux.waitFor("list_hostfwd")
        #expect(live.found, "new log line did not appear:\n\(live.screen)")

        // Saving keeps a copy of the log (which vanishes with the process) in the working directory.
        tmux.send("s")
        let saved = tmux.waitFor("log saved to \(tmux.directory)/slirp4netns-\(instance.pid)-")
        #expect(saved.found, "no saved-log status:\n\(saved.screen)")
        let copies = (try? FileManager.default.contentsOfDirectory(atPath: tmux.directory))?.filter { $0.hasPrefix("slirp4netns-\(instance.pid)-") } ?? []
        #expect(copies.count == 1)
        if let copy = copies.first {
            let text = (try? String(contentsOfFile: "\(tmux.directory)/\(copy)", encoding: .utf8)) ?? ""
            #expect(text.contains("tapfd") && text.contains("list_hostfwd"))
        }

        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func addingAForwardThroughTheFormReachesAListenerInsideTheNamespaceAndRemovingItClosesThePort() throws {
        let lab = try TestLab("tui-fwd")
        defer { withExtendedLifetime(lab) {} }
        let instance = try startInstance(lab, cidr: "10.77.32.0/24")
        guard let netns = instance.netnsName, let ip = Executables.find("ip"), let socat = Executables.find("socat") else {
            throw HarnessError("no netns name / ip / socat")
        }
        let listener = try Executables.spawn(ip, ["netns", "exec", netns, socat, "TCP-LISTEN:8080,fork,reuseaddr", "SYSTEM:echo hello-from-guest"]).get()
        defer {
            kill(-listener, SIGKILL)
            kill(listener, SIGKILL)
            _ = Executables.waitFor(listener)
        }
        let port = try DemoFleet.freeTCPPort()
        #expect(tcpRoundTrip(port: Int(port.value)) == nil, "port \(port) is already open before the forward")

        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(instance.pid))
        #expect(tmux.waitFor("10.77.32.100").found)
        tmux.send("3")
        let empty = tmux.waitFor("No forwards added")
        #expect(empty.found, "forwards pane:\n\(empty.screen)")

        tmux.send("a")
        #expect(tmux.waitFor("Add forward to pid \(instance.pid)").found)
        tmux.type(String(port.value))
        tmux.send("Tab")
        tmux.type("8080")
        #expect(tmux.waitFor("= 1 add_hostfwd request").found)
        tmux.send("Enter")
        let added = tmux.waitFor("added forward id 1")
        #expect(added.found, "no success status:\n\(added.screen)")
        #expect(tmux.waitFor("127.0.0.1:\(port.value)").found)

        var reply: String?
        for _ in 0..<30 {
            reply = tcpRoundTrip(port: Int(port.value))
            if reply?.contains("hello-from-guest") == true { break }
            usleep(200_000)
        }
        #expect(reply?.contains("hello-from-guest") == true, "no round trip through the forward: \(reply ?? "refused")")

        tmux.send("Tab", "d")
        let confirm = tmux.waitFor("Remove forward 1 of pid \(instance.pid)?")
        #expect(confirm.found, "no confirmation:\n\(confirm.screen)")
        #expect(confirm.screen.contains("tcp 127.0.0.1:\(port.value) -> "))
        tmux.send("y")
        let removed = tmux.waitFor("removed forward 1")
        #expect(removed.found, "no removal status:\n\(removed.screen)")
        var closed = false
        for _ in 0..<30 {
            if tcpRoundTrip(port: Int(port.value), timeout: 1) == nil { closed = true; break }
            usleep(200_000)
        }
        #expect(closed, "port \(port) still open after removing the forward")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func badFormInputShowsAnErrorAndSendsNothing() throws {
        let lab = try TestLab("tui-bad")
        defer { withExtendedLifetime(lab) {} }
        let instance = try startInstance(lab, cidr: "10.77.33.0/24")
        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(instance.pid))
        #expect(tmux.waitFor("10.77.33.100").found)
        tmux.send("3")
        #expect(tmux.waitFor("No forwards added").found)
        let before = apiRequests(pid: instance.pid).filter { $0.contains("add_hostfwd") }.count

        tmux.send("a")
        #expect(tmux.waitFor("Add forward to pid").found)
        tmux.type("99999")
        tmux.send("Tab")
        tmux.type("80")
        let error = tmux.waitFor("out of range")
        #expect(error.found, "no field error:\n\(error.screen)")
        tmux.send("Enter")
        let refused = tmux.waitFor("not sent: fix host port")
        #expect(refused.found, "no refusal:\n\(refused.screen)")
        usleep(1_000_000)
        let after = apiRequests(pid: instance.pid).filter { $0.contains("add_hostfwd") }.count
        #expect(after == before, "an add_hostfwd request reached slirp4netns")
        tmux.send("Escape")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func resizingRedrawsCleanlyAndQuitRestoresTheTerminal() throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try tmux.startMonitor()
        #expect(tmux.waitFor("F10Quit").found)

        tmux.resize(width: 60, height: 20)
        let narrow = tmux.waitUntil { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count <= 21 && screen.contains("F1Help") && screen.contains("NAME")
        }
        #expect(narrow.found, "no clean redraw at 60x20:\n\(narrow.screen)")

        tmux.resize(width: 30, height: 8)
        #expect(tmux.waitFor("too small").found)
        tmux.resize(width: 100, height: 30)
        let back = tmux.waitUntil { $0.contains("F10Quit") && !$0.contains("too small") }
        #expect(back.found, "no redraw after growing again:\n\(back.screen)")

        tmux.send("q")
        let report = tmux.exitReport()
        #expect(report.exited, "no clean exit:\n\(report.screen)")
        // Cooked mode is back (echo, icanon) and the alternate screen is gone.
        #expect(report.cooked, "tty modes not restored:\n\(report.screen)")
        #expect(!report.screen.contains("F10Quit"))
    }

    /// A script tells killed from quit: 128 + the signal, as a shell reports it (143, 129, 130), `q` 0.
    @Test(arguments: [SIGTERM, SIGHUP, SIGINT])
    func aTerminationSignalEndsTheMonitorWith128PlusTheSignalAndRestoresTheTerminal(signal: Int32) throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try tmux.startMonitor()
        #expect(tmux.waitFor("F10Quit").found)
        guard let pid = tmux.monitorPID else { throw HarnessError("no monitor pid") }
        kill(pid, signal)
        let report = tmux.exitReport()
        #expect(report.status == Int(128 + signal), "monitor did not exit with \(128 + signal):\n\(report.screen)")
        #expect(report.cooked, "tty modes not restored:\n\(report.screen)")
    }

    @Test func ctrlCQuitsAndRestoresTheTerminal() throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try tmux.startMonitor()
        #expect(tmux.waitFor("F10Quit").found)
        #expect(tmux.monitorPID != nil, "the harness finds the running monitor")
        tmux.send("C-c")
        let report = tmux.exitReport()
        #expect(report.status == 130, "Ctrl-C is SIGINT: 130, as a shell reports it:\n\(report.screen)")
        #expect(report.cooked, "tty modes not restored:\n\(report.screen)")
        // The pane's shell now runs `sleep 120`: that is not the monitor.
        #expect(tmux.monitorPID == nil, "the harness takes the pane's sleep for the monitor")
    }
}

extension EndToEndTests {
    @Test func anIdleScreenWritesNothingBetweenRefreshes() throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 60")
        #expect(tmux.waitFor("F10Quit").found)
        // Let the first scan, the version probe, Podman's answer and the first forward counts land
        // (a hung instance of another test costs the count its API timeout): the screen is the same
        // for 4 s.
        var settled = tmux.capture()
        var quiet = 0
        for _ in 0..<30 where quiet < 4 {
            usleep(1_000_000)
            let now = tmux.capture()
            quiet = now == settled ? quiet + 1 : 0
            settled = now
        }
        let output = "\(tmux.directory)/output"
        try tmux.tmux(["pipe-pane", "-o", "-t", tmux.session, "cat >> \(output)"])
        usleep(3_000_000)
        try tmux.tmux(["pipe-pane", "-t", tmux.session])
        // The capture file exists once tmux piped the pane (even with nothing to pipe): without it,
        // nothing was measured.
        let bytes = try #require(try? Files.status(output).st_size, "tmux pipe-pane made no \(output): the idle output was not measured")
        #expect(bytes < 64, "an idle monitor wrote \(bytes) bytes in 3 s")
        tmux.send("q")
        #expect(tmux.exitReport().exited)
    }
}
