import SlirpCore
import Testing
@testable import SlirpTUI

/// Podman in the monitor: containers, pods, rootlesskit, failed starts, live-only forwards, the doctor.
@Suite struct PodmanScreenTests {
    static let sizes = ScreenSnapshotTests.sizes

    func name(_ base: String, _ size: Size) -> String { "\(base)-\(size.width)x\(size.height)" }

    @Test(arguments: sizes) func aContainersInstanceShowsItsPodmanFacts(size: Size) {
        let state = PodmanFixtures.state(size: size)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("podman-container", size))
        #expect(screen.text.contains("web1"))
        if size.height >= 24 {
            #expect(screen.text.contains("localhost/slirpmon-bb"))
            #expect(screen.text.contains("-p 127.0.0.1:18081:80/tcp"))
        }
    }

    @Test(arguments: sizes) func aPodShowsItsMembersAndItsFindings(size: Size) {
        var state = PodmanFixtures.state(size: size)
        state.press(.down)
        #expect(state.selected == PodmanFixtures.pod)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("podman-pod", size))
        #expect(screen.text.contains("pod:shop"))
        if size.height >= 24 {
            #expect(screen.text.contains("shop-web (running)"))
            #expect(screen.text.contains("FAILURE"))
            #expect(screen.cells.contains { $0.role == .error })
        }
    }

    @Test("a pod's live forward is made permanent by removing the pod and creating it again with its members, and a step cut short says where the whole is")
    func aPodsPersistStepsRecreateItsMembers() throws {
        var state = PodmanFixtures.state(size: Size(width: 100, height: 40))
        state.press(.down, .character("3"))
        try #require(state.selected == PodmanFixtures.pod)
        let live = HostForward(id: 1, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18095, guestAddr: "10.0.2.100", guestPort: 80)
        _ = state.apply(.forwards(PodmanFixtures.pod, [live], error: nil))
        let notes = state.forwardsNotes(width: 100)
        #expect(notes.contains("  podman pod rm -f shop"), "\(notes)")
        #expect(notes.contains { $0.contains("podman pod create -p 127.0.0.1:18095:80/tcp --name shop") }, "\(notes)")
        #expect(notes.joined(separator: " ").contains("they stop pod shop and create it again with its members shop-web, shop-db"), "\(notes)")
        // shop-db has exited: its step creates it and does not start it.
        #expect(notes.contains { $0.hasPrefix("  podman create --name shop-db ") }, "\(notes)")
        #expect(!notes.contains { $0.contains("podman rm -f") }, "an infra container cannot be removed alone: \(notes)")
        let narrow = state.forwardsNotes(width: 40)
        #expect(narrow.filter { $0.hasPrefix("  ") }.count == 7, "at most 8 lines, the last saying where the rest is: \(narrow)")
        #expect(narrow.joined(separator: " ").contains("`slirpmon show 5102` prints all 4 steps"), "\(narrow)")
    }

    @Test(arguments: sizes) func aRootlesskitInstanceNamesRootlessport(size: Size) {
        var state = PodmanFixtures.state(size: size)
        state.press(.down, .down)
        #expect(state.selected == PodmanFixtures.rootless)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("podman-rootlesskit", size))
        if size.width >= 80 {
            #expect(screen.text.contains("rootlessport"))
            #expect(screen.text.contains("alice"))
        }
        if size.height >= 40 {
            #expect(screen.text.contains("rootlessport-child pid 5210"))
            #expect(screen.text.contains("live forwards need the slirp4netns API socket"))
        }
    }

    @Test(arguments: sizes) func aFailedStartIsARowWithItsReason(size: Size) {
        var state = PodmanFixtures.state(size: size)
        state.press(.end)
        #expect(state.selected == PodmanFixtures.broken)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("podman-failed", size))
        #expect(screen.text.contains("broken"))
        #expect(screen.cells.contains { $0.role == .warning })
        if size.height >= 24 {
            #expect(screen.text.contains("FAILED STARTUP"))
            #expect(screen.text.contains("mtu=65530"))
            #expect(screen.text.contains("Press D"))
        }
    }

    @Test(arguments: sizes) func liveOnlyForwardsAreMarkedWithTheLineThatPersistsThem(size: Size) {
        var state = PodmanFixtures.state(size: size)
        let effects = state.press(.character("3"))
        #expect(effects == [.listForwards(EffectTarget(identity: PodmanFixtures.web, apiSocket: "/run/libpod/\(PodmanFixtures.webID).net"))])
        _ = state.apply(.forwards(PodmanFixtures.web, PodmanFixtures.webForwards, error: nil))
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("podman-forwards", size))
        if size.width >= 80 {
            #expect(screen.text.contains("not persisted"))
            #expect(screen.text.contains("-p configured"))
            #expect(screen.text.contains("podman run -p 127.0.0.1:18090:80/tcp"))
        }
    }

    @Test(arguments: sizes) func theDoctorsReportShowsEachStepAndTheVerdict(size: Size) {
        var state = PodmanFixtures.state(size: size)
        state.press(.end, .character("D"))
        let report = PodmanFixtures.doctorReport()
        for step in report.steps.prefix(2) { _ = state.apply(.doctorStep(containerID: PodmanFixtures.brokenID, step)) }
        #expect(state.doctor?.isRunning == true)
        _ = state.apply(.doctorFinished(containerID: PodmanFixtures.brokenID, report))
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("doctor-report", size))
        #expect(screen.text.contains("Doctor: broken"))
        if size.height >= 40 {
            #expect(screen.text.contains("FAIL  trial"))
            #expect(screen.text.contains("VERDICT: the trial step fails: mtu-too-large"))
            #expect(screen.text.contains("(3 lines of --help omitted)"))
        }
        // The end of the report is reachable at every size.
        state.press(.end)
        let bottom = render(state, size: size)
        #expect(bottom.text.contains("VERDICT") || bottom.text.contains("fix") || size.height < 12)
    }

    @Test func theDoctorWhileRunningSaysSo() {
        var state = PodmanFixtures.state(size: Size(width: 80, height: 24))
        state.press(.end, .character("D"))
        _ = state.apply(.doctorStep(containerID: PodmanFixtures.brokenID, PodmanFixtures.doctorReport().steps[0]))
        let screen = render(state, size: Size(width: 80, height: 24))
        assertSnapshot(screen, named: "doctor-running-80x24")
        #expect(screen.text.contains("(running...)"))
        #expect(screen.text.contains("PASS  binary"))
    }

    @Test(arguments: sizes) func podmanFailuresAreOneHeaderLine(size: Size) {
        let failures = ["podman as alice (uid 1000) failed: Error: database is locked", "podman as bob (uid 1001) timed out after 10 s"]
        let state = PodmanFixtures.state(size: size, podman: PodmanStatus(installed: true, failures: failures))
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("podman-failure-header", size))
        #expect(screen.text(row: 2).hasPrefix("Podman: podman as alice"))
        #expect(!screen.text.contains("bob") || size.width >= 120)
        #expect((0..<screen.width).contains { screen[$0, 2].role == .warning })
    }

    @Test func noPodmanLineWithoutPodman() {
        let state = PodmanFixtures.state(podman: PodmanStatus(installed: false, failures: ["ignored"]))
        let screen = render(state, size: Size(width: 80, height: 24))
        #expect(!screen.text.contains("Podman:"))
        #expect(screen.text(row: 2).contains("NAME"))
    }

    @Test func theHeaderCountsFailedContainers() {
        let state = PodmanFixtures.state()
        let counts = state.counts
        #expect(counts.running == 3)
        #expect(counts.failed == 1)
        #expect(render(state, size: Size(width: 80, height: 24)).text.contains("3 running, 1 failed"))
    }
}

extension PodmanScreenTests {
    @Test func nothingCrashesAtAnySmallSizeWithPodmanRowsTheFailureLineAndTheDoctor() {
        var state = PodmanFixtures.state(podman: PodmanStatus(installed: true, failures: ["podman failed"]))
        var wrong: [String] = []
        for keys in [[Key.character("1")], [.character("3")], [.end, .character("D")]] {
            state.press(.escape)
            for key in keys { state.press(key) }
            _ = state.apply(.forwards(PodmanFixtures.web, PodmanFixtures.webForwards, error: nil))
            _ = state.apply(.doctorFinished(containerID: PodmanFixtures.brokenID, PodmanFixtures.doctorReport()))
            for width in 0...45 {
                for height in 0...14 {
                    state.size = Size(width: width, height: height)
                    if let problem = screenProblem(render(state, size: state.size), width: width, height: height) { wrong.append("\(keys): \(problem)") }
                    _ = state.handle(.click(x: width / 2, y: height / 2))
                    _ = state.handle(.pageDown)
                }
            }
        }
        #expect(wrong.isEmpty, Comment(rawValue: wrong.prefix(5).joined(separator: "\n")))
    }
}
