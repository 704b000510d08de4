import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Root runs slirpmon in a real terminal (tmux, an interactive bash) while a real user's Podman
/// runs that user's own programs (`HostileUser`: conmon_path and network_cmd_path scripts that
/// try /dev/tty and TIOCSTI, and record their environment). Nothing the user runs may type into
/// root's terminal, see root's environment, or stay behind in root's session.
@Suite(.serialized)
struct UntrustedUserTests {
    /// The user, ready; fails (does not skip) when something this needs is missing.
    func hostileUser() throws -> HostileUser {
        try #require(TmuxHarness.unavailableReason == nil, "\(TmuxHarness.unavailableReason ?? "")")
        try #require(PodmanFixture.available, "podman or /bin/busybox missing (bash assets/setup.sh)")
        try #require(Executables.find("perl") != nil, "perl is missing")
        try #require(Executables.find("setpriv") != nil, "setpriv (util-linux) is missing")
        return try HostileUser.prepare()
    }

    /// Root's interactive shell in tmux, where typed-in keys would run as root.
    func rootShell() throws -> TmuxHarness {
        let tmux = TmuxHarness(width: 200, height: 50)
        try tmux.start("exec bash --norc --noprofile -i")
        #expect(tmux.waitFor("#").found, "no root prompt:\n\(tmux.capture())")
        return tmux
    }

    /// Types a command into root's shell; waits for its end marker (echo'd with the status).
    func runInShell(_ tmux: TmuxHarness, _ command: String, marker: String, timeout: Double = 90) -> (status: String?, screen: String) {
        tmux.type("\(command); echo \(marker)-END-$((40+2))-$?")
        tmux.send("Enter")
        let done = tmux.waitUntil(timeout: timeout) { $0.contains("\(marker)-END-42-") }
        let status = done.screen.components(separatedBy: "\(marker)-END-42-").dropFirst().first?.prefix { $0.isNumber }
        // Keys typed in by the attacker are read by the shell after the command: give it time to run them.
        usleep(1_500_000)
        return (status.map(String.init), tmux.capture())
    }

    /// Every run of the user's conmon under the tested binary could neither open /dev/tty nor use
    /// TIOCSTI, and the command it tried to type in did not run. (Runs "not-armed" are other
    /// programs' on this machine asking the same user's Podman: not ours, not attacked.)
    func expectNoTerminal(_ user: HostileUser, pwned: String, screen: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let record = user.conmonRecord.filter { !$0.contains("not-armed") }
        #expect(!record.isEmpty, "the user's conmon_path never ran under slirpmon: Podman was not asked as the user", sourceLocation: sourceLocation)
        for line in record {
            #expect(line.contains("tty=failed"), "the user's program opened root's terminal: \(line)", sourceLocation: sourceLocation)
            #expect(!line.contains("=ok"), "TIOCSTI succeeded: \(line)", sourceLocation: sourceLocation)
        }
        #expect(!Files.exists(pwned), "the injected command ran as root (\(pwned) exists):\n\(screen)", sourceLocation: sourceLocation)
    }

    @Test func aUsersConmonCannotTypeIntoRootsTerminalWhileRootLists() throws {
        let user = try hostileUser()
        let armed = try user.arm(binary: slirpmonBinary)
        defer { user.disarm(); unlink(armed.pwned) }
        let tmux = try rootShell()
        defer { tmux.tearDown() }

        let run = runInShell(tmux, "\(armed.binary) list --no-cache", marker: "LIST")
        #expect(run.status == "0", "list did not end with 0:\n\(run.screen)")
        #expect(run.screen.contains(user.container), "the user's container is not listed:\n\(run.screen)")
        expectNoTerminal(user, pwned: armed.pwned, screen: run.screen)
    }

