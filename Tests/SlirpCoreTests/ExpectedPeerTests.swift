@testable import SlirpCore
import Testing

/// Which connection inside the namespace is the probe's own (`ForwardProbe.expectedPeer`), for
/// clients slirp4netns 1.2 cannot be given for real: its add_hostfwd refuses a host_addr that is
/// not IPv4 (`bad arguments.host_addr`, seen for "::"), so an IPv6 loopback client is a case for
/// a newer slirp4netns, judged from libslirp's sotranslate_accept.
@Suite("The probe's own connection, told apart inside the namespace")
struct ExpectedPeerTests {
    let site = ProbeSite(slirpPID: 1, netnsPath: nil, guest: "10.0.2.100", gateway: "10.0.2.2", disableHostLoopback: false, carriers: [])
    let forward = ProbeForward(id: 1, proto: .tcp, hostAddr: "::", hostPort: 8080, guestAddr: nil, guestPort: 80, carrier: .slirp4netns)

    func connection(from remote: String, port: Int, ipv6: Bool) -> SocketTable.Entry {
        SocketTable.Entry(local: ipv6 ? "fd00::100" : "10.0.2.100", localPort: 80, remote: remote, remotePort: port, state: 1, inode: 7, isIPv6: ipv6)
    }

    @Test("a probe from ::1 to a forward on :: is told by its source port, whatever IPv6 address libslirp gives it (its gateway, fd00::2)")
    func ipv6LoopbackClientIsItsSourcePort() {
        let peer = ForwardProbe.expectedPeer(forward, site: site, client: ("::1", 40001))
        #expect(peer.matches(connection(from: "fd00::2", port: 40001, ipv6: true)), "\(peer)")
        #expect(!peer.matches(connection(from: "fd00::2", port: 40002, ipv6: true)), "someone else's connection: \(peer)")
    }

    @Test("an IPv4 loopback client appears as the gateway, also to an IPv6 socket (::ffff:10.0.2.2)")
    func ipv4LoopbackClientIsTheGateway() {
        let peer = ForwardProbe.expectedPeer(forward, site: site, client: ("127.0.0.1", 40003))
        #expect(peer.matches(connection(from: "10.0.2.2", port: 40003, ipv6: false)))
        #expect(peer.matches(connection(from: "::ffff:10.0.2.2", port: 40003, ipv6: true)))
        #expect(!peer.matches(connection(from: "::ffff:10.0.2.3", port: 40003, ipv6: true)))
    }
}
