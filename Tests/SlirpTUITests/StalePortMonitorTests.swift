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
        // The header names a stale holder (the first, by port: another may be first on a shared host).
        let header = tmux.waitFor("Stale port: tcp 127.0.0.1:")
        #expect(header.found, "\(header.screen)")
        // The container's slirp4netns row (kept by the same conmon, shown by its short ID: the
        // container is gone) carries the rootlessport's finding, with the command that frees the port.
        tmux.filter(Format.shortID(stale.id))
        let finding = tmux.waitFor("ports: stale port holder: tcp 127.0.0.1:\(stale.port) is held by rootlessport pid \(stale.holderPID)")
        #expect(finding.found, "\(finding.screen)")
        // The command checks the holder's start time before it kills (a PID is reused).
        #expect(tmux.waitFor("/proc/\(stale.holderPID)/stat | cut -d' ' -f20)\" = ").found, "\(tmux.capture())")
        #expect(tmux.waitFor("&& kill \(stale.holderPID)` frees the port").found, "\(tmux.capture())")
        // Once stopped, it is no longer shown.
        kill(stale.holderPID, SIGTERM)
        let gone = tmux.waitUntil { !$0.contains("127.0.0.1:\(stale.port) is held by rootlessport") }
        #expect(gone.found, "still shown after the holder exited:\n\(gone.screen)")
        tmux.send("q")
    }
}
