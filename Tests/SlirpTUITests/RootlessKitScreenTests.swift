@testable import SlirpCore
import Testing
@testable import SlirpTUI

/// The monitor names a RootlessKit's slirp4netns and says what RootlessKit runs and where its output goes.
@Suite struct RootlessKitScreenTests {
    @Test("a RootlessKit's slirp4netns row is named rootlesskit, not manual, and its details give rootlesskit's PID and port driver, Docker rootless with the dockerd PID, the state dir with its source, and where slirp4netns's output goes instead of a log error")
    func rootlessKitRowAndDetails() {
        let kit = RootlessKitParent(pid: 4242, uid: 1009, user: "alice", portDriver: "builtin", stateDir: "/tmp/rootlesskit123",
                                    stateDirSource: .childEnvironment, apiSocket: "/tmp/rootlesskit123/api.sock", apiSocketListening: true,
                                    child: .init(pid: 4250, command: ["dockerd"], kind: .docker, commandPID: 4277), dockerSocket: "/run/user/1009/docker.sock",
                                    log: "a pipe read by rootlesskit (pid 4242), which drops it: rootlesskit logs slirp4netns's output only with --debug",
                                    problems: [:])
        var snapshot = InstanceSnapshot(identity: ProcessIdentity(pid: 4260, startTicks: 5), uptimeSeconds: 60, residentBytes: 1 << 20, mtu: 1500,
                                        netnsPath: "/proc/4250/ns/net")
        snapshot.logError = "slirp4netns 4260 does not log to a file"
        snapshot.rootlessKit = kit
        let text = Fixtures.screenText([snapshot], size: Size(width: 160, height: 40))
        #expect(!text.contains("manual"), "\(text)")
        #expect(text.contains("rootlesskit  pid 4242, user alice, port driver builtin"), "\(text)")
        #expect(text.contains("Docker rootless (dockerd pid 4277, socket /run/user/1009/docker.sock)"), "\(text)")
        #expect(text.contains("/tmp/rootlesskit123 (from the child's ROOTLESSKIT_STATE_DIR)"), "\(text)")
        #expect(text.contains("no file: slirp4netns writes to a pipe read by rootlesskit (pid 4242)"), "\(text)")
        #expect(!text.contains("does not log to a file"), "\(text)")
    }
}
