import CSlirpSystem
import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The monitor's FWD column, in the real binary in tmux, against real slirp4netns instances: a
/// number for every instance without opening its forwards pane, kept current by the instance's
/// log (asked again only when the log shows a request since), and an idle monitor asks nothing.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct ForwardCountMonitorTests {
    /// How long a quiet window (no request in these instances' logs for 6 s) is waited for. A real
    /// slirp4netns logs no sender, and other suites' `list` runs ask every instance on the host,
    /// these included, while the full run lasts; a monitor that asks at every refresh (each second)
    /// never gives 6 quiet seconds, however long the wait.
    static let quietBound = 150.0
    static let loopback = IPv4Address(127, 0, 0, 1)

    func forwards(_ count: Int) throws -> [ForwardRequest] {
        try (0..<count).map { _ in
            ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: try DemoFleet.freeTCPPort(), guestPort: Port(80)!)
        }
    }

    /// The FWD column of the row whose PID column is `pid` ("" when the row or column is not shown).
    func fwdColumn(_ screen: String, pid: Int32) -> String {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map { Array(String($0)) }
        guard let header = lines.first(where: { String($0).contains(" FWD") && String($0).contains("PID") }),
              let fwd = String(header).range(of: "FWD"), let pidRange = String(header).range(of: "PID") else { return "" }
        let fwdStart = String(header).distance(from: String(header).startIndex, to: fwd.lowerBound)
        let pidStart = String(header).distance(from: String(header).startIndex, to: pidRange.lowerBound)
        for line in lines where line.count >= fwdStart + 3 {
            // PID is right-aligned under its title: the digits end where the title ends, or start there.
            let around = String(line[max(0, pidStart - 4)..<min(line.count, pidStart + 8)])
            guard around.split(separator: " ").contains(Substring(String(pid))) else { continue }
            return String(line[fwdStart..<fwdStart + 3]).trimmingCharacters(in: .whitespaces)
        }
        return ""
    }

    /// The API requests the instance has taken, by its log (`api_handler: got request` lines).
    func requests(_ pid: Int32) -> Int {
        apiRequests(pid: pid).count
    }

    /// (Tests running beside this one may ask these instances too, once when they first see them:
    /// the idle checks look for a quiet window, which a monitor that keeps asking never leaves.)
    @Test func theFWDColumnCountsEveryInstancesForwardsWithoutItsPaneAndFollowsAnAddAndARemoveFromAnotherTerminal() throws {
        let lab = try TestLab("tui-fwdcount")
        defer { withExtendedLifetime(lab) {} }
        let none = try lab.start(SlirpLab.Spec(name: "z", cidr: "10.77.51.0/24"))
        let two = try lab.start(SlirpLab.Spec(name: "t", cidr: "10.77.52.0/24", forwards: try forwards(2)))
        let three = try lab.start(SlirpLab.Spec(name: "h", cidr: "10.77.53.0/24", forwards: try forwards(3)))
        let instances = [(none, "0"), (two, "2"), (three, "3")]
        // What each took before the monitor: its forwards' add_hostfwd requests (and a neighbour's listings).
        #expect(zip(instances.map { requests($0.0.pid) }, [0, 2, 3]).allSatisfy { $0 >= $1 })

        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: lab.tag)
        let counted = tmux.waitUntil { screen in instances.allSatisfy { fwdColumn(screen, pid: $0.0.pid) == $0.1 } }
        #expect(counted.found, "FWD not 0, 2, 3 without the pane: \(instances.map { fwdColumn(counted.screen, pid: $0.0.pid) })\n\(counted.screen)")

        // Each was asked when first seen; an idle monitor (12 refreshes, every instance contacted
        // again at least once) asks none of them again: their logs prove nothing changed.
        let pids = instances.map(\.0.pid)
        #expect(zip(pids.map(requests), [1, 3, 4]).allSatisfy { $0 >= $1 }, "each instance asked when first seen (its forwards' adds + list_hostfwd)")
        #expect(quietWindow(seconds: 6, within: Self.quietBound) { pids.map(requests) }, "an idle monitor keeps asking: \(pids.map(requests))")

        // A second operator's monitor on the same host: each asks once, neither asks again for
        // the other's listings (they change no forward), so the two do not keep each other asking.
        let second = TmuxHarness()
        defer { second.tearDown() }
        try second.startMonitor(filteredTo: lab.tag)
        let counted2 = second.waitUntil { screen in instances.allSatisfy { fwdColumn(screen, pid: $0.0.pid) == $0.1 } }
        #expect(counted2.found, "second monitor: \(instances.map { fwdColumn(counted2.screen, pid: $0.0.pid) })")
        #expect(quietWindow(seconds: 6, within: Self.quietBound) { pids.map(requests) }, "two idle monitors keep asking: \(pids.map(requests))")
        let idle = tmux.capture()
        #expect(instances.map { fwdColumn(idle, pid: $0.0.pid) } == ["0", "2", "3"], "\(idle)")

        // From another terminal: the CLI adds to one instance and removes from another; their logs
        // show the requests, so each is asked again at the next refresh that contacts it.
        let port = try DemoFleet.freeTCPPort()
        let added = slirpmon(["fwd", "add", String(none.pid), "127.0.0.1:\(port.value):80"])
        #expect(added.status == 0, "\(added.combined)")
        let removed = slirpmon(["fwd", "rm", String(three.pid), "1"])
        #expect(removed.status == 0, "\(removed.combined)")
        let followed = tmux.waitUntil(timeout: 15) { fwdColumn($0, pid: none.pid) == "1" && fwdColumn($0, pid: three.pid) == "2" }
        #expect(followed.found, "FWD did not follow the CLI: \(fwdColumn(followed.screen, pid: none.pid)), \(fwdColumn(followed.screen, pid: three.pid))\n\(followed.screen)")
        #expect(fwdColumn(followed.screen, pid: two.pid) == "2")
        let followed2 = second.waitUntil(timeout: 15) { fwdColumn($0, pid: none.pid) == "1" && fwdColumn($0, pid: three.pid) == "2" }
        #expect(followed2.found, "the second monitor did not follow the CLI:\n\(followed2.screen)")

        // And once asked again, idle again.
        #expect(quietWindow(seconds: 6, within: Self.quietBound) { pids.map(requests) }, "idle monitors keep asking after the change: \(pids.map(requests))")
        second.send("q")
        #expect(second.waitFor("EXITED 0").found)

        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func anInstanceWhoseLogIsAPipeIsCountedOnceAndShownAsOfWhenItWasAsked() throws {
        let lab = try TestLab("tui-fwdpipe")
        defer { withExtendedLifetime(lab) {} }
        // A namespace from the lab; in it, a second slirp4netns (its own tap) whose stderr is a pipe
        // this test reads: its log proves nothing, and the pipe shows every request it takes.
        let host = try lab.start(SlirpLab.Spec(name: "n", cidr: "10.77.54.0/24"))
        guard let slirp = Executables.find("slirp4netns") else { throw HarnessError("slirp4netns missing") }
        let socket = "\(lab.lab.directory)/\(lab.tag)-pipe.sock"
        var pipe: [Int32] = [0, 0]
        guard cslirp_pipe_cloexec(&pipe) == 0 else { throw HarnessError("pipe failed") }
        defer { close(pipe[0]) }
        _ = fcntl(pipe[0], F_SETFL, fcntl(pipe[0], F_GETFL) | O_NONBLOCK)
        let spawned = Executables.spawn(slirp, ["--api-socket", socket, "--netns-type=path", host.netnsPath, "tap1"],
                                        descriptors: [1: pipe[1], 2: pipe[1]])
        close(pipe[1])
        guard case .success(let pid) = spawned else { throw HarnessError("cannot start slirp4netns") }
        defer {
            kill(pid, SIGKILL)
            _ = Executables.waitFor(pid)
            unlink(socket)
        }
        var echoed = ""
        func requests() -> Int {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(pipe[0], &buffer, buffer.count)
                guard n > 0 else { break }
                echoed += String(decoding: buffer[0..<n], as: UTF8.self)
            }
            return echoed.components(separatedBy: "api_handler: got request").count - 1
        }
        let deadline = Deadline.after(seconds: 5)
        while !Files.exists(socket) && !deadline.hasPassed { usleep(10_000) }
        _ = try APIClient(socketPath: socket, expectedPID: pid).add(try forwards(1)[0])
        #expect(requests() == 1)

        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(pid))
        let counted = tmux.waitUntil { fwdColumn($0, pid: pid) == "1" }
        #expect(counted.found, "FWD: \(fwdColumn(counted.screen, pid: pid))\n\(counted.screen)")
        // The details pane says what the number is: as of when it was asked, and why.
        let said = tmux.waitFor("1 as of ")
        #expect(said.found, "\(said.screen)")
        #expect(said.screen.contains("its log is not a file"))

        // Asked once; never again while the monitor runs idle (selected: contacted every refresh).
        #expect(requests() >= 2)
        #expect(quietWindow(seconds: 6, within: Self.quietBound) { [requests()] }, "asked again though its log can prove nothing: \(echoed)")

        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func aUsersFakeAnsweringMegabytesIsReadNoFurtherThanACountNeedsAndItsColumnSaysSo() throws {
        // Every monitor asks every instance on the host for its count: a fake answering 10 MB is
        // read up to 4 MiB, not 64 (the forwards pane, asked for it alone, reads it all).
        let peer = try StandInSlirp(mode: .huge, tag: "fwdcount-\(getpid())")
        defer { peer.stop() }
        let tmux = TmuxHarness(width: 220, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(peer.pid))
        let marked = tmux.waitUntil { fwdColumn($0, pid: peer.pid) == "!" }
        #expect(marked.found, "FWD: \(fwdColumn(marked.screen, pid: peer.pid))\n\(marked.screen)")
        let said = tmux.waitFor("exceeds 4 MiB")
        #expect(said.found, "Details do not say why:\n\(said.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
