import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Root's monitor, in a real terminal, on a user's fake slirp4netns that hands it a FIFO for a
/// namespace or a log of megabytes without a newline (issue 13: Medium 4, Low).
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct UntrustedInputMonitorTests {
    func filter(_ tmux: TmuxHarness, to pid: Int32) {
        tmux.send("F4")
        tmux.send("Escape")
        usleep(150_000)
        tmux.send("F4")
        tmux.type(String(pid))
        tmux.send("Enter")
        tmux.send("1")
    }

    func residentKiB(_ pid: Int32) -> Int? {
        guard let text = try? Files.readText("/proc/\(pid)/status"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    @Test("a user's fake whose --netns-type=path is a FIFO: the monitor keeps answering keys and says the path is not a namespace")
    func monitorAnswersWithAFifoNamespace() throws {
        var template = Array("/tmp/smt-monfifo-\(getpid()).XXXXXX".utf8CString)
        try #require(mkdtemp(&template) != nil)
        let directory = String(cString: template)
        chmod(directory, 0o755)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = "\(directory)/netns"
        try #require(mkfifo(fifo, 0o666) == 0)
        let fake = try UserFakeSlirp(["--configure", "--mtu=65520", "--netns-type=path", fifo, "tap0"])
        defer { fake.stop() }

        let tmux = TmuxHarness(width: 220, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        filter(tmux, to: fake.pid)
        let said = tmux.waitFor("a FIFO, not a network namespace", timeout: 10)
        #expect(said.found, "the details do not say why the namespace was not read:\n\(said.screen)")
        // Keys still work: the help screen opens and closes.
        tmux.send("F1")
        #expect(tmux.waitFor("slirpmon: keys", timeout: 5).found, "help did not open: the monitor does not answer")
        tmux.send("Escape")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0", timeout: 10).found, "the monitor did not quit")
    }

    @Test("a user's fake writing megabytes a second without a newline: the monitor following its log stays small and shows the line cut")
    func logWithoutNewlinesStaysBounded() throws {
        var template = Array("/tmp/smt-spew-\(getpid()).XXXXXX".utf8CString)
        try #require(mkdtemp(&template) != nil)
        let directory = String(cString: template)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Its stdout: an unlinked regular file, as Podman gives slirp4netns.
        let logPath = "\(directory)/slirp4netns.log"
        let log = open(logPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(log >= 0)
        unlink(logPath)
        defer { close(log) }
        let fake = try UserFakeSlirp(["--configure", "--mtu=65520", "--netns-type=path", "/run/netns/smt-absent-\(getpid())", "tap0"],
                                     spew: true, stdout: log)
        defer { fake.stop() }

        let tmux = TmuxHarness(width: 160, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        let monitor = try #require(tmux.monitorPID)
        filter(tmux, to: fake.pid)
        #expect(tmux.waitFor("--mtu=65520").found, "the fake is not shown")
        tmux.send("2")
        let cut = tmux.waitFor("is longer than 4 KiB: cut", timeout: 10)
        #expect(cut.found, "no note that the line was cut:\n\(cut.screen)")
        var peak = 0
        for _ in 0..<30 {
            usleep(500_000)
            peak = max(peak, residentKiB(monitor) ?? 0)
        }
        var st = stat()
        fstat(log, &st)
        print("log without newlines: monitor peak RSS \(peak) KiB while the fake wrote \(st.st_size) bytes")
        #expect(st.st_size > 100 << 20, "the fake wrote only \(st.st_size) bytes")
        #expect(peak < 80 * 1024, "the monitor grew to \(peak) KiB following \(st.st_size) bytes without a newline")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0", timeout: 10).found)
    }
}
