@testable import SlirpCore
import Testing

@Suite("A mapping for a RootlessKit instance, parsed and checked before anything is sent")
struct RootlessKitMappingTests {
    @Test("Podman's -p syntax gives RootlessKit specs: no host address listens on all, ranges expand, tcp4/udp6 and [IPv6] are taken")
    func podmanSyntaxWithRootlessKitsProtocols() throws {
        #expect(try RootlessKitMapping.parse("8080:80") == [RootlessKitPortSpec(proto: "tcp", parentPort: 8080, childPort: 80)])
        #expect(try RootlessKitMapping.parse("127.0.0.1:18001-18002:80-81/udp4", childIP: "10.0.2.100") == [
            RootlessKitPortSpec(proto: "udp4", parentIP: "127.0.0.1", parentPort: 18001, childIP: "10.0.2.100", childPort: 80),
            RootlessKitPortSpec(proto: "udp4", parentIP: "127.0.0.1", parentPort: 18002, childIP: "10.0.2.100", childPort: 81),
        ])
        #expect(try RootlessKitMapping.parse("[::1]:8080:80/tcp6") == [RootlessKitPortSpec(proto: "tcp6", parentIP: "::1", parentPort: 8080, childPort: 80)])
        #expect(try RootlessKitMapping.parse("8080:80/tcp,udp").map(\.proto) == ["tcp", "udp"])
    }

    @Test("a wrong mapping is refused in words that name what is wrong")
    func wrongMappingsAreRefused() {
        func message(_ text: String, childIP: String? = nil) -> String {
            do { _ = try RootlessKitMapping.parse(text, childIP: childIP); return "parsed" } catch { return error.description }
        }
        #expect(message("8080:80/sctp").contains("is not one RootlessKit forwards"))
        #expect(message("[::1]:8080:80/tcp4").contains("::1 is IPv6 but tcp4 is IPv4 only"))
        #expect(message("127.0.0.1:8080:80/udp6").contains("127.0.0.1 is IPv4 but udp6 is IPv6 only"))
        #expect(message("8080:80/tcp4", childIP: "fd00::1").contains("child address fd00::1 is IPv6 but tcp4"))
        #expect(message("8080:80", childIP: "web").contains("child address \"web\" is not an IPv4 or IPv6 address"))
        #expect(message("[::1:8080:80").contains("[ADDRESS]:HOSTPORT:CONTAINERPORT"))
        #expect(message("localhost:8080:80").contains("not an IPv4 address"))
        #expect(message("8080-8081:80").contains("must be the same length"))
        #expect(message("80").contains("a host port is required"))
        #expect(message("0:80").contains("out of range"))
    }

    @Test("the same port on overlapping addresses and families conflicts; tcp4 and tcp6 of one port, or tcp and udp, do not")
    func conflictsFollowTheKernelsBindRules() {
        let docker4 = RootlessKitPort(id: 5, spec: RootlessKitPortSpec(proto: "tcp4", parentIP: "0.0.0.0", parentPort: 18703, childIP: "127.0.0.1", childPort: 18703))
        let docker6 = RootlessKitPort(id: 6, spec: RootlessKitPortSpec(proto: "tcp6", parentIP: "::", parentPort: 18703, childIP: "::1", childPort: 18703))
        // Docker's own pair for one -p is no conflict.
        #expect(RootlessKitConflict.find(in: [docker4.spec, docker6.spec]).isEmpty)
        let loopback = RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18703, childPort: 80)
        #expect(RootlessKitConflict.find(in: [loopback], existing: [docker4, docker6]).map(\.holder) == [.port(docker4)])
        #expect(RootlessKitConflict.find(in: [RootlessKitPortSpec(proto: "tcp6", parentIP: "::1", parentPort: 18703, childPort: 80)], existing: [docker4]).isEmpty)
        #expect(RootlessKitConflict.find(in: [RootlessKitPortSpec(proto: "udp", parentPort: 18703, childPort: 80)], existing: [docker4, docker6]).isEmpty)
        let all = RootlessKitPortSpec(proto: "tcp", parentPort: 18800, childPort: 80)
        let one = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.2", parentPort: 18800, childPort: 81)
        let found = RootlessKitConflict.find(in: [all, one])
        #expect(found == [RootlessKitConflict(spec: one, holder: .spec(all))])
        #expect(found.first?.description == "tcp4 127.0.0.2:18800 -> :81 and tcp *:18800 -> :80 both take tcp port 18800")
        #expect(RootlessKitConflict.find(in: [one, RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.3", parentPort: 18800, childPort: 81)]).isEmpty)
    }

    @Test("a port added live is given back in Docker's -p syntax, IPv6 in brackets, udp marked")
    func dockerPublishArgument() {
        #expect(RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18701, childIP: "172.17.0.2", childPort: 80).dockerPublishArgument == "127.0.0.1:18701:80")
        #expect(RootlessKitPortSpec(proto: "udp6", parentIP: "::1", parentPort: 5353, childPort: 53).dockerPublishArgument == "[::1]:5353:53/udp")
        #expect(RootlessKitPortSpec(proto: "tcp", parentPort: 8080, childPort: 80).dockerPublishArgument == "8080:80")
    }
}
