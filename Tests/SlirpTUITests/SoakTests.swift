import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Only on request: its hundred instances would crowd the other monitor tests' screens.
func soakRequested() -> Bool { ProcessInfo.processInfo.environment["SLIRPMON_SOAK_SECONDS"] != nil }

/// A long run: the monitor against 100 real slirp4netns instances that are stopped and started
/// continuously. Its memory and descriptors stay flat, it does not crash, and at the end it lists
/// exactly the instances that run.
///
/// Runs only when `SLIRPMON_SOAK_SECONDS` is set, which is its duration: `.ci/run` runs it alone
/// after the other tests with 180 s; the issue's full run is
/// `SLIRPMON_SOAK_SECONDS=600 swift test --filter SoakTests`.
@Suite(.enabled(if: TmuxHarness.canRun && soakRequested(), "\(TmuxHarness.unavailableReason ?? "runs only with SLIRPMON_SOAK_SECONDS set (.ci/run sets 180)")"))
struct SoakTests {
    static var seconds: Double {
        ProcessInfo.processInfo.environment["SLIRPMON_SOAK_SECONDS"].flatMap(Double.init) ?? 180
    }

    struct Sample { let at: Double; let rssKiB: Int; let fds: Int; let threads: Int }

    func sample(_ pid: Int32, at: Double) -> Sample? {
        guard let status = try? Files.readText("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = line.split(separator: " ").compactMap({ Int($0) }).first,
              let fds = try? Files.directoryEntries("/proc/\(pid)/fd").count,
              let threads = try? Files.directoryEntries("/proc/\(pid)/task").count else { return nil }
        return Sample(at: at, rssKiB: kib, fds: fds, threads: threads)
    }

    /// PIDs of the rows the monitor shows for this lab, not marked gone.
    func shownPIDs(_ screen: String, prefix: String) -> Set<Int32> {
        Set(screen.split(separator: "\n").filter { $0.contains("/run/netns/\(prefix)-") && !$0.contains(" gone ") }
            .compactMap { $0.split(separator: " ").dropFirst().first.flatMap { Int32($0) } })
    }

    @Test func tenMinutesAgainstAHundredInstancesStartedAndStoppedContinuously() throws {
        let lab = try makeLab("soak")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        var counter = 0
        func startOne() throws {
            counter += 1
            var spec = SlirpLab.Spec(name: "s\(counter)")
            spec.mtu = 65520
            try lab.start(spec)
        }
        for _ in 0..<100 { try startOne() }

        let tmux = TmuxHarness(width: 200, height: 262) // the list gets 2/5 of the rows: 100 rows need 256
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 1")
        #expect(tmux.waitFor("F10Quit").found)
        tmux.send("F4")
        tmux.type(lab.prefix)
        tmux.send("Enter")
        let monitor = try #require(tmux.monitorPID)
        let allShown = tmux.waitUntil(timeout: 30) { shownPIDs($0, prefix: lab.prefix).count == 100 }
        #expect(allShown.found, "the monitor does not show the 100 instances:\n\(allShown.screen)")
        sleep(5) // settle: the first scans, the version probe

        let start = Deadline.now
        var samples: [Sample] = []
        if let first = sample(monitor, at: 0) { samples.append(first) }
        var stopped = 0, started = 0
        var nextSample = 10.0
        while Deadline.now.seconds(since: start) < Self.seconds {
            // Churn: stop one or two at random and start as many, about every half second.
            let running = lab.running
            for victim in running.shuffled().prefix(Int.random(in: 1...2)) {
                if Bool.random() { lab.stop(victim) } else { lab.signal(victim, SIGKILL); lab.stop(victim) }
                stopped += 1
            }
            while lab.running.count < 100 { try startOne(); started += 1 }
            usleep(UInt32.random(in: 200_000...800_000))
            let elapsed = Deadline.now.seconds(since: start)
            if elapsed >= nextSample {
                guard let s = sample(monitor, at: elapsed) else { Issue.record("the monitor died after \(Int(elapsed)) s"); return }
                samples.append(s)
                nextSample += 10
            }
        }
        let expected = Set(lab.running.map(\.pid))
        let matches = tmux.waitUntil(timeout: 30) { shownPIDs($0, prefix: lab.prefix) == expected }
        let shown = shownPIDs(matches.screen, prefix: lab.prefix)
        #expect(matches.found, "shown \(shown.count), running \(expected.count); missing \(expected.subtracting(shown).sorted()), extra \(shown.subtracting(expected).sorted())")
        guard let end = sample(monitor, at: Deadline.now.seconds(since: start)), let first = samples.first else {
            Issue.record("the monitor is not running at the end"); return
        }
        // After the first minute's growth (allocator pools), memory must not keep growing.
        let settled = samples.first { $0.at >= 60 } ?? first
        let peak = samples.map(\.rssKiB).max() ?? 0
        let figures = "soak \(Int(Self.seconds)) s, 100 instances, \(stopped) stopped and \(started) started: RSS \(first.rssKiB) KiB at start, \(settled.rssKiB) KiB at \(Int(settled.at)) s, \(end.rssKiB) KiB at the end (peak \(peak)); fds \(first.fds) -> \(end.fds); threads \(first.threads) -> \(end.threads)"
        print(figures)
        try? figures.write(toFile: "/tmp/slirpmon-soak-figures.txt", atomically: true, encoding: .utf8)
        #expect(end.fds <= first.fds + 2, "descriptors \(first.fds) -> \(end.fds)")
        #expect(end.threads <= first.threads + 2, "threads \(first.threads) -> \(end.threads)")
        #expect(end.rssKiB <= settled.rssKiB + settled.rssKiB / 4 + 4096, "memory grows: \(figures)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0", timeout: 20).found)
    }
}
