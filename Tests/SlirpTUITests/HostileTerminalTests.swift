import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The monitor in a terminal that is resized a thousand times, shrunk to 10x3, signalled at
/// random moments, closed or taken away: it stays alive while it has a terminal, exits when it
/// has none, and always gives the terminal back exactly as it found it (`stty -a`).
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct HostileTerminalTests {
    /// Runs the monitor in the pane between two `stty -a` snapshots.
    func startMonitor(_ tmux: TmuxHarness, _ arguments: String = "-d 0.2", prefix: String = "") throws {
        guard let binary = TmuxHarness.binary else { throw HarnessError("no slirpmon binary") }
        let d = tmux.directory
        try tmux.start("trap : INT; stty -a > \(d)/stty-before; echo $$ > \(d)/pid; \(prefix)\(binary) \(arguments); echo EXITED $? > \(d)/status; stty -a > \(d)/stty-after.tmp; mv \(d)/stty-after.tmp \(d)/stty-after; echo DONE; sleep 120")
    }

    func waitForPID(_ tmux: TmuxHarness, timeout: Double = 10) -> Int32? {
        var pid: Int32?
        _ = eventually(timeout) { pid = tmux.monitorPID; return pid != nil }
        return pid
    }

    func file(_ tmux: TmuxHarness, _ name: String) -> String {
        (try? String(contentsOfFile: "\(tmux.directory)/\(name)", encoding: .utf8)) ?? ""
    }

    /// The tty modes as `stty -a` prints them, without the window size (which a resize changes).
    func modes(_ tmux: TmuxHarness, _ name: String) -> String {
        _ = eventually(10) { !file(tmux, name).isEmpty }
        return file(tmux, name).replacingOccurrences(of: #"rows \d+; columns \d+;"#, with: "", options: .regularExpression)
    }

    func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? Files.readText("/proc/\(pid)/stat"), let parsed = ProcessStat(stat) else { return false }
        return !parsed.isZombie
    }

    /// CPU seconds the process used (utime + stime).
    func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? Files.readText("/proc/\(pid)/stat"), let parsed = ProcessStat(stat) else { return 0 }
        return Double(parsed.userTicks + parsed.systemTicks) / ProcessScanner.ticksPerSecond
    }

    @Test func aThousandRandomResizesThenTenByThreeLeaveItAliveAndSane() throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try startMonitor(tmux)
        #expect(tmux.waitFor("F10Quit").found)
        let pid = try #require(waitForPID(tmux))
        guard let tmuxPath = Executables.find("tmux") else { throw HarnessError("no tmux") }
        // One shell loop, so the thousand resizes come faster than the monitor redraws.
        let script = "for i in $(seq 1000); do \(tmuxPath) -L \(tmux.socketName) resize-window -t \(tmux.session) -x $((RANDOM % 250 + 1)) -y $((RANDOM % 80 + 1)) || exit 1; done"
        let loop = sh("bash", ["-c", script], timeout: 300)
        #expect(loop.status == 0, "\(loop.stderr)")
        #expect(isAlive(pid), "the monitor died during the resizes")
        tmux.resize(width: 100, height: 30)
        let sane = tmux.waitUntil { $0.contains("F10Quit") && $0.contains("NAME") && !$0.contains("too small") }
        #expect(sane.found, "no clean screen at 100x30 after 1000 resizes:\n\(sane.screen)")
        #expect(sane.screen.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { $0.count <= 100 })

        tmux.resize(width: 10, height: 3)
        let tiny = tmux.waitFor("too small")
        #expect(tiny.found, "10x3:\n\(tiny.screen)")
        #expect(isAlive(pid))
        tmux.send("q")
        #expect(eventually(10) { file(tmux, "status").contains("EXITED 0") }, "q at 10x3 does not quit: \(file(tmux, "status"))")
        #expect(modes(tmux, "stty-before") == modes(tmux, "stty-after"), "stty -a differs:\n\(file(tmux, "stty-before"))\n\(file(tmux, "stty-after"))")
    }

    @Test func terminationSignalsAtRandomMomentsAlwaysRestoreTheTerminal() throws {
        var outcomes: [String] = []
        for round in 0..<9 {
            let signal = [SIGINT, SIGTERM, SIGHUP][round % 3]
            let delay = Double.random(in: 0...1.5)
            let tmux = TmuxHarness(width: 100, height: 30)
            defer { tmux.tearDown() }
            try startMonitor(tmux)
            let pid = try #require(waitForPID(tmux))
            usleep(UInt32(delay * 1_000_000))
            kill(pid, signal)
            let ended = eventually(10) { file(tmux, "status").contains("EXITED") }
            let status = file(tmux, "status").trimmingCharacters(in: .whitespacesAndNewlines)
            outcomes.append("sig \(signal) after \(String(format: "%.2f", delay)) s: \(status)")
            #expect(ended, "no exit after signal \(signal) at \(delay) s")
            // 128+signal, whether the monitor had set anything up yet or not: a script tells killed from quit.
            #expect(status == "EXITED \(128 + signal)", "\(status)")
            #expect(modes(tmux, "stty-before") == modes(tmux, "stty-after"), "stty -a differs after signal \(signal) at \(delay) s")
        }
        print("signals: " + outcomes.joined(separator: "; "))
    }

    @Test func withStdoutClosedTheMonitorRefusesAndTheCommandsSayWhy() throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try startMonitor(tmux, "-d 0.2 >&-")
        #expect(eventually(10) { file(tmux, "status").contains("EXITED 1") }, "status: \(file(tmux, "status"))")
        #expect(modes(tmux, "stty-before") == modes(tmux, "stty-after"))
        let said = tmux.waitFor("the monitor needs a terminal on stdin and stdout")
        #expect(said.found, "says why it refuses:\n\(said.screen)")

        for command in ["list", "list --json", "addr", "addr --json", "doctor --no-trial"] {
            let out = sh("sh", ["-c", "exec \(slirpmonBinary) \(command) >&-"], timeout: 60)
            #expect(out.status == 1, "\(command) >&-: status \(out.status): \(out.stderr)")
            #expect(out.stderr.contains("cannot write to standard output"), "\(command): \(out.stderr)")
            #expect(!out.stderr.contains("Fatal error"))
        }
    }

    @Test(arguments: [false, true])
    func whenItsTerminalGoesAwayTheMonitorExitsInsteadOfSpinning(withoutHangupSignal: Bool) throws {
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        // setsid: the pane's tty is not its controlling terminal, so no SIGHUP comes: only EOF/EIO.
        try startMonitor(tmux, "-d 0.2", prefix: withoutHangupSignal ? "setsid " : "")
        #expect(tmux.waitFor("F10Quit").found)
        let pid = try #require(waitForPID(tmux))
        _ = try? tmux.tmux(["kill-server"])
        let gone = eventually(10) { !isAlive(pid) }
        if !gone {
            let before = cpuSeconds(pid)
            usleep(1_000_000)
            let used = cpuSeconds(pid) - before
            kill(pid, SIGKILL)
            Issue.record("the monitor outlived its terminal by 10 s (using \(String(format: "%.2f", used)) s CPU per second)")
        }
    }

    /// A script that ran the monitor tells "its terminal went away" from "the operator quit": 129, as on a hangup.
    @Test func aMonitorWhoseTerminalGoesAwayWithoutSIGHUPExits129AndSaysWhyOnStderr() throws {
        guard let binary = TmuxHarness.binary else { throw HarnessError("no slirpmon binary") }
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        let d = tmux.directory
        // setsid: the sh and the monitor have no controlling terminal, so closing the pane sends
        // no SIGHUP; the sh outlives the pane and writes the monitor's exit status.
        try tmux.start(#"setsid sh -c "echo \$\$ > \#(d)/inner; \#(binary) -d 0.2 2> \#(d)/stderr; echo \$? > \#(d)/lost-status"; sleep 120"#)
        #expect(tmux.waitFor("F10Quit").found)
        var pid: Int32?
        _ = eventually(10) {
            guard let inner = Int32(file(tmux, "inner").trimmingCharacters(in: .whitespacesAndNewlines)),
                  let children = try? Files.readText("/proc/\(inner)/task/\(inner)/children") else { return false }
            pid = children.split(separator: " ").compactMap { Int32($0) }.first { (try? Files.readText("/proc/\($0)/comm")) == "slirpmon\n" }
            return pid != nil
        }
        let monitor = try #require(pid, "no monitor under the setsid sh")
        _ = try? tmux.tmux(["kill-server"])
        let ended = eventually(10) { !file(tmux, "lost-status").isEmpty }
        if !ended { kill(monitor, SIGKILL) }
        #expect(ended, "the monitor outlived its terminal by 10 s")
        let status = file(tmux, "lost-status").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == "129", "exit status \(status.debugDescription) after its terminal went away (0 would read as quit)")
        #expect(file(tmux, "stderr").contains("the terminal went away"), "stderr: \(file(tmux, "stderr"))")
    }
}
