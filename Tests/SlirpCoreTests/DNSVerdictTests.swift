@testable import SlirpCore
import Testing

/// The DNS verdict when only the tap's counter could say whether the query left the namespace
/// (the kernel's route lookup failed: `DNSRoute.Kind.unknown`), a case no namespace here gives.
@Suite("DNS verdict on a busy tap with no route lookup")
struct DNSVerdictTests {
    let host = HostResolver(path: "/etc/resolv.conf", nameservers: ["192.0.2.53"], problem: nil, controlledBy: .host)
    let timeout = DNSProbe(server: "10.0.2.3", type: "A", outcome: .timeout, milliseconds: 1000)

    func judge(_ route: DNSRoute) -> DNSVerdict {
        DNSCheck.judge(pid: 9, probes: [timeout], resolvConf: [], host: host, dns: "10.0.2.3", name: "example.com",
                       disableDNS: false, disableHostLoopback: false, route: route, enter: ["nsenter", "-t", "42", "-n"], owner: "root")
    }

    @Test("the tap sent others' packets too and the route is unknown: nobody is blamed, the owner's read-only check and the host resolver are both named")
    func busyTapWithoutRouteIsUnknown() {
        let v = judge(DNSRoute(tap: "tap0", kind: .unknown, interface: nil, tapPacketsSent: 7, tapBusy: true, blockedByFirewall: false))
        #expect(v.summary.contains("whether the query reached slirp4netns is unknown") && !v.summary.contains("forwards to 192.0.2.53, and it did not answer"), "\(v.summary)")
        #expect(v.fix?.contains("nsenter -t 42 -n ip route get 10.0.2.3") == true && v.fix?.contains("192.0.2.53") == true, "\(v.fix ?? "")")
    }

    @Test("a quiet tap that sent the query, or a route through the tap: the host resolver is blamed as before")
    func quietTapOrTapRouteBlamesTheHost() {
        for route in [DNSRoute(tap: "tap0", kind: .unknown, interface: nil, tapPacketsSent: 1, tapBusy: false, blockedByFirewall: false),
                      DNSRoute(tap: "tap0", kind: .tap, interface: "tap0", tapPacketsSent: 7, tapBusy: true, blockedByFirewall: false)] {
            let v = judge(route)
            #expect(v.summary.contains("forwards to 192.0.2.53") && v.summary.contains("it did not answer"), "\(route): \(v.summary)")
        }
    }
}