    @Test func aUsersConmonCannotTypeIntoRootsTerminalWhileTheMonitorRuns() throws {
        let user = try hostileUser()
        let armed = try user.arm(binary: slirpmonBinary)
        defer { user.disarm(); unlink(armed.pwned) }
        let tmux = try rootShell()
        defer { tmux.tearDown() }

        tmux.type("\(armed.binary) -d 0.5; echo MONITOR-END-$((40+2))")
        tmux.send("Enter")
        #expect(eventually(60) { user.conmonRecord.contains { !$0.contains("not-armed") } }, "the monitor never asked the user's Podman:\n\(tmux.capture())")
        usleep(1_500_000)
        let running = tmux.capture()
        #expect(!running.contains("MONITOR-END-42"), "the monitor quit by itself (keys typed in?):\n\(running)")
        tmux.send("q")
        let ended = tmux.waitFor("MONITOR-END-42", timeout: 15)
        #expect(ended.found, "the monitor did not quit on q:\n\(ended.screen)")
        usleep(1_500_000)
        expectNoTerminal(user, pwned: armed.pwned, screen: tmux.capture())
    }

    @Test func aUsersProgramsCannotTypeIntoRootsTerminalWhileRootRunsTheDoctorOnTheirContainer() throws {
        let user = try hostileUser()
        let armed = try user.arm(binary: slirpmonBinary)
        defer { user.disarm(); unlink(armed.pwned) }
        let tmux = try rootShell()
        defer { tmux.tearDown() }

        let run = runInShell(tmux, "\(armed.binary) doctor \(user.container)", marker: "DOCTOR")
        #expect(run.screen.contains("examining it as \(user.name)"), "\(run.screen)")
        #expect(run.screen.contains("as uid \(user.uid) (rootless)"), "the doctor did not run as the user:\n\(run.screen)")
        #expect(run.screen.contains("VERDICT: healthy"), "the user's doctor's report was not relayed:\n\(run.screen)")
        #expect(run.status == "0", "root's doctor did not exit with the user's doctor's status 0:\n\(run.screen)")
        #expect(user.slirpRecord.contains { $0.contains("tap0") }, "the trial did not run the user's network_cmd_path: \(user.slirpRecord)")
        expectNoTerminal(user, pwned: armed.pwned, screen: run.screen)
    }

    @Test func theDoctorRunAsAUserSeesNoneOfRootsEnvironment() throws {
        let user = try hostileUser()
        user.resetRecords()
        var env = ProcessInfo.processInfo.environment
        env["SLIRPMON_TEST_SECRET"] = "root-only-\(getpid())"
        env["AWS_SECRET_ACCESS_KEY"] = "root-only-aws"
        let out = try Executables.run(slirpmonBinary, ["doctor", user.container, "--no-trial"], timeout: 120,
                                      environment: env.map { "\($0.key)=\($0.value)" }).get()
        #expect(out.status == 0, "\(out.combined)")
        let record = user.slirpRecord
        #expect(!record.isEmpty, "the user's network_cmd_path never ran: \(out.combined)")
        for line in record {
            #expect(line.hasSuffix("env=HOME,LOGNAME,PATH,USER,XDG_RUNTIME_DIR secret=none"), "the user's program saw more than its own environment: \(line)")
        }
    }

