import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real monitor against peers that misbehave, instances that die or lose their namespace or
/// socket under it, hostile form input, and a user without rights: it answers keys while a request
/// hangs, says what failed, keeps no descriptor, sends nothing invalid, and never crashes.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct HostileMonitorTests {
    /// Descriptors and threads the monitor keeps: the least seen over a second of samples, because a
    /// refresh in progress briefly holds a netlink socket and a /proc directory. A leak persists, so it
    /// shows in the least count as well.
    func counts(_ pid: Int32) -> (fds: Int, threads: Int) {
        var least = (fds: Int.max, threads: Int.max)
        for _ in 0..<20 {
            let fds = (try? Files.directoryEntries("/proc/\(pid)/fd").count) ?? -1
            let threads = (try? Files.directoryEntries("/proc/\(pid)/task").count) ?? -1
            least = (min(least.fds, fds), min(least.threads, threads))
            usleep(50_000)
        }
        return least
    }

    /// Whether `client` holds a unix socket connected to one of `server`'s: the peer inode `ss`
    /// gives for a socket of the client is the inode of a socket of the server.
    func isConnected(_ client: Int32, to server: Int32) throws -> Bool {
        let ss = try #require(Executables.find("ss"), "ss is not installed (iproute2)")
        guard case .success(let out) = Executables.run(ss, ["-xpn"], timeout: 10), out.status == 0 else { return false }
        var local: [String: Set<String>] = [:], peer: [String: Set<String>] = [:]
        for line in out.stdout.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 9 else { continue }
            for pid in [client, server] where line.contains("pid=\(pid),") {
                local["\(pid)", default: []].insert(String(f[5]))
                peer["\(pid)", default: []].insert(String(f[7]))
            }
        }
        return !(peer["\(client)", default: []].subtracting(["0"])).isDisjoint(with: local["\(server)", default: []])
    }

    /// What each descriptor of the process is, for a failure message.
    func descriptors(_ pid: Int32) -> String {
        let names = (try? Files.directoryEntries("/proc/\(pid)/fd")) ?? []
        return names.sorted().map { name in
            "\(name)=\((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(name)")) ?? "?")"
        }.joined(separator: " ")
    }

    static let expected: [StandInSlirp.Mode: String] = [
        .silent: "did not answer within", .slow: "did not answer within", .garbage: "not json",
        .huge: "not json", .close: "closed the connection without a reply", .reset: "reset by peer",
    ]

    @Test func keysWorkWhileARequestHangsAndEveryBadPeerIsExplainedWithoutLeaks() throws {
        let tag = "tui-\(getpid())"
        let modes: [StandInSlirp.Mode] = [.silent, .slow, .garbage, .huge, .close, .reset]
        let peers = try modes.map { try StandInSlirp(mode: $0, tag: tag) }
        let tmux = TmuxHarness(width: 220, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        let monitor = try #require(tmux.monitorPID)
        var before = counts(monitor)
        var responsive: [String] = []
        for cycle in 0..<3 {
            if cycle == 1 { before = counts(monitor) } // after a warm-up cycle (lazily started threads)
            for peer in peers {
                tmux.showOnly(pid: peer.pid)
                let shown = tmux.waitFor("--api-socket")
                #expect(shown.found, "\(peer.mode): details of the stand-in not shown:\n\(shown.screen)")
                tmux.send("3")
                if peer.mode == .silent || peer.mode == .slow {
                    // The request hangs (the deadline is 2 s): keys still work and the screen changes at once.
                    if cycle == 0 {
                        let asking = tmux.waitFor("asking the API socket (list_hostfwd), waiting...", timeout: 3)
                        #expect(asking.found, "\(peer.mode): no request in flight:\n\(asking.screen)")
                    }
                    // A request in flight: the monitor holds a connection to the peer.
                    #expect(eventually(6) { (try? isConnected(monitor, to: peer.pid)) == true }, "\(peer.mode): no request in flight")
                    let asked = Deadline.now
                    tmux.send("1")
                    let details = tmux.waitFor("--mtu=65520", timeout: 5)
                    let elapsed = Deadline.now.seconds(since: asked)
                    // The state, not a time: the details were on screen while the monitor still held
                    // the hung request's connection (it closes it at its 2 s deadline).
                    let hanging = try isConnected(monitor, to: peer.pid)
                    #expect(details.found && hanging, "\(peer.mode): the details pane came \(elapsed) s after the key, \(hanging ? "while" : "after") the request hung:\n\(details.screen)")
                    responsive.append(String(format: "%.2f", elapsed))
                    tmux.send("3")
                }
                let words = Self.expected[peer.mode] ?? "?"
                // 10 MB may outlast the 2 s deadline on a loaded host: then the deadline is what stops it.
                let failed = tmux.waitUntil(timeout: 10) {
                    ($0.lowercased().contains(words) || (peer.mode == .huge && $0.contains("did not answer within")))
                        && ($0.contains("list_hostfwd failed") || $0.contains("last refresh failed"))
                }
                #expect(failed.found, "\(peer.mode): no \"\(words)\" in the forwards pane:\n\(failed.screen)")
                #expect(failed.screen.contains("list_hostfwd failed") || failed.screen.contains("last refresh failed"), "\(peer.mode):\n\(failed.screen)")
                if peer.mode == .garbage {
                    #expect(failed.screen.contains(#"\x1B[2J"#), "the peer's escape sequence is shown as text, not obeyed:\n\(failed.screen)")
                }
            }
            usleep(5_200_000) // past the forwards interval: the next cycle asks every peer again
        }
        tmux.send("1")
        sleep(3) // idle: worker threads the dispatch pool started for blocked requests may retire
        let after = counts(monitor)
        let exchanges = peers.map(\.requestsReceived).reduce(0, +)
        print("monitor vs bad peers: \(exchanges) bad exchanges; fds \(before.fds) -> \(after.fds), threads \(before.threads) -> \(after.threads); keys answered in \(responsive.joined(separator: ", ")) s while a request hung")
        #expect(exchanges >= 12)
        #expect(after.fds <= before.fds + 1, "descriptors \(before.fds) -> \(after.fds): \(descriptors(monitor))")
        // Dispatch may keep a few pool threads after blocked requests; a leak would be one per exchange.
        #expect(after.threads <= before.threads + 4, "threads \(before.threads) -> \(after.threads)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func instancesKilledDuringAFormARequestOrBetweenRefreshesOrLosingTheirNamespaceOrSocket() throws {
        let lab = try makeLab("kill")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        func start(_ name: String, _ cidr: String) throws -> SlirpLab.Instance {
            var spec = SlirpLab.Spec(name: name, cidr: cidr)
            spec.mtu = 65520
            return try lab.start(spec)
        }
        let form = try start("form", "10.77.41.0/24")
        let request = try start("req", "10.77.42.0/24")
        let between = try start("btw", "10.77.43.0/24")
        let netnsLost = try start("ns", "10.77.44.0/24")
        let replaced = try start("sock", "10.77.45.0/24")
        let tmux = TmuxHarness(width: 160, height: 45)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        let port = try DemoFleet.freeTCPPort()

        // Killed while the add-forward form is open: the submit is refused, nothing crashes.
        tmux.showOnly(pid: form.pid)
        tmux.send("3")
        #expect(tmux.waitFor("No forwards added").found)
        tmux.send("a")
        #expect(tmux.waitFor("Add forward to pid \(form.pid)").found)
        lab.signal(form, SIGKILL)
        tmux.type(String(port.value))
        tmux.send("Tab")
        tmux.type("80")
        usleep(1_500_000) // a refresh or two sees the process gone
        tmux.send("Enter")
        let refused = tmux.waitUntil { $0.contains("not sent: the instance has exited") || $0.contains("add failed") }
        #expect(refused.found, "submit to a killed instance:\n\(refused.screen)")
        tmux.send("Escape")
        #expect(tcpRoundTrip(port: Int(port.value), timeout: 1) == nil)

        /// Shows only `instance` in `pane`, kills it once `shown` is on screen, and waits for one of `words`.
        func killWhileShown(_ instance: SlirpLab.Instance, pane: String, once shown: String, until words: [String]) -> (found: Bool, screen: String) {
            tmux.showOnly(pid: instance.pid)
            tmux.send(pane)
            #expect(tmux.waitFor(shown).found, "pid \(instance.pid): no \"\(shown)\"")
            lab.signal(instance, SIGKILL)
            return tmux.waitUntil(timeout: 10) { screen in words.contains { screen.contains($0) } }
        }
        // Killed during a request: stopped first so list_hostfwd hangs, then killed.
        kill(request.pid, SIGSTOP)
        let failed = killWhileShown(request, pane: "3", once: "waiting...", until: ["list_hostfwd failed", "has exited", "defunct"])
        #expect(failed.found, "request to a killed instance:\n\(failed.screen)")

        // Killed between refreshes: the details say it is gone.
        let gone = killWhileShown(between, pane: "1", once: "10.77.43.100", until: ["gone", "zombie", "defunct"])
        #expect(gone.found, "a killed instance is not marked:\n\(gone.screen)")

        // Its namespace deleted: still listed, its forwards still listed.
        let netns = try #require(netnsLost.netnsName)
        sh("ip", ["netns", "delete", netns])
        tmux.showOnly(pid: netnsLost.pid)
        tmux.send("1")
        #expect(tmux.waitFor("10.77.44.100").found)
        usleep(1_200_000)
        tmux.send("3")
        let forwards = tmux.waitFor("No forwards added")
        #expect(forwards.found, "forwards of an instance without its namespace file:\n\(forwards.screen)")

        // Its socket path replaced by a socket it does not hold: refused, said why, nothing sent.
        let path = try #require(replaced.apiSocket)
        let impostor = try StandInSlirp(mode: .ok, tag: "tuiimp-\(getpid())", commandName: "impostor-api")
        #expect(rename(path, path + ".orig") == 0)
        #expect(link(impostor.socketPath, path) == 0)
        defer { unlink(path); rename(path + ".orig", path) }
        tmux.showOnly(pid: replaced.pid)
        tmux.send("3")
        let blocked = tmux.waitFor("Forwards cannot be listed or added", timeout: 10)
        #expect(blocked.found, "a replaced socket is not refused:\n\(blocked.screen)")
        #expect(blocked.screen.contains("not held") || blocked.screen.contains("held by"), "says why:\n\(blocked.screen)")
        tmux.send("a")
        usleep(800_000)
        #expect(impostor.requestsReceived == 0, "a request reached the impostor")

        #expect(tmux.monitorPID != nil, "the monitor is still running")
        tmux.send("Escape")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    /// (field index from Protocol, value typed into it) — every other field holds a valid value.
    static let formCases: [(Int, String)] = [
        (0, ""), (0, "sctp"), (0, "tcp/udp"), (0, "tcp,"), (0, "icmp"), (0, "\"tcp\"}"),
        (1, "localhost"), (1, "::1"), (1, "[::1]"), (1, "127.0.0.256"), (1, "127.0.0"), (1, "1.2.3.4:5"), (1, "127.0.0.1\",\"x"),
        (2, ""), (2, "0"), (2, "65536"), (2, "-1"), (2, "99999999999999999999"), (2, "8080-8079"), (2, "8080-8082"),
        (2, "1:2"), (2, "80/udp"), (2, "１２"), (2, String(repeating: "9", count: 80)),
        (3, ""), (3, "0"), (3, "65536"), (3, "-5"), (3, "81-80"), (3, "80-90"), (3, "80/udp"), (3, "8o"), (3, "{\"id\":1}"),
        (4, "fd00::100"), (4, "10.0.2"), (4, "10.0.2.100/24"), (4, "guest"), (4, "10.0.2.100\"}"),
    ]

    @Test func everyFieldOfTheFormRefusesHostileValuesAndSendsNothing() throws {
        let lab = try makeLab("form")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        var spec = SlirpLab.Spec(name: "f", cidr: "10.77.46.0/24")
        spec.mtu = 65520
        let instance = try lab.start(spec)
        let tmux = TmuxHarness(width: 160, height: 45)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        tmux.showOnly(pid: instance.pid)
        #expect(tmux.waitFor("10.77.46.100").found)
        tmux.send("3")
        #expect(tmux.waitFor("No forwards added").found)
        let port = try DemoFleet.freeTCPPort()
        let changes = { apiRequests(pid: instance.pid).filter { !$0.contains("list_hostfwd") } }
        var failures: [String] = []
        for (field, value) in Self.formCases {
            tmux.send("a")
            guard tmux.waitFor("Add forward to pid \(instance.pid)").found else { failures.append("no form for \(value)"); continue }
            // Valid values everywhere (focus starts on the host port), then the hostile one in `field`.
            tmux.type(String(port.value))
            tmux.send("Tab")
            tmux.type("80")
            tmux.send("Tab", "Tab") // guest port -> guest address -> Protocol
            for _ in 0..<field { tmux.send("Tab") }
            tmux.send(contentsOf: Array(repeating: "BSpace", count: 70))
            if !value.isEmpty { tmux.typeLiteral(value) }
            tmux.send("Enter")
            let refused = tmux.waitFor("not sent: fix", timeout: 15) // slow when the host runs hundreds of instances
            if !refused.found { failures.append("field \(field) value \(value.debugDescription): not refused:\n\(refused.screen)") }
            tmux.send("Escape")
            _ = tmux.waitFor("add forward cancelled", timeout: 3)
        }
        usleep(500_000)
        #expect(failures.isEmpty, Comment(rawValue: failures.joined(separator: "\n")))
        #expect(changes().isEmpty, "an add or remove request reached slirp4netns: \(changes())")
        print("bad input: \(Self.formCases.count) form cases, \(failures.count) failed")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test(.enabled(if: PodmanFixture.available, "needs a second user"))
    func aUserWithoutRightsSeesPerFieldPermissionErrorsInTheMonitor() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let lab = try makeLab("perm")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        var spec = SlirpLab.Spec(name: "p", cidr: "10.77.47.0/24")
        spec.mtu = 65520
        let instance = try lab.start(spec)
        let binary = try #require(TmuxHarness.binary)
        chmod(binary, 0o755)
        var dir = (binary as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty { chmod(dir, (try? Files.status(dir).st_mode).map { $0 | 0o005 } ?? 0o755); dir = (dir as NSString).deletingLastPathComponent }
        let tmux = TmuxHarness(width: 160, height: 45)
        defer { tmux.tearDown() }
        chmod(tmux.directory, 0o777)
        try tmux.start("runuser -u \(user.name) -- \(binary) -d 0.5; echo EXITED $?; sleep 120")
        #expect(tmux.waitFor("F10Quit").found)
        tmux.showOnly(pid: instance.pid)
        let row = tmux.waitFor("10.77.47.100")
        #expect(row.found, "root's instance not listed for \(user.name):\n\(row.screen)")
        let details = tmux.waitFor("permission denied")
        #expect(details.found, "no per-field permission error:\n\(details.screen)")
        tmux.send("2")
        let log = tmux.waitFor("permission denied")
        #expect(log.found, "log pane:\n\(log.screen)")
        tmux.send("3")
        usleep(1_500_000)
        let forwards = tmux.capture()
        #expect(!forwards.contains("EXITED"), "the monitor ended:\n\(forwards)")
        #expect(!apiRequests(pid: instance.pid).contains { !$0.contains("list_hostfwd") }, "a change reached root's instance")
        tmux.send("q")
        let exit = tmux.waitFor("EXITED")
        #expect(exit.screen.contains("EXITED 0"), "\(exit.screen)")
    }
}

extension TmuxHarness {
    func send(contentsOf keys: [String]) { _ = try? tmux(["send-keys", "-t", session] + keys) }
    /// Types text literally, also text that starts with "-".
    func typeLiteral(_ text: String) { _ = try? tmux(["send-keys", "-t", session, "-l", "--", text]) }
}
