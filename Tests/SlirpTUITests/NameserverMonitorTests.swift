import Foundation
import SlirpCore
import SlirpTestSupport
import Testing

/// The monitor's details observe the selected instance's DNS in a real terminal.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct NameserverMonitorTests {
    @Test("the monitor's details name the process whose resolv.conf gave the DNS, and flag a host's 127.0.0.53 planted there")
    func monitorDetailsNameTheResolvConfSource() throws {
        let lab = try TestLab("tui-dns")
        let (instance, sleeper, etc) = try lab.startWithResolvConf("d", resolvConf: "nameserver 127.0.0.53\n")
        defer { try? FileManager.default.removeItem(atPath: etc) }
        let tmux = TmuxHarness(width: 220, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(instance.pid))
        let source = "resolv.conf of PID \(sleeper) (sleep): 127.0.0.53 is a loopback address"
        let shown = tmux.waitUntil { screen in
            screen.split(separator: "\n").contains { $0.contains("dns ") && $0.contains("MISMATCH") && $0.contains(source) }
        }
        #expect(shown.found, "no dns row naming PID \(sleeper):\n\(shown.screen)")
        #expect(!shown.screen.contains("no process in the namespace"), "\(shown.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
