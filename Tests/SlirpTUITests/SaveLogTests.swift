import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Saving a log from the monitor keeps it as evidence: the copy holds the log's bytes exactly.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct SaveLogTests {
    @Test("a real instance's log with bytes that are not UTF-8 is saved byte for byte")
    func savedLogKeepsInvalidUTF8Bytes() throws {
        let lab = try TestLab("tui-save")
        defer { withExtendedLifetime(lab) {} }
        let instance = try lab.start(SlirpLab.Spec(name: "v", cidr: "10.77.36.0/24"))
        // Bytes no UTF-8 decoder keeps (a lone continuation byte, 0xFF, an overlong sequence, a cut one),
        // sent as a request: slirp4netns writes every request it takes to its log as it came.
        let odd: [UInt8] = Array("slirpmon-save-marker ".utf8) + [0x80, 0xFF, 0xC0, 0xAF, 0xE2, 0x82]
        let socket = try #require(instance.apiSocket)
        let client = try UnixStreamSocket.connect(to: socket, deadline: .after(seconds: 5))
        try client.writeAll(odd, deadline: .after(seconds: 5))
        try client.shutdownWrite()
        _ = try? client.readToEnd(deadline: .after(seconds: 5), limit: 4096)
        let logPath = "/proc/\(instance.pid)/fd/\(try UnlinkedLog(pid: instance.pid).fd)"
        #expect(eventually { (FileManager.default.contents(atPath: logPath).map { Array($0).firstRange(of: odd) != nil }) == true },
                "slirp4netns did not log the request as sent")

        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor()
        #expect(tmux.waitFor("F10Quit").found)
        tmux.showOnly(pid: instance.pid)
        #expect(tmux.waitFor("10.77.36.100").found, "the instance is not shown")
        tmux.send("2")
        #expect(tmux.waitFor("slirpmon-save-marker").found, "the log is not shown")
        tmux.send("s")
        let saved = tmux.waitFor("log saved to \(tmux.directory)/slirp4netns-\(instance.pid)-")
        #expect(saved.found, "no saved-log status:\n\(saved.screen)")
        let copies = ((try? FileManager.default.contentsOfDirectory(atPath: tmux.directory)) ?? []).filter { $0.hasPrefix("slirp4netns-\(instance.pid)-") }
        try #require(copies.count == 1, "copies: \(copies)")
        let copy = try #require(FileManager.default.contents(atPath: "\(tmux.directory)/\(copies[0])"), "the copy cannot be read")
        // The log may have grown since (a request's line): the copy is its beginning, byte for byte.
        let now = try #require(FileManager.default.contents(atPath: logPath), "the log cannot be read")
        #expect(!copy.isEmpty && copy.count <= now.count)
        #expect(Array(copy) == Array(now.prefix(copy.count)), "the copy differs from the log (\(copy.count) and \(now.count) bytes)")
        #expect(Array(copy).firstRange(of: odd) != nil, "the odd bytes are not in the copy as written")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
