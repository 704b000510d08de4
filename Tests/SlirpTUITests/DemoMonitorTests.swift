import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `slirpmon demo` in a real terminal, as the README's first command opens it.
@Suite(.enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct DemoMonitorTests {
    @Test("the demo's monitor says in its status line which forward to try with curl, and that one answers")
    func theDemoSaysWhatToTry() throws {
        let tmux = TmuxHarness(width: 160, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor("demo -d 0.5")
        let shown = tmux.waitFor("try curl 127.0.0.1:", timeout: 30)
        try #require(shown.found, "no hint in the status line:\n\(shown.screen)")
        let port = try #require(shown.screen.firstMatch(of: /try curl 127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) })
        let reply = tcpExchange(port: port, send: "GET / HTTP/1.0\r\n\r\n")
        #expect(reply?.contains("slirpmon demo: you reached port 80 inside the \"web\" namespace") == true, "\(reply ?? "no answer")")
        tmux.send("Escape")
        #expect(tmux.waitUntil(timeout: 5) { !$0.contains("try curl") }.found, "Esc did not hide the hint")
        tmux.send("q")
        let report = tmux.exitReport()
        #expect(report.exited && report.cooked, "\(report.screen)")
    }
}
