import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A request slirp4netns received but did not answer in time is not a failure: it may still be
/// carried out (a stopped slirp4netns carries it out once continued). Only a request never
/// delivered is "not added". A batch is checked whole before anything is sent.
@Suite("Answered late, and batches checked whole", .serialized, .enabled(if: isRoot, "needs root for ip netns"))
struct AnsweredLateTests {
    /// The `add_hostfwd` requests slirp4netns logged (every request it reads is echoed to its log).
    static func addsLogged(_ pid: Int32) -> Int { apiRequests(pid: pid).filter { $0.contains("add_hostfwd") }.count }

    /// A fresh instance of its own lab (the lab ends with the test), and its PID as a TARGET.
    static func instance(_ name: String) throws -> (lab: TestLab, instance: SlirpLab.Instance, target: String) {
        let lab = try TestLab(name)
        let instance = try lab.start(.init(name: String(name.prefix(1))))
        return (lab, instance, String(instance.pid))
    }

    static func listed(_ pid: Int32) throws -> [HostForward] {
        let out = slirpmon(["fwd", "list", String(pid), "--json"])
        guard out.status == 0 else { throw LabSetupError("fwd list: \(out.status) \(out.stderr)") }
        return try JSONDecoder().decode([HostForward].self, from: Data(out.stdout.utf8))
    }

    @Test("a forward added to a stopped slirp4netns is 'sent, no answer' (exit 3), and reaches the container once it is continued; the next one, never delivered, is 'not added'")
    func stoppedInstanceCarriesOutTheAddOnceContinued() throws {
        let (lab, instance, pid) = try AnsweredLateTests.instance("late")
        _ = lab
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "late-\(instance.pid)")
        _ = server
        let port = try DemoFleet.freeTCPPort(), other = try DemoFleet.freeTCPPort()
        #expect(kill(instance.pid, SIGSTOP) == 0)
        var stopped = true
        defer { if stopped { kill(instance.pid, SIGCONT) } }

        let sent = slirpmon(["fwd", "add", pid, "127.0.0.1:\(port):80", "--timeout", "1", "--json"])
        #expect(sent.status == 3, "sent but unanswered is its own exit status: \(sent.status) \(sent.stderr)")
        #expect(sent.stderr.contains("sent, no answer: it may still be added; `slirpmon fwd list \(pid)` shows whether it was"), "\(sent.stderr)")
        #expect(!sent.stderr.contains("failed:"), "\(sent.stderr)")
        #expect(sent.stdout.contains(#""state" : "sent_no_answer""#), "the JSON says what became of the request: \(sent.stdout)")
        // The one request slirp4netns can hold in its backlog is taken: this one is never delivered.
        let never = slirpmon(["fwd", "add", pid, "127.0.0.1:\(other):80", "--timeout", "1"])
        #expect(never.status == 1, "\(never.status) \(never.stderr)")
        #expect(never.stderr.contains("tcp 127.0.0.1:\(other) -> :80 not added (never sent)"), "\(never.stderr)")

