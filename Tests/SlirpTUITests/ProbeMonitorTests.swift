import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `p` in the forwards pane, in the real binary in tmux, against a real slirp4netns: the selected
/// forward's verdict with the time it took, and the verdict changing when the listener goes.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct ProbeMonitorTests {
    @Test func pressingPOnAForwardShowsItsVerdictAndTimeThenNothingListensOnceTheListenerStops() throws {
        let lab = try TestLab("tui-probe")
        defer { withExtendedLifetime(lab) {} }
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "p", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)]))
        var server: NamespaceServer? = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "pong")

        let tmux = TmuxHarness(width: 120, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: lab.tag)
        tmux.showOnly(pid: instance.pid)
        let works = probeFirst(tmux, row: "127.0.0.1:\(port.value)", verdict: "WORKS: a connection to 127.0.0.1:\(port.value) reached pid \(server?.pid ?? 0) (socat")
        #expect(works.screen.contains("probe took "), "the time is not shown:\n\(works.screen)")
        #expect(works.screen.contains("probe tcp 127.0.0.1:\(port.value) -> 10.0.2.100:80: works ("), "the status line:\n\(works.screen)")

        server = nil
        tmux.send("p")
        let stopped = tmux.waitFor("NOTHING_LISTENS")
        #expect(stopped.found, "the verdict does not follow the listener:\n\(stopped.screen)")
        _ = server
    }
}

/// `p` on a rootless container whose ports rootlessport carries (Podman's default handler): the
/// forwards pane lists its -p ports (no API socket lists them) and probes the selected one.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun && PodmanFixture.available,
                             "\(TmuxHarness.unavailableReason ?? "podman or /bin/busybox missing (bash assets/setup.sh)")"))
struct RootlessportProbeMonitorTests {
    @Test func aRootlessportContainersConfiguredPortIsListedInTheForwardsPaneAndPProbesIt() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("tui-probe-r")
        let port = Int(try DemoFleet.freeTCPPort().value)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns", "-p", "127.0.0.1:\(port):80",
                                        PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"], user: user, timeout: 120)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(eventually(30) { PodmanFixture.httpGet(port: port) != nil })

        let tmux = TmuxHarness(width: 140, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: name)
        #expect(tmux.waitFor(name, timeout: 30).found)
        let works = probeFirst(tmux, row: "tcp 127.0.0.1:\(port) -> :80", verdict: "WORKS: a connection to 127.0.0.1:\(port) reached pid")
        #expect(works.screen.contains("carried by rootlessport"), "\(works.screen)")
    }
}

/// Opens the forwards pane, waits for the forward `row`, presses `p` on the first forward and
/// waits for `verdict`: the screen then (each wait's failure recorded with its screen).
func probeFirst(_ tmux: TmuxHarness, row: String, verdict: String, sourceLocation: SourceLocation = #_sourceLocation) -> (found: Bool, screen: String) {
    tmux.send("3")
    let listed = tmux.waitFor(row)
    #expect(listed.found, "the forward is not listed:\n\(listed.screen)", sourceLocation: sourceLocation)
    tmux.send("p")
    let shown = tmux.waitFor(verdict)
    #expect(shown.found, "no verdict for the selected forward:\n\(shown.screen)", sourceLocation: sourceLocation)
    return shown
}
