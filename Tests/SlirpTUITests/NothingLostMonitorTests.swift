import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fifty random adds and removes through the monitor's form and confirmation, in a real terminal
/// against a real slirp4netns: at the end `list_hostfwd` is exactly what was added and not removed,
/// the pane shows the same, and every forward carries traffic.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct NothingLostMonitorTests {
    struct Expected: Hashable { let id: Int; let hostPort: Int; let guestPort: Int }

    @Test func fiftyRandomAddsAndRemovesThroughTheMonitorLoseNothing() throws {
        let lab = try makeLab("lost")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        var spec = SlirpLab.Spec(name: "l", cidr: "10.77.48.0/24")
        spec.mtu = 65520
        let instance = try lab.start(spec)
        let netns = try #require(instance.netnsName)
        let servers = try [80, 81].map { try NamespaceServer(netns: netns, port: $0, reply: "tui-pong-\($0)") }
        defer { _ = servers }
        var hostPorts: Set<Int> = []
        while hostPorts.count < 12 { hostPorts.insert(Int(try DemoFleet.freeTCPPort().value)) }

        let tmux = TmuxHarness(width: 160, height: 45)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        tmux.send("F4")
        tmux.type(String(instance.pid))
        tmux.send("Enter")
        #expect(tmux.waitFor("10.77.48.100").found)
        tmux.send("3")
        #expect(tmux.waitFor("No forwards added").found)
        tmux.send("Tab") // focus the forwards pane

        var expected: [Int: Expected] = [:]
        var nextID = 1
        var adds = 0, removes = 0
        for op in 1...50 {
            let free = hostPorts.subtracting(expected.values.map(\.hostPort))
            if let hostPort = free.randomElement(), expected.count < 2 || Int.random(in: 0..<10) < 6 {
                let guestPort = [80, 81].randomElement() ?? 80
                tmux.send("a")
                guard tmux.waitFor("Add forward to pid \(instance.pid)").found else { Issue.record("op \(op): no form"); break }
                tmux.type(String(hostPort))
                tmux.send("Tab")
                tmux.type(String(guestPort))
                tmux.send("Enter")
                let added = tmux.waitFor("added forward id \(nextID): tcp 127.0.0.1:\(hostPort)")
                guard added.found else { Issue.record("op \(op): add \(hostPort) not confirmed:\n\(added.screen)"); break }
                expected[nextID] = Expected(id: nextID, hostPort: hostPort, guestPort: guestPort)
                nextID += 1
                adds += 1
            } else {
                let sorted = expected.keys.sorted()
                let index = Int.random(in: 0..<sorted.count)
                _ = tmux.waitFor("\(sorted.count) forward")
                tmux.send("Home")
                for _ in 0..<index { tmux.send("Down") }
                tmux.send("d")
                let confirm = tmux.waitUntil { $0.range(of: #"Remove forward \d+ of pid"#, options: .regularExpression) != nil }
                guard let range = confirm.screen.range(of: #"Remove forward \d+"#, options: .regularExpression),
                      let id = Int(confirm.screen[range].split(separator: " ").last ?? "") else {
                    Issue.record("op \(op): no confirmation:\n\(confirm.screen)"); break
                }
                #expect(id == sorted[index], "op \(op): the row at index \(index) is forward \(id), expected \(sorted[index])")
                tmux.send("y")
                guard tmux.waitFor("removed forward \(id)").found else { Issue.record("op \(op): remove \(id) not confirmed"); break }
                expected[id] = nil
                removes += 1
            }
        }
        let client = APIClient(socketPath: try #require(instance.apiSocket), expectedPID: instance.pid)
        let listed = Set(try client.list().map { Expected(id: $0.id, hostPort: $0.hostPort, guestPort: $0.guestPort) })
        #expect(listed == Set(expected.values), "missing \(Set(expected.values).subtracting(listed)), extra \(listed.subtracting(Set(expected.values)))")
        let pane = tmux.waitFor(expected.count == 1 ? "1 forward" : "\(expected.count) forwards")
        #expect(pane.found, "the pane does not show \(expected.count) forwards:\n\(pane.screen)")
        for forward in expected.values {
            #expect(pane.screen.contains("127.0.0.1:\(forward.hostPort)"), "forward \(forward.id) not shown")
        }
        var carried = 0
        for forward in listed {
            let reply = tcpRoundTrip(port: forward.hostPort)?.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(reply == "tui-pong-\(forward.guestPort)", "forward \(forward.id): \(reply ?? "refused")")
            if reply == "tui-pong-\(forward.guestPort)" { carried += 1 }
        }
        print("nothing lost (monitor): 50 operations: \(adds) adds through the form, \(removes) removes through the confirmation; \(listed.count) forwards at the end, \(carried) carried a TCP round trip")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
