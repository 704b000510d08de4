import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
@testable import SlirpTUI
import Testing

/// The monitor's add form on a stopped slirp4netns: the request is sent but not answered, the
/// monitor says so (not "failed"), lists the forwards again at its normal cadence and, once the
/// instance answers, says what became of the request. A range that conflicts with a forward the
/// instance has is refused whole, nothing sent.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct AnsweredLateMonitorTests {
    @Test("a forward added in the monitor to a stopped slirp4netns shows 'sent, no answer', and 'was added' with its id once the instance is continued")
    func monitorFollowsAnUnansweredAdd() throws {
        let lab = try makeLab("mlate")
        defer { lab.tearDown(); try? FileManager.default.removeItem(atPath: lab.directory) }
        let instance = try lab.start(SlirpLab.Spec(name: "late", cidr: "10.77.61.0/24"))
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "mlate-\(instance.pid)")
        _ = server
        let tmux = TmuxHarness(width: 200, height: 45)
        defer { tmux.tearDown() }
        try tmux.startMonitor("-d 0.5")
        #expect(tmux.waitFor("F10Quit").found)
        let port = try DemoFleet.freeTCPPort()
        #expect(tmux.openAddForm(pid: instance.pid))
        tmux.type(String(port.value))
        tmux.send("Tab")
        tmux.type("80")
        // Stopped right after a listing answered: the next one is due 5 s later, so the add is the
        // request in slirp4netns's socket (it holds one connection while stopped).
        let logged = apiRequests(pid: instance.pid).count
        #expect(eventually(8) { apiRequests(pid: instance.pid).count > logged }, "the forwards pane lists every 5 s")
        #expect(kill(instance.pid, SIGSTOP) == 0)
        var stopped = true
        defer { if stopped { kill(instance.pid, SIGCONT) } }
        tmux.send("Enter")
        let sent = tmux.waitFor("sent, no answer: it may still be added", timeout: 10)
        #expect(sent.found, "the monitor tells an unanswered request from a failure:\n\(sent.screen)")
        #expect(!sent.screen.contains("add failed"), "\(sent.screen)")
        #expect(sent.screen.contains("listed again every 5 s until pid \(instance.pid) answers"), "\(sent.screen)")

        #expect(kill(instance.pid, SIGCONT) == 0)
        stopped = false
        let answered = tmux.waitFor("pid \(instance.pid) answers again: tcp 127.0.0.1:\(port) -> :80, sent without an answer, was added: id 1", timeout: 15)
        #expect(answered.found, "once it answers, the monitor says the request was carried out:\n\(answered.screen)")
        #expect(answered.screen.contains("127.0.0.1:\(port)"), "the forward is listed: \(answered.screen)")
        #expect(tcpRoundTrip(port: Int(port.value))?.trimmingCharacters(in: .newlines) == "mlate-\(instance.pid)")

        // A range that takes the port of forward 1 again: refused whole, nothing sent.
        let adds = apiRequests(pid: instance.pid).filter { $0.contains("add_hostfwd") }.count
        tmux.send("a")
        #expect(tmux.waitFor("Add forward to pid \(instance.pid)").found)
        tmux.type("\(port.value - 1)-\(port.value)")
        tmux.send("Tab")
        tmux.type("80-81")
        tmux.send("Enter")
        let refused = tmux.waitFor("nothing sent: tcp 127.0.0.1:\(port) -> :81 takes tcp port \(port), held by forward 1", timeout: 10)
        #expect(refused.found, "a range conflicting with a forward is refused whole:\n\(refused.screen)")
        usleep(500_000)
        #expect(apiRequests(pid: instance.pid).filter { $0.contains("add_hostfwd") }.count == adds, "no add_hostfwd was sent")
        #expect(tcpRoundTrip(port: Int(port.value - 1), timeout: 1) == nil)
    }

    @Test("a removal sent without an answer is listed again at the forwards cadence, on any pane, and the answer says it was carried out")
    func unansweredRemovalIsFollowedUntilTheInstanceAnswers() throws {
        var state = Fixtures.state()
        let target = EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock")
        let forward = HostForward(id: 3, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18080, guestAddr: "10.0.2.100", guestPort: 80)
        state.pane = .log
        state.now = 100
        _ = state.apply(.removed(target, forward, error: "slirp4netns did not answer within 2 s", unanswered: true))
        #expect(state.status?.text.hasPrefix("removing forward 3: sent, no answer: it may still be removed") == true, "\(state.status?.text ?? "")")
        func lists() -> Bool { state.reconcile().effects.contains(.listForwards(target)) }
        #expect(lists(), "listed again at once, though the forwards pane is not shown")
        _ = state.apply(.forwards(Fixtures.web, nil, error: "slirp4netns did not answer within 2 s"))
        state.now = 102
        #expect(!lists(), "not again before the cadence (no hammering)")
        state.now = 105.5
        #expect(lists(), "again after \(AppState.forwardsInterval) s")
        _ = state.apply(.forwards(Fixtures.web, [], error: nil))
        #expect(state.status?.text == "pid 4242 answers again: forward 3, whose removal was sent without an answer, is gone: it was removed")
        state.now = 120
        #expect(!lists(), "once answered, nothing more is asked off the forwards pane")
    }

    @Test("an unanswered add or removal reads as `slirpmon fwd add|rm` says it, in the status line and the forwards pane alike: 'adding ...: sent, no answer: it may still be added'")
    func unansweredRequestsReadTheSameEverywhere() throws {
        var state = Fixtures.state(size: Size(width: 200, height: 40))
        let target = EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock")
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        _ = state.press(.character("3"))
        let request = ForwardRequest(proto: .tcp, hostAddr: try #require(IPv4Address("127.0.0.1")), hostPort: try #require(Port(18081)), guestPort: try #require(Port(81)))
        let answerless = "slirp4netns did not answer within 2 s"
        _ = state.apply(.added(target, [], failure: nil, unanswered: SentNoAnswer(request: request, explanation: answerless)))
        let adding = "adding tcp 127.0.0.1:18081 -> :81: sent, no answer: it may still be added; listed again every 5 s until pid 4242 answers"
        #expect(ForwardSession.sentNoAnswer(adding: true, request.summary) == "adding tcp 127.0.0.1:18081 -> :81: sent, no answer: it may still be added")
        #expect(state.status?.text == adding + ". " + answerless, "\(state.status?.text ?? "")")
        // The rows above the status line (which says it too).
        func pane() -> String {
            let screen = render(state, size: state.size)
            return (0..<state.size.height - 2).map { screen.text(row: $0) }.joined(separator: "\n")
        }
        #expect(pane().contains(adding), "\(pane())")

        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        _ = state.apply(.removed(target, Fixtures.webForwards[0], error: answerless, unanswered: true))
        let removing = "removing forward 1: sent, no answer: it may still be removed; listed again every 5 s until pid 4242 answers"
        #expect(state.status?.text == removing + ". " + answerless, "\(state.status?.text ?? "")")
        #expect(pane().contains(removing), "\(pane())")
    }
}
