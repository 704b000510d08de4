import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The monitor shows a port holder left by a removed container as soon as it is there, with the PID to stop.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun && PodmanFixture.available,
                             "\(TmuxHarness.unavailableReason ?? "podman or /bin/busybox missing (bash assets/setup.sh)")"))
struct StalePortMonitorTests {
    @Test func aRootlessportLeftHoldingARemovedContainersPortIsShownInTheHeaderWithTheCommandThatFreesIt() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let stale = try StalePortFixture.make("tui-stale", user: user)
        defer { stale.tearDown() }
        let tmux = TmuxHarness(width: 250, height: 40)
        defer { tmux.tearDown() }
        let conf = ProcessInfo.processInfo.environment["CONTAINERS_CONF"] ?? "\(PodmanFixture.directory)/containers.conf"
        try tmux.startMonitor(environment: ["CONTAINERS_CONF": conf])
        let header = tmux.waitFor("Stale port: tcp 127.0.0.1:\(stale.port) held by rootlessport pid \(stale.holderPID) of container \(stale.name)")
        #expect(header.found, "\(header.screen)")
        #expect(tmux.waitFor("(gone): kill \(stale.holderPID)").found, "\(tmux.capture())")
        // Once stopped, it is no longer shown.
        kill(stale.holderPID, SIGTERM)
        let gone = tmux.waitUntil { !$0.contains("127.0.0.1:\(stale.port) held by rootlessport") }
        #expect(gone.found, "still shown after the holder exited:\n\(gone.screen)")
        tmux.send("q")
    }
}
