import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The monitor, run by a user who cannot prove whose a socket is, sends it nothing.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun && isRoot, "\(TmuxHarness.unavailableReason ?? "needs root to switch to nobody")"))
struct TrustMonitorTests {
    @Test("a user's monitor refuses to add a forward to another user's world-writable socket, and says why")
    func monitorRefusesUnprovenSocket() throws {
        let lab = try TestLab("tui-unproven")
        var spec = SlirpLab.Spec(name: "u", cidr: "10.77.41.0/24")
        spec.mtu = 65520
        let instance = try lab.start(spec)
        let socket = try #require(instance.apiSocket)
        chmod(socket, 0o777)
        chmod((socket as NSString).deletingLastPathComponent, 0o755)
        guard let binary = TmuxHarness.binary, let setpriv = Executables.find("setpriv") else { throw HarnessError("no slirpmon binary or setpriv") }
        chmod(binary, 0o755)
        var dir = (binary as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty { chmod(dir, (try? Files.status(dir).st_mode).map { $0 | 0o005 } ?? 0o755); dir = (dir as NSString).deletingLastPathComponent }

        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        chmod(tmux.directory, 0o777)
        try tmux.start("\(setpriv) --reuid=65534 --regid=65534 --clear-groups -- env HOME=/nonexistent \(binary) -d 0.5; echo EXITED $?; sleep 120")
        #expect(tmux.waitFor("F10Quit").found, "\(tmux.capture())")
        tmux.send("F4")
        tmux.type(String(instance.pid))
        tmux.send("Enter")
        #expect(tmux.waitFor("10.77.41.100").found, "\(tmux.capture())")
        tmux.send("a")
        let refused = tmux.waitFor("cannot add a forward")
        #expect(refused.found, "\(refused.screen)")
        #expect(refused.screen.contains("not verified") || refused.screen.contains("not proven"), "\(refused.screen)")
        #expect(!refused.screen.contains("Host port"), "the add form opened:\n\(refused.screen)")
        #expect(apiRequests(pid: instance.pid).filter { $0.contains("add_hostfwd") }.isEmpty)
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
