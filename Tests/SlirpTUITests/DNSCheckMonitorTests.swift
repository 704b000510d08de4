import Foundation
import SlirpCore
import SlirpTestSupport
import Testing

/// `N` in the monitor: the DNS check of the selected instance, run off the input thread, its
/// answer and verdict in the details pane.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct DNSCheckMonitorTests {
    @Test("N asks the selected instance's 10.0.2.3 from inside its namespace: the details pane shows dnsmasq's answer with its time, then a dead resolver's verdict with the fix")
    func keyShowsAnswerAndVerdict() throws {
        let lab = try ResolverLab("tui")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\nnameserver \(ResolverLab.silentIPv4)\n")
        let tmux = TmuxHarness(width: 200, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(slirp))
        // Selected once the first scan has found it (the filter's text alone shows the PID earlier).
        try #require(tmux.waitFor("PID \(slirp) state").found, "the monitor did not show pid \(slirp)")
        tmux.send("N")
        let answered = tmux.waitUntil { screen in
            screen.split(separator: "\n").contains { $0.contains("DNS     10.0.2.3 A example.com: NOERROR in ") && $0.contains(ResolverLab.defaultNameAnswer) }
                && screen.contains("OK: DNS works: 10.0.2.3 answered example.com")
        }
        #expect(answered.found, "no DNS answer in the details:\n\(answered.screen)")
        #expect(answered.screen.contains("note: slirp4netns asks only \(ResolverLab.resolverIPv4): \(ResolverLab.silentIPv4) after it is never asked"), "\(answered.screen)")
        #expect(lab.resolverQueries.contains { $0.contains("query[A] example.com") }, "\(lab.resolverQueries)")
        // The resolver stops answering (the slirp4netns keeps running): the next check says so.
        lab.stopResolver()
        tmux.send("N")
        let refused = tmux.waitUntil { screen in
            screen.contains("FAILURE: 10.0.2.3 refused in ") && screen.contains("fix: start the resolver at \(ResolverLab.resolverIPv4)")
        }
        #expect(refused.found, "no failure verdict after dnsmasq stopped:\n\(refused.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