        #expect(kill(instance.pid, SIGCONT) == 0)
        stopped = false
        #expect(eventually(5) { (try? Self.listed(instance.pid))?.contains { $0.hostPort == Int(port.value) } == true },
                "the forward sent without an answer exists once slirp4netns runs")
        #expect(tcpRoundTrip(port: Int(port.value))?.trimmingCharacters(in: .newlines) == "late-\(instance.pid)")
        #expect(try Self.listed(instance.pid).map(\.hostPort) == [Int(port.value)], "the never-delivered one was not added")
        #expect(tcpRoundTrip(port: Int(other.value), timeout: 1) == nil)
    }

    @Test("a forward removed from a stopped slirp4netns is 'sent, no answer' (exit 3), and gone once it is continued")
    func stoppedInstanceCarriesOutTheRemovalOnceContinued() throws {
        let (lab, instance, pid) = try AnsweredLateTests.instance("laterm")
        _ = lab
        let port = try DemoFleet.freeTCPPort()
        #expect(slirpmon(["fwd", "add", pid, "127.0.0.1:\(port):80"]).status == 0)
        let id = try #require(try Self.listed(instance.pid).first?.id)
        #expect(kill(instance.pid, SIGSTOP) == 0)
        var stopped = true
        defer { if stopped { kill(instance.pid, SIGCONT) } }
        let removed = slirpmon(["fwd", "rm", pid, String(id), "--timeout", "1", "--json"])
        #expect(removed.status == 3, "\(removed.status) \(removed.stderr)")
        #expect(removed.stderr.contains("removing forward \(id): sent, no answer: it may still be removed"), "\(removed.stderr)")
        #expect(removed.stdout.contains(#""sent_no_answer" : ["#), "\(removed.stdout)")
        #expect(kill(instance.pid, SIGCONT) == 0)
        stopped = false
        #expect(eventually(5) { (try? Self.listed(instance.pid))?.isEmpty == true }, "the removal was carried out once continued")
    }

    @Test("fwd add with two mappings on one host port (or 0.0.0.0 beside 127.0.0.1) sends nothing and names every conflict")
    func batchConflictingWithItselfSendsNothing() throws {
        let (lab, instance, pid) = try AnsweredLateTests.instance("batch")
        _ = lab
        let port = try DemoFleet.freeTCPPort(), udp = try DemoFleet.freeTCPPort()
        let out = slirpmon(["fwd", "add", pid, "\(port):80", "\(port):81", "127.0.0.1:\(udp):53/udp", "\(udp):54/udp"])
        #expect(out.status == 2, "\(out.status) \(out.stderr)")
        #expect(out.stderr.contains("nothing sent"), "\(out.stderr)")
        #expect(out.stderr.contains("tcp 0.0.0.0:\(port) -> :81 and tcp 0.0.0.0:\(port) -> :80 both take tcp port \(port)"), "\(out.stderr)")
        #expect(out.stderr.contains("udp 0.0.0.0:\(udp) -> :54 and udp 127.0.0.1:\(udp) -> :53 both take udp port \(udp)"), "\(out.stderr)")
        #expect(try Self.listed(instance.pid).isEmpty, "no forward was added")
        #expect(Self.addsLogged(instance.pid) == 0, "slirp4netns received no add_hostfwd")
    }

    @Test("fwd add whose mappings conflict with the instance's forwards sends nothing and names the forward in the way")
    func batchConflictingWithExistingForwardsSendsNothing() throws {
        let (lab, instance, pid) = try AnsweredLateTests.instance("batchx")
        _ = lab
        let taken = try DemoFleet.freeTCPPort(), free = try DemoFleet.freeTCPPort()
        #expect(slirpmon(["fwd", "add", pid, "\(taken):80"]).status == 0)
        let before = try Self.listed(instance.pid)
        let addsBefore = Self.addsLogged(instance.pid)
        let out = slirpmon(["fwd", "add", pid, "127.0.0.1:\(free):80", "127.0.0.1:\(taken):81"])
        #expect(out.status == 1, "\(out.status) \(out.stderr)")
        #expect(out.stderr.contains("nothing sent: the mappings conflict with the instance's forwards: tcp 127.0.0.1:\(taken) -> :81 takes tcp port \(taken), held by forward 1 (tcp 0.0.0.0:\(taken) -> 10.0.2.100:80)"),
                "\(out.stderr)")
        #expect(try Self.listed(instance.pid) == before, "the list is unchanged")
        #expect(Self.addsLogged(instance.pid) == addsBefore, "slirp4netns received no add_hostfwd")
        #expect(tcpRoundTrip(port: Int(free.value), timeout: 1) == nil, "the free port was not forwarded")
    }

    @Test("a batch whose instance stops answering halfway: the added are confirmed, the unanswered one is sent, the rest never sent, and after SIGCONT exactly the sent ones exist")
    func batchStopsAtTheFirstUnansweredRequest() throws {
        let (lab, instance, _) = try AnsweredLateTests.instance("half")
        _ = lab
        let client = APIClient(socketPath: try #require(instance.apiSocket), expectedPID: instance.pid, timeout: 1)
        let ports = try (0..<3).map { _ in try DemoFleet.freeTCPPort() }
        let requests = ports.map { ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: $0, guestPort: Port.http) }
        var stopped = false
        defer { if stopped { kill(instance.pid, SIGCONT) } }
        // Stopped right after the first is confirmed: the second is sent into its socket unanswered.
        let outcome = ForwardSession(client: client, pid: instance.pid).add(requests) { n in
            if n == 0 { stopped = kill(instance.pid, SIGSTOP) == 0 }
        }
        #expect(outcome.refusal == nil)
        #expect(outcome.added.map(\.request) == [requests[0]])
        let failure = try #require(outcome.failure)
        #expect(failure.request == requests[1] && failure.1.sentWithoutAnswer, "\(failure.1.explanation)")
        #expect(outcome.notSent == [requests[2]], "nothing is sent after an unanswered request")
        kill(instance.pid, SIGCONT)
        stopped = false
        #expect(eventually(5) { (try? client.list())?.count == 2 })
        #expect(try client.list().map(\.hostPort) == ports.prefix(2).map { Int($0.value) })
    }
}

/// `fwd rm` with several ids is checked whole too: an id the instance does not have no longer
/// fails after the ones before it were removed.
@Suite("fwd rm checked whole", .serialized, .enabled(if: isRoot, "needs root for ip netns"))
struct RemoveBatchTests {
    @Test("fwd rm with an id the instance does not have, or one id twice, removes nothing and says which")
    func removalBatchWithAnUnknownIDRemovesNothing() throws {
        let (lab, instance, pid) = try AnsweredLateTests.instance("rmbatch")
        _ = lab
        let first = try DemoFleet.freeTCPPort(), second = try DemoFleet.freeTCPPort()
        #expect(slirpmon(["fwd", "add", pid, "127.0.0.1:\(first):80", "127.0.0.1:\(second):81"]).status == 0)
        let before = try AnsweredLateTests.listed(instance.pid)
        #expect(before.map(\.id) == [1, 2])

        let unknown = slirpmon(["fwd", "rm", pid, "1", "99"])
        #expect(unknown.status == 1, "\(unknown.status) \(unknown.stderr)")
        #expect(unknown.stderr.contains("nothing sent: the instance has no forward 99"), "\(unknown.stderr)")
        let twice = slirpmon(["fwd", "rm", pid, "2", "2"])
        #expect(twice.status == 2, "\(twice.status) \(twice.stderr)")
        #expect(twice.stderr.contains("nothing sent: forward id 2 is given twice"), "\(twice.stderr)")
        #expect(try AnsweredLateTests.listed(instance.pid) == before, "forward 1 and 2 are still there")
        #expect(!apiRequests(pid: instance.pid).contains { $0.contains("remove_hostfwd") }, "slirp4netns received no remove_hostfwd")
        #expect(slirpmon(["fwd", "rm", pid, "2", "1"]).status == 0, "ids it has are removed")
        #expect(try AnsweredLateTests.listed(instance.pid).isEmpty)
    }
}
