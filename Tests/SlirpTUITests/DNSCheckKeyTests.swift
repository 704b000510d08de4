@testable import SlirpCore
import Testing
@testable import SlirpTUI

/// `N` fed to the state, no terminal: what is asked, what is refused, and which instance shows the answer.
@Suite struct DNSCheckKeyTests {
    /// A report as `DNSCheck` writes it for `pid`, with `status`.
    func report(_ pid: Int32, _ status: DNSVerdict.Status) -> DNSReport {
        DNSReport(pid: pid, name: "example.com", namespace: "/run/netns/x",
                  probes: [DNSProbe(server: "10.0.2.3", type: "A", outcome: .answered, code: "NOERROR", addresses: ["192.0.2.80"], milliseconds: 0.5)],
                  resolvConf: [], hostResolver: HostResolver(path: "/proc/\(pid)/root/etc/resolv.conf", nameservers: ["198.51.100.53"], problem: nil),
                  verdict: DNSVerdict(status: status, summary: status == .ok ? "DNS works" : "it does not", fix: status == .ok ? nil : "repair it"))
    }

    @Test("N asks the selected instance once; a second N while it runs sends nothing; the answer shows under that instance only")
    func oneCheckAtATimeShownForItsInstance() {
        var state = Fixtures.state(size: Size(width: 120, height: 40))
        #expect(state.press(.character("N")) == [.checkDNS(Fixtures.web)])
        #expect(state.press(.character("N")) == [], "a second N while the first waits")
        #expect(state.status?.kind == .waiting)
        var text = render(state, size: state.size).text
        #expect(text.contains("asking from inside the namespace..."), "\(text)")
        _ = state.apply(.dnsChecked(Fixtures.web, report(Fixtures.web.pid, .failure), error: nil))
        text = render(state, size: state.size).text
        #expect(text.contains("DNS     10.0.2.3 A example.com: NOERROR in 0.5 ms: 192.0.2.80") && text.contains("FAILURE: it does not")
                && text.contains("fix: repair it"), "\(text)")
        #expect(state.status?.kind == .error && state.status?.text.hasPrefix("DNS, pid \(Fixtures.web.pid): failure") == true)
        // Another instance selected: its details carry no other instance's answer.
        state.press(.down)
        #expect(!render(state, size: state.size).text.contains("DNS     10.0.2.3"))
        // An answer for an instance not being checked is dropped.
        _ = state.apply(.dnsChecked(Fixtures.noapi, report(Fixtures.noapi.pid, .ok), error: nil))
        #expect(state.dnsCheck?.identity == Fixtures.web)
    }

    @Test("N on an instance that has gone asks nothing and says why")
    func goneInstanceNotAsked() {
        var state = Fixtures.state()
        _ = state.apply(.inventory([Fixtures.customSnapshot(), Fixtures.noapiSnapshot()], error: nil, clock: "x"))
        #expect(state.selectedRow?.isGone == true)
        #expect(state.press(.character("N")) == [])
        #expect(state.status?.kind == .error && state.status?.text.contains("no DNS to ask") == true, "\(String(describing: state.status))")
    }
}
