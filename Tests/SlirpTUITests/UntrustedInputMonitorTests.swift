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
    /// A fake's stdout as Podman gives slirp4netns one: a regular file, unlinked at once, in a
    /// private directory of its own (the caller closes the descriptor and removes the directory).
    func unlinkedLog(_ tag: String) throws -> (directory: String, fd: Int32) {
        var template = Array("/tmp/smt-\(tag)-\(getpid()).XXXXXX".utf8CString)
        try #require(mkdtemp(&template) != nil)
        let directory = String(cString: template)
        let path = "\(directory)/slirp4netns.log"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        unlink(path)
        return (directory, fd)
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
        tmux.showOnly(pid: fake.pid)
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
        let (directory, log) = try unlinkedLog("spew")
        defer { close(log); try? FileManager.default.removeItem(atPath: directory) }
        let fake = try UserFakeSlirp(["--configure", "--mtu=65520", "--netns-type=path", "/run/netns/smt-absent-\(getpid())", "tap0"],
                                     spew: true, stdout: log)
        defer { fake.stop() }

        let tmux = TmuxHarness(width: 160, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        let monitor = try #require(tmux.monitorPID)
        tmux.showOnly(pid: fake.pid)
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

    @Test("saving a user's sparse 3 GiB log copies only its last 64 MiB and says the copy was cut")
    func savingASparseLogIsBounded() throws {
        let (directory, log) = try unlinkedLog("sparse")
        defer { close(log); try? FileManager.default.removeItem(atPath: directory) }
        let size: Int64 = 3 << 30
        let tail = Array("\nslirp4netns: earlier line\nsparse log ends here\n".utf8)
        try #require(ftruncate(log, off_t(size)) == 0 && pwrite(log, tail, tail.count, off_t(size) - off_t(tail.count)) == tail.count)
        let fake = try UserFakeSlirp(["--configure", "--mtu=65520", "--netns-type=path", "/run/netns/smt-absent-\(getpid())", "tap0"], stdout: log)
        defer { fake.stop() }

        let tmux = TmuxHarness(width: 200, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        tmux.showOnly(pid: fake.pid)
        #expect(tmux.waitFor("--mtu=65520").found, "the fake is not shown")
        tmux.send("2")
        #expect(tmux.waitFor("sparse log ends here").found, "the log's tail is not shown")
        tmux.send("s")
        let saved = tmux.waitFor("log saved to", timeout: 60)
        #expect(saved.found, "no saved-log status:\n\(saved.screen)")
        #expect(saved.screen.contains("cut at 64"), "the status does not say the copy was cut:\n\(saved.screen)")
        let copies = ((try? FileManager.default.contentsOfDirectory(atPath: tmux.directory)) ?? []).filter { $0.hasPrefix("slirp4netns-\(fake.pid)-") }
        #expect(copies.count == 1)
        for copy in copies {
            let st = try Files.status("\(tmux.directory)/\(copy)")
            print("sparse \(size)-byte log: saved copy \(st.st_size) bytes, \(st.st_blocks * 512) on disk")
            #expect(st.st_size <= 64 << 20, "the copy is \(st.st_size) bytes")
            #expect((try? String(contentsOfFile: "\(tmux.directory)/\(copy)", encoding: .utf8))?.hasSuffix("sparse log ends here\n") == true)
            unlink("\(tmux.directory)/\(copy)")
        }
    }
}