    @Test func escapeSequencesFromTheUsersDoctorReachRootsOutputOnlyAsVisibleText() throws {
        let user = try hostileUser()
        try user.escapesInVersion(true)
        defer { try? user.escapesInVersion(false) }
        let out = try Executables.run(slirpmonBinary, ["doctor", user.container, "--no-trial"], timeout: 120).get()
        #expect(out.stdout.contains(#"version 1.2.0\x1B[2J\x1B]0;owned\x07\u{9B}31m"#), "\(out.stdout)")
        let controls = out.combined.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F..<0xA0).contains($0.value) }
        #expect(controls.isEmpty, "control characters reached root's output: \(controls.map { $0.value })")
    }

    @Test func ctrlCOnRootsDoctorReachesTheUsersDoctorWhichRemovesItsTrial() throws {
        let user = try hostileUser()
        user.resetRecords()
        try user.slowTrial(true)
        defer { try? user.slowTrial(false) }
        var outPipe: [Int32] = [0, 0]
        try #require(pipe(&outPipe) == 0)
        let doctor = try Executables.spawn(slirpmonBinary, ["doctor", user.container, "--timeout", "60"], descriptors: [1: outPipe[1], 2: outPipe[1]]).get()
        close(outPipe[1])
        defer { close(outPipe[0]) }
        let started = eventually(60) { user.slirpRecord.contains { $0.contains("tap0") } }
        #expect(started, "the trial did not start: \(user.slirpRecord)")
        let trial = user.slirpPIDs { $0.contains("tap0") }
        kill(doctor, SIGINT)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(outPipe[0], &buffer, buffer.count)
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        let status = Executables.waitFor(doctor)
        let text = String(decoding: output, as: UTF8.self)
        #expect(status == 130, "root's doctor did not exit 130 after Ctrl-C:\n\(text)")
        #expect(text.contains("interrupted; removed"), "the user's doctor did not clean up:\n\(text)")
        #expect(!trial.isEmpty)
        let left = trial.filter(HostileUser.isAlive)
        #expect(left.isEmpty, "the interrupted trial's slirp4netns still runs: \(left.map(HostileUser.describe))")
    }

    /// Verified by hand with the user's storage.lock held (fcntl write lock): the same 10 s, the
    /// same orphaned `podman ps` before. Here the user's conmon_path hangs instead, and only under
    /// the tested binary: a held lock would stall every other root `list` on this machine too.
    @Test func aUsersHungPodmanCostsOneListItsTimeoutNotEveryListAndLeavesNoProcessBehind() throws {
        let user = try hostileUser()
        let armed = try user.arm(binary: slirpmonBinary)
        try user.hangPodman(true)
        defer {
            user.disarm()
            // Another configuration: the remembered failure does not hold for the next list (anyone's).
            _ = try? HostileUser.prepare()
        }

        // Both lists keep their Podman answer and remembered failure in a /run/slirpmon of their own:
        // another suite's root `list` (whose run of this user's Podman does not hang) would store an
        // answer the second list takes from disk, and it would rightly have no failure to tell.
        let state = try SafeFiles.makePrivateDirectory(prefix: "smt-hung-state")
        defer { try? FileManager.default.removeItem(atPath: state) }
        func list() throws -> Executables.Output {
            let unshare = try #require(Executables.find("unshare"), "unshare is needed (util-linux)")
            return try Executables.run(unshare, privateSlirpmonState(state, [armed.binary, "list"]), timeout: 60).get()
        }

        let first = Deadline.now
        let slow = try list()
        let firstSeconds = Deadline.now.seconds(since: first)
        #expect(slow.stderr.contains("\(user.name)'s podman did not answer within 10 s"), "\(slow.stderr)")
        #expect(firstSeconds >= 9, "the first list did not wait for the user's Podman: \(firstSeconds) s")
        let run = user.armedRunProcesses
        #expect(!run.isEmpty, "the user's Podman did not run its conmon_path: \(user.conmonRecord)")
        let left = run.filter(HostileUser.isAlive)
        #expect(left.isEmpty, "processes of the user's Podman run survived its deadline: \(left.map(HostileUser.describe))")

        let second = Deadline.now
        let fast = try list()
        let secondSeconds = Deadline.now.seconds(since: second)
        #expect(secondSeconds < 3, "the second list asked the hung Podman again: \(secondSeconds) s")
        let said = fast.stderr.split(separator: "\n").first { $0.contains("\(user.name)'s podman") }.map(String.init) ?? ""
        #expect(said.contains("did not answer within 10 s"), "the second list does not say why: \(fast.stderr)")
        #expect(said.range(of: #" at \d\d:\d\d:\d\d; "#, options: .regularExpression) != nil, "the second list does not say when it failed: \(said)")
        #expect(said.contains("not asked again until"), "the second list does not say until when: \(said)")
        #expect(user.armedRunProcesses.count == run.count, "the second list ran the user's Podman again")
    }
}
