import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

@Suite("Discovery of real slirp4netns processes", .enabled(if: isRoot, "needs root for ip netns"))
struct DiscoveryTests {
    @Test("a slirp4netns started in a namespace is found with every option decoded")
    func findsInstanceWithDecodedOptions() throws {
        let lab = try TestLab("disc")
        let instance = try lab.start(.init(name: "a", cidr: "10.99.128.0/17", ipv6: true))
        let found = try #require(try ProcessScanner().scan().first { $0.pid == instance.pid })
        let config = found.configuration
        #expect(config.cidr == "10.99.128.0/17")
        #expect(config.enableIPv6)
        #expect(config.mtu == 65520)
        #expect(config.configure)
        #expect(config.disableHostLoopback)
        #expect(config.exitFD == 3 && config.readyFD == 4)
        #expect(config.apiSocket == instance.apiSocket)
        #expect(config.netnsType == .path)
        #expect(config.target == instance.netnsPath)
        #expect(config.effectiveTapName == "tap0")
        #expect(config.unrecognized.isEmpty)
        #expect(found.arguments == instance.arguments)
        #expect(found.uid == 0 && found.user == "root")
        #expect(!found.isZombie)
        #expect(found.parentPID == getpid())
        #expect(found.residentBytes > 0)
        #expect(found.uptimeSeconds >= 0 && found.uptimeSeconds < 120)
        #expect(found.stdoutTarget == instance.logPath + " (deleted)")
        #expect(found.containerID == nil, "an instance started by hand has no container ID")
        #expect(found.socketInodes?.isEmpty == false)
        #expect(found.problems.isEmpty)
    }

    @Test("with the host's listeners known, a scan reads the fds only up to the API socket's, and ownership is the same")
    func fdsAreReadUpToTheAPISocket() throws {
        let lab = try TestLab("fdup")
        let forwards = try (0..<3).map { _ in
            ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: try DemoFleet.freeTCPPort(), guestPort: Port(80)!)
        }
        let instance = try lab.start(.init(name: "f", forwards: forwards))
        let bare = try lab.start(.init(name: "n", apiSocket: false))
        let listeners = try #require(ListeningSockets.now())
        let all = try #require(try ProcessScanner().scan().first { $0.pid == instance.pid })
        let some = try #require(try ProcessScanner().scan(listeners: listeners).first { $0.pid == instance.pid })
        let path = try #require(instance.apiSocket)
        let api = Set(listeners.sockets(boundTo: path))
        #expect(api.count == 1)
        #expect(api.isSubset(of: some.socketInodes ?? []), "the API socket's listener is among those read")
        #expect((some.socketInodes?.count ?? 0) < (all.socketInodes?.count ?? 0), "the forwards' sockets, opened after it, are not read")
        #expect(some.stdoutTarget == all.stdoutTarget && some.stderrTarget == all.stderrTarget)
        #expect(SocketOwnership.check(path: path, process: some, listeners: listeners) == .held)
        #expect(SocketOwnership.check(path: path, process: all, listeners: listeners) == .held)
        // Without an API socket only fds 1 and 2 are read.
        let plain = try #require(try ProcessScanner().scan(listeners: listeners).first { $0.pid == bare.pid })
        #expect(plain.socketInodes == [], "no socket read: \(plain.socketInodes.map { "\($0)" } ?? "nil")")
        #expect(plain.stdoutTarget != nil)
    }

    @Test("a killed, unreaped slirp4netns is still listed, marked as a zombie")
    func zombieIsListed() throws {
        let lab = try TestLab("zomb")
        let instance = try lab.start(.init(name: "z"))
        lab.lab.signal(instance, SIGKILL) // our child: not reaped until the lab stops it
        let zombie = eventually { ProcessScanner().process(pid: instance.pid)?.isZombie == true }
        #expect(zombie)
        let found = try #require(try ProcessScanner().scan().first { $0.pid == instance.pid })
        #expect(found.isZombie)
        #expect(found.arguments.isEmpty)
        #expect(found.problems["arguments"] != nil)
        let inspected = Inventory(options: .init(purpose: .show)).inspect(found)
        #expect(inspected.forwardBlocker?.contains("defunct") == true)
        #expect(inspected.logError?.contains("defunct") == true)
    }

    @Test("an identity stops matching once the process is gone or the start time differs")
    func identityDetectsExitAndReuse() throws {
        let lab = try TestLab("ident")
        let instance = try lab.start(.init(name: "i", apiSocket: false))
        let found = try #require(ProcessScanner().process(pid: instance.pid))
        #expect(ProcessScanner().isAlive(found.identity))
        let reused = ProcessIdentity(pid: found.pid, startTicks: found.identity.startTicks + 1)
        #expect(!ProcessScanner().isAlive(reused), "same PID, other start time: a reused PID")
        lab.lab.stop(instance)
        #expect(!ProcessScanner().isAlive(found.identity))
        #expect(try ProcessScanner().scan().contains { $0.pid == instance.pid } == false)
    }

    @Test("the container ID is read from Podman-style socket and log names")
    func containerIDFromPodmanNames() throws {
        let id = String(repeating: "ab12", count: 16)
        let lab = try TestLab("cid")
        // Start slirp4netns by hand with a Podman-style API socket name.
        let instance = try lab.start(.init(name: "c", apiSocket: false).with(extra: ["--api-socket", "\(lab.lab.directory)/\(id).net"]))
        let found = try #require(ProcessScanner().process(pid: instance.pid))
        #expect(found.containerID == id)
        #expect(try TargetResolver.resolve(String(id.prefix(6)), among: [found]).pid == instance.pid)
        unlink("\(lab.lab.directory)/\(id).net")
    }
}

extension SlirpLab.Spec {
    func with(extra: [String]) -> SlirpLab.Spec {
        var copy = self
        copy.extraArguments += extra
        return copy
    }
}
