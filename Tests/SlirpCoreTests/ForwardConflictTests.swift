import SlirpCore
import Testing

/// Which forwards cannot both exist, as slirp4netns 1.2.0 refuses them (checked by hand: the
/// same protocol and host port on the same address, or either on 0.0.0.0, TCP and UDP alike).
@Suite("Forward conflicts in a batch")
struct ForwardConflictTests {
    func request(_ text: String) throws -> [ForwardRequest] { try PortMapping.parse(text).requests() }

    @Test("the same host port twice, or 0.0.0.0 beside one address, conflicts; another address, protocol or port does not")
    func overlapRules() throws {
        let batch = try ["18890:80", "18890:81", "127.0.0.1:18891:80", "127.0.0.2:18891:81", "18891:82",
                         "18892:80/udp", "18892:80/tcp", "127.0.0.1:18893-18894:80-81/tcp,udp"].flatMap(request)
        let conflicts = ForwardConflict.find(in: batch)
        #expect(conflicts.map(\.request.summary) == ["tcp 0.0.0.0:18890 -> :81", "tcp 0.0.0.0:18891 -> :82"])
        #expect(conflicts.first?.description == "tcp 0.0.0.0:18890 -> :81 and tcp 0.0.0.0:18890 -> :80 both take tcp port 18890 on 0.0.0.0")
        #expect(conflicts.last?.description == "tcp 0.0.0.0:18891 -> :82 and tcp 127.0.0.1:18891 -> :80 both take tcp port 18891 (0.0.0.0 covers every address)")
    }

    @Test("a request on a port an existing forward holds conflicts with that forward, named by id")
    func existingForwards() throws {
        let existing = [HostForward(id: 4, proto: .udp, hostAddr: "127.0.0.1", hostPort: 5353, guestAddr: "10.0.2.100", guestPort: 53),
                        HostForward(id: 5, proto: .tcp, hostAddr: "0.0.0.0", hostPort: 8080, guestAddr: "10.0.2.100", guestPort: 80)]
        let conflicts = ForwardConflict.find(in: try ["5353:53/udp", "127.0.0.2:5353:53/tcp", "127.0.0.1:8080:80", "8081:80"].flatMap(request),
                                             existing: existing)
        #expect(conflicts.map(\.description) == [
            "udp 0.0.0.0:5353 -> :53 takes udp port 5353, held by forward 4 (udp 127.0.0.1:5353 -> 10.0.2.100:53)",
            "tcp 127.0.0.1:8080 -> :80 takes tcp port 8080, held by forward 5 (tcp 0.0.0.0:8080 -> 10.0.2.100:80)",
        ])
        #expect(ForwardConflict.find(in: try request("30000-30999:30000-30999"), existing: existing).isEmpty, "a range is checked in linear time")
    }
}
