import Foundation
@testable import SlirpCore
import SlirpTestSupport
import Testing
@testable import SlirpTUI

/// The details pane says what a client's address looks like inside the selected instance, from
/// the port handler really in use (`ClientSource`), in a real terminal on a real slirp4netns.
@Suite(.serialized)
struct ClientSourceMonitorTests {
    @Test("the monitor's details of a hand-started slirp4netns with --api-socket and --cidr=10.0.5.0/24 say clients keep their real address and a loopback client appears as 10.0.5.2, the gateway")
    func detailsSayClientsKeepTheirAddress() throws {
        try #require(TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")")
        let lab = try TestLab("tui-clsrc")
        let instance = try lab.start(SlirpLab.Spec(name: "c", cidr: "10.0.5.0/24"))
        let tmux = TmuxHarness(width: 220, height: 50)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: String(instance.pid))
        let shown = tmux.waitFor("clients appear as their real address (slirp4netns API forwards); a loopback client as 10.0.5.2, the gateway")
        #expect(shown.found, "no clients line:\n\(shown.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    /// A loaded monitor with `snapshots`, the first selected.
    static func state(_ snapshots: [InstanceSnapshot]) -> AppState {
        var state = AppState(readOnly: false, banner: "demo", delay: 1, useColor: true,
                             host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0", features: []))
        state.size = Size(width: 120, height: 40)
        _ = state.apply(.inventory(snapshots, error: nil, clock: "12:34:56"))
        return state
    }

    @Test("a Podman container whose ports rootlessport carries: the details say every client appears as the container's own address (10.0.7.100 with its cidr), in the warning colour, with the fix; one with ports but no handler found says unknown")
    func rootlessportDetails() {
        var snapshot = InstanceSnapshot(identity: ProcessIdentity(pid: 6100, startTicks: 7), cidr: "10.0.7.0/24", guest: "10.0.7.100", gateway: "10.0.7.2")
        snapshot.container = PodmanContainer(id: String(repeating: "e", count: 64), name: "web", image: "localhost/bb", state: "running", pid: 6090,
                                             podID: nil, podName: nil, isInfra: false,
                                             ports: [PodmanPort(hostIP: "", hostPort: 8080, containerPort: 80, range: 1, proto: "tcp")],
                                             createCommand: ["podman", "run", "--network", "slirp4netns:cidr=10.0.7.0/24", "-p", "8080:80", "localhost/bb"],
                                             networkMode: "slirp4netns", ownerUID: 1002, ownerName: "alice")
        snapshot.rootlessPorts = [RootlessPortProcess(pid: 6110, parentPID: 1, uid: 1002, isChild: false, netnsPaths: [], netNamespace: nil)]
        let lines = DetailsView.lines(Self.state([snapshot]), width: 120)
        let clients = lines.filter { $0.first?.text == "clients " }
        let first = clients.first.map { $0.map(\.text).joined() } ?? ""
        #expect(first.hasPrefix("clients appear as 10.0.7.100 (rootlessport, Podman's port_handler=rootlesskit)"), "\(lines.map { $0.map(\.text).joined() })")
        #expect(clients.first?.last?.role == .warning)

        snapshot.rootlessPorts = []
        let unknown = DetailsView.lines(Self.state([snapshot]), width: 200).map { $0.map(\.text).joined() }
        #expect(unknown.contains { $0.hasPrefix("clients appear as unknown (port handler unknown): its ports are carried by neither") }, "\(unknown)")
    }
}
