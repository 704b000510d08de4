import SlirpCore
import Testing
@testable import SlirpTUI

/// Keys on Podman rows: containers without a slirp4netns are selectable; the doctor runs off the input thread.
@Suite struct PodmanKeyTests {
    @Test func detachedRowsAreSelectableAndSortLast() {
        var state = PodmanFixtures.state()
        #expect(state.visibleRows.last?.snapshot.identity == PodmanFixtures.broken)
        state.press(.down, .down, .down)
        #expect(state.selected == PodmanFixtures.broken)
        #expect(state.selectedRow?.snapshot.isDetached == true)
        // It survives a refresh like any row, and the filter finds it by name.
        _ = state.apply(.inventory([PodmanFixtures.webSnapshot(), InstanceSnapshot(PodmanFixtures.brokenContainer())],
                                   podman: PodmanStatus(installed: true), error: nil, clock: "x"))
        #expect(state.selected == PodmanFixtures.broken)
        state.press(.function(4))
        state.type("broken")
        #expect(state.visibleRows.map(\.snapshot.identity) == [PodmanFixtures.broken])
    }

    @Test func aDetachedRowAsksForNoLogAndNoForwards() {
        var state = PodmanFixtures.state()
        state.press(.end)
        #expect(state.press(.character("2")).isEmpty)
        #expect(state.press(.character("3")).isEmpty)
        #expect(state.press(.character("a")).isEmpty)
        #expect(state.status?.kind == .error)
        #expect(state.status?.text.contains("no slirp4netns is running") == true)
        #expect(state.press(.character("s")).isEmpty)
    }

    @Test func theDoctorKeyAsksTheRuntimeToRunItForTheSelectedContainer() {
        var state = PodmanFixtures.state()
        state.press(.end)
        let reaction = state.handle(.character("D"))
        let expected = ContainerNetworkOptions(id: PodmanFixtures.brokenID, name: "broken", networkMode: "slirp4netns",
                                               options: ["port_handler=slirp4netns", "mtu=65530"], portMappings: 1, state: "created",
                                               ports: [PodmanPort(hostIP: "127.0.0.1", hostPort: 18099, containerPort: 80, range: 1, proto: "tcp")])
        #expect(reaction == Reaction([.runDoctor(expected)]))
        #expect(!reaction.sendsChange)
        #expect(state.mode == .doctor(top: 0))
        #expect(state.doctor?.isRunning == true)
        // Pressing it again while it runs re-opens the report, it does not start a second trial.
        state.press(.escape)
        #expect(state.mode == .normal)
        #expect(state.handle(.character("D")) == .none)
        #expect(state.mode == .doctor(top: 0))
        // The answer closes the run and says the verdict in the status line.
        _ = state.apply(.doctorFinished(containerID: PodmanFixtures.brokenID, PodmanFixtures.doctorReport()))
        #expect(state.doctor?.isRunning == false)
        #expect(state.status?.text.contains("mtu-too-large") == true)
        // Scrolling stays within the report; Esc closes it.
        state.press(.pageDown, .down, .up, .home)
        #expect(state.mode == .doctor(top: 0))
        state.press(.escape)
        #expect(state.mode == .normal)
        // Once finished, D runs it again.
        #expect(state.handle(.function(9)).effects.count == 1)
    }

    @Test func theDoctorStaysInReadOnlyAndF9SavesTheLogInTheLogPane() {
        var state = PodmanFixtures.state(readOnly: true)
        state.press(.end)
        #expect(state.handle(.character("D")).effects.count == 1)
        #expect(KeyBindings.bar(readOnly: true, pane: .details).contains { $0 == (9, "Doctor") })
        #expect(KeyBindings.bar(readOnly: false, pane: .log).contains { $0 == (9, "Save") })
        #expect(KeyBindings.action(for: .function(9), readOnly: false, pane: .log) == .saveLog)
        #expect(KeyBindings.action(for: .function(9), readOnly: false, pane: .forwards) == .doctor)
        #expect(KeyBindings.action(for: .character("D"), readOnly: false, pane: .log) == .doctor)
    }

    @Test func theDoctorNeedsAContainer() {
        var state = Fixtures.state()
        #expect(state.handle(.character("D")) == .none)
        #expect(state.status?.kind == .error)
        #expect(state.mode == .normal)
    }

    @Test func aRunningContainerCanBeExaminedToo() {
        var state = PodmanFixtures.state()
        let reaction = state.handle(.character("D"))
        guard case .runDoctor(let request)? = reaction.effects.first else {
            Issue.record("no doctor effect: \(reaction)")
            return
        }
        #expect(request.name == "web1")
        #expect(request.options == ["port_handler=slirp4netns", "enable_ipv6=true"])
    }

    @Test func aResultForAnotherContainerIsIgnored() {
        var state = PodmanFixtures.state()
        state.press(.end, .character("D"))
        _ = state.apply(.doctorFinished(containerID: PodmanFixtures.webID, PodmanFixtures.doctorReport()))
        #expect(state.doctor?.isRunning == true)
    }

    @Test func theUserColumnShowsWhenSeveralUsersRunInstances() {
        #expect(PodmanFixtures.state().showsUserColumn)
        #expect(!Fixtures.state().showsUserColumn)
        let screen = render(PodmanFixtures.state(size: Size(width: 120, height: 40)), size: Size(width: 120, height: 40))
        #expect(screen.text.contains("USER"))
    }

    @Test func persistLineQuotesWordsThatNeedIt() {
        var s = PodmanFixtures.webSnapshot()
        s.container?.createCommand = ["podman", "run", "--name", "it's", "img", "sh", "-c", "echo hi"]
        let plan = s.persistPlan(for: PodmanFixtures.webForwards)
        // Created by a foreground `podman run` (no -d): its step runs it detached.
        #expect(plan?.steps == ["podman rm -f web1", "podman run -p 127.0.0.1:18090:80/tcp -d --name 'it'\\''s' img sh -c 'echo hi'"])
        #expect(s.unpersisted(PodmanFixtures.webForwards).map(\.id) == [2])
    }
}

extension PodmanKeyTests {
    @Test func anotherUsersContainerIsExaminedAsTheMonitorsUserAndTheReportSaysSo() {
        var state = PodmanFixtures.state()
        state.press(.down, .down)
        #expect(state.selectedRow?.snapshot.name == "api")
        #expect(state.handle(.character("D")).effects.count == 1)
        #expect(state.doctor?.note?.contains("belongs to alice") == true)
        #expect(state.doctor?.note?.contains("slirpmon doctor api as root examines it as alice") == true)
        let screen = render(state, size: Size(width: 120, height: 40))
        #expect(screen.text.contains("belongs to alice"))
    }
}
