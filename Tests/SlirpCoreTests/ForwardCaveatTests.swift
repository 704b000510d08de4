@testable import SlirpCore
import Testing

@Suite("Notes on forwards slirp4netns will not fully carry")
struct ForwardCaveatTests {
    func request(_ proto: ForwardProtocol, _ host: String, _ port: Int = 8053) -> ForwardRequest {
        ForwardRequest(proto: proto, hostAddr: IPv4Address(host)!, hostPort: Port(port)!, guestPort: Port(53)!)
    }

    @Test("UDP reachable from the host's loopback, with --disable-host-loopback: one note, naming the forward or the count")
    func loopbackUDP() throws {
        let disabled = SlirpCommandLine.decode(["slirp4netns", "--disable-host-loopback", "1", "tap0"])
        #expect(disabled.disableHostLoopback)
        let one = try #require(ForwardCaveat.loopbackUDPReplies([request(.udp, "127.0.0.1")], configuration: disabled))
        #expect(one.contains("udp 127.0.0.1:8053 -> :53") && one.contains("--disable-host-loopback"))
        #expect(ForwardCaveat.loopbackUDPReplies([request(.udp, "0.0.0.0")], configuration: disabled) != nil, "0.0.0.0 takes loopback clients too")
        #expect(ForwardCaveat.loopbackUDPReplies([request(.udp, "127.1.2.3")], configuration: disabled) != nil)
        let many = try #require(ForwardCaveat.loopbackUDPReplies([request(.tcp, "127.0.0.1"), request(.udp, "127.0.0.1", 1), request(.udp, "0.0.0.0", 2)],
                                                                  configuration: disabled))
        #expect(many.contains("2 UDP forwards"))
    }

    @Test("TCP, another host address, or host loopback allowed: no note")
    func noNote() {
        let disabled = SlirpCommandLine.decode(["slirp4netns", "--disable-host-loopback", "1", "tap0"])
        let allowed = SlirpCommandLine.decode(["slirp4netns", "1", "tap0"])
        #expect(ForwardCaveat.loopbackUDPReplies([request(.tcp, "127.0.0.1"), request(.tcp, "0.0.0.0")], configuration: disabled) == nil)
        #expect(ForwardCaveat.loopbackUDPReplies([request(.udp, "192.0.2.2")], configuration: disabled) == nil)
        #expect(ForwardCaveat.loopbackUDPReplies([request(.udp, "127.0.0.1")], configuration: allowed) == nil)
        #expect(ForwardCaveat.loopbackUDPReplies([], configuration: disabled) == nil)
    }
}
