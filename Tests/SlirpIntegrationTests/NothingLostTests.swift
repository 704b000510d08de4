import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A thousand random adds and removes through the CLI against a real slirp4netns: at the end
/// `list_hostfwd` is exactly the expected set, and every listed forward carries traffic.
@Suite("Nothing lost", .enabled(if: isRoot, "needs root for ip netns"))
struct NothingLostTests {
    struct Expected: Hashable { let id: Int; let hostPort: Int; let guestPort: Int }

    @Test("1000 random fwd add / fwd rm operations end with exactly the expected forwards, each carrying traffic")
    func thousandOperations() throws {
        let lab = try TestLab("lost")
        let instance = try lab.start(.init(name: "l"))
        let netns = try #require(instance.netnsName)
        let guestPorts = [80, 81, 82, 83]
        let servers = try guestPorts.map { try NamespaceServer(netns: netns, port: $0, reply: "pong-\($0)") }
        defer { _ = servers }
        var hostPorts: Set<Int> = []
        while hostPorts.count < 24 { hostPorts.insert(Int(try DemoFleet.freeTCPPort().value)) }
        let pid = String(instance.pid)
        let client = APIClient(socketPath: try #require(instance.apiSocket), expectedPID: instance.pid)
        var expected: [Int: Expected] = [:]
        var counts = (adds: 0, removes: 0, removeAll: 0, refusedAdds: 0, refusedRemoves: 0)
        func listed() throws -> Set<Expected> {
            Set(try client.list().map { Expected(id: $0.id, hostPort: $0.hostPort, guestPort: $0.guestPort) })
        }
        for op in 1...1000 {
            let free = hostPorts.subtracting(expected.values.map(\.hostPort))
            let roll = Int.random(in: 0..<100)
            if roll < 2 && !expected.isEmpty {
                let out = slirpmon(["fwd", "rm", pid, "all", "--json"])
                #expect(out.status == 0, "op \(op) rm all: \(out.stderr)")
                expected.removeAll()
                counts.removeAll += 1
            } else if roll < 6, let used = expected.values.randomElement() {
                // A host port already forwarded: slirp4netns refuses it, nothing changes.
                let out = slirpmon(["fwd", "add", pid, "127.0.0.1:\(used.hostPort):80"])
                #expect(out.status == 1, "op \(op) duplicate add: \(out.stderr)")
                counts.refusedAdds += 1
            } else if roll < 9 {
                let out = slirpmon(["fwd", "rm", pid, String(100_000 + op)])
                #expect(out.status == 1, "op \(op) unknown id: \(out.stderr)")
                counts.refusedRemoves += 1
            } else if roll < 62, let hostPort = free.randomElement(), let guestPort = guestPorts.randomElement() {
                let out = slirpmon(["fwd", "add", pid, "127.0.0.1:\(hostPort):\(guestPort)", "--json"])
                let added = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [[String: Any]]
                guard out.status == 0, let id = added?.first?["id"] as? Int else {
                    Issue.record("op \(op) add \(hostPort): \(out.status) \(out.stderr)"); continue
                }
                #expect(expected[id] == nil, "op \(op): id \(id) given twice")
                expected[id] = Expected(id: id, hostPort: hostPort, guestPort: guestPort)
                counts.adds += 1
            } else if let victim = expected.values.randomElement() {
                let out = slirpmon(["fwd", "rm", pid, String(victim.id)])
                #expect(out.status == 0, "op \(op) rm \(victim.id): \(out.stderr)")
                expected[victim.id] = nil
                counts.removes += 1
            }
            if op % 100 == 0 {
                let now = try listed()
                #expect(now == Set(expected.values), "after op \(op): listed \(now.count), expected \(expected.count)")
            }
        }
        // The claim is about forwards that exist: a run that ended on `rm all` adds one more.
        if expected.isEmpty, let hostPort = hostPorts.first {
            let out = slirpmon(["fwd", "add", pid, "127.0.0.1:\(hostPort):80", "--json"])
            let added = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [[String: Any]]
            let id = try #require(added?.first?["id"] as? Int, "the closing add: \(out.status) \(out.stderr)")
            expected[id] = Expected(id: id, hostPort: hostPort, guestPort: 80)
        }
        let final = try listed()
        #expect(final == Set(expected.values), "missing \(Set(expected.values).subtracting(final)), extra \(final.subtracting(Set(expected.values)))")
        var carried = 0
        for forward in final {
            let reply = tcpRoundTrip(port: forward.hostPort)?.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(reply == "pong-\(forward.guestPort)", "forward \(forward.id) 127.0.0.1:\(forward.hostPort) -> :\(forward.guestPort): \(reply ?? "refused")")
            if reply == "pong-\(forward.guestPort)" { carried += 1 }
        }
        #expect(!final.isEmpty && carried == final.count, "\(carried) of \(final.count) forwards carried a round trip")
        for port in hostPorts.subtracting(final.map(\.hostPort)) {
            #expect(tcpRoundTrip(port: port, timeout: 1) == nil, "port \(port) open without a forward")
        }
        print("nothing lost (CLI): 1000 operations: \(counts.adds) adds, \(counts.removes) removes, \(counts.removeAll) rm all, \(counts.refusedAdds) refused adds, \(counts.refusedRemoves) refused removes; \(final.count) forwards at the end, \(carried) carried a TCP round trip")
    }
}
