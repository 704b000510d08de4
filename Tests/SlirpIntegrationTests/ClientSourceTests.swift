import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// What a client's address looks like inside the namespace, measured through each real port
/// handler (a listener there answers with the peer it sees; clients on the host's loopback, on
/// the host's own address, and on another machine behind a veth pair), and what `show` says about
/// it: the same address, derived from the handler really in use.
@Suite("Client source address through each port handler", .serialized, .enabled(if: isRoot, "needs root (namespaces, veth, test users)"))
struct ClientSourceTests {
    /// The peers seen from the three clients: loopback, the host's own address, a remote machine.
    struct Seen: Equatable, CustomStringConvertible {
        var loopback: String?
        var host: String?
        var remote: String?
        var description: String { "loopback \(loopback ?? "nil"), host \(host ?? "nil"), remote \(remote ?? "nil")" }
    }

    static func measure(port: Int, remote: RemoteClient) throws -> Seen {
        let hostAddress = try #require(hostNonLoopbackIPv4(), "the host has no non-loopback IPv4 address")
        // The first connection may come while the forward is being set up.
        _ = eventually(10) { PeerRecorder.seen(host: "127.0.0.1", port: port) != nil }
        return Seen(loopback: PeerRecorder.seen(host: "127.0.0.1", port: port), host: PeerRecorder.seen(host: hostAddress, port: port),
                    remote: remote.seen(port: port))
    }

    static func clientSource(_ target: String) throws -> [String: Any] {
        let out = slirpmon(["show", target, "--json"])
        try #require(out.status == 0, "slirpmon show \(target) --json: \(out.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        return try #require(object["client_source"] as? [String: Any], "no client_source in show --json: \(out.stdout.prefix(400))")
    }

    static func showText(_ target: String) -> String {
        slirpmon(["show", target]).stdout
    }

    @Test("a hand-started slirp4netns's API forwards keep the real source: the listener sees the remote machine's and the host's own address, and 10.0.5.2 (its cidr's gateway) for a loopback client, with or without --disable-host-loopback; show says exactly that, and `none` for an instance without --api-socket")
    func slirpForwardsKeepTheSource() throws {
        let lab = try TestLab("clsrc")
        let remote = try RemoteClient()
        let hostAddress = try #require(hostNonLoopbackIPv4())
        for disable in [true, false] {
            let port = Int(try DemoFleet.freeTCPPort().value)
            var spec = SlirpLab.Spec(name: "s\(disable ? 1 : 0)", cidr: "10.0.5.0/24",
                                     forwards: [ForwardRequest(proto: .tcp, hostPort: try #require(Port(port)), guestPort: try #require(Port(8080)))])
            spec.disableHostLoopback = disable
            spec.server = SlirpLab.Server(command: PeerRecorder.command(), ports: [8080])
            let instance = try lab.start(spec)
            let seen = try Self.measure(port: port, remote: remote)
            #expect(seen == Seen(loopback: "10.0.5.2", host: hostAddress, remote: remote.clientAddress),
                    "--disable-host-loopback \(disable): \(seen)")

            let source = try Self.clientSource(String(instance.pid))
            #expect(source["handler"] as? String == "slirp4netns")
            #expect(source["source_kept"] as? Bool == true)
            #expect(source["appears_as"] is NSNull)
            #expect(source["loopback_appears_as"] as? String == seen.loopback, "show names the address the listener saw: \(source)")
            let line = "clients appear as their real address (slirp4netns API forwards); a loopback client as 10.0.5.2, the gateway: an allow-list by source address works, but all host-local clients share 10.0.5.2"
            #expect(source["line"] as? String == line)
            #expect(Self.showText(String(instance.pid)).split(separator: "\n").contains { $0 == line })
        }
        var bare = SlirpLab.Spec(name: "n", apiSocket: false)
        bare.server = nil
        let none = try lab.start(bare)
        let source = try Self.clientSource(String(none.pid))
        #expect(source["handler"] as? String == "none")
        #expect(source["line"] as? String == "clients: none (no forwarded ports: slirp4netns was started without --api-socket, the only way it forwards one)")
    }

    @Test("rootless Podman: with the default port handler (rootlessport) every client, loopback, host or remote, appears as the container's own address (10.0.7.100 with cidr=10.0.7.0/24), and show says `clients appear as 10.0.7.100 (rootlessport ...)`; with port_handler=slirp4netns the real source, 10.0.2.2 for loopback",
          arguments: ["rootlesskit", "slirp4netns"])
    func rootlessPodmanHandlers(handler: String) throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let remote = try RemoteClient()
        let hostAddress = try #require(hostNonLoopbackIPv4())
        let name = PodmanFixture.name("clsrc")
        let port = Int(try DemoFleet.freeTCPPort().value)
        // rootlessport: a cidr of its own, so the address shown cannot be a default.
        let options = handler == "slirp4netns" ? "slirp4netns:port_handler=slirp4netns" : "slirp4netns:cidr=10.0.7.0/24"
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", options, "-p", "\(port):8080", PodmanFixture.image, "sleep", "600"], user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try #require(run.status == 0, "\(run.stderr)")
        let inspected = PodmanFixture.podman(["inspect", "-f", "{{.State.Pid}}", name], user: user).stdout
        let containerPID = try #require(Int32(inspected.trimmingCharacters(in: .whitespacesAndNewlines)), "container pid: \(inspected)")
        let recorder = try PeerRecorder.start(inNetworkOf: containerPID)
        defer { PeerRecorder.stop(recorder) }

        let seen = try Self.measure(port: port, remote: remote)
        let source = try Self.clientSource(name)
        if handler == "rootlesskit" {
            #expect(seen == Seen(loopback: "10.0.7.100", host: "10.0.7.100", remote: "10.0.7.100"), "\(seen)")
            #expect(source["handler"] as? String == "rootlessport")
            #expect(source["source_kept"] as? Bool == false)
            #expect(source["appears_as"] as? String == seen.remote, "show names the address the listener saw: \(source)")
            let line = try #require(source["line"] as? String)
            #expect(line.hasPrefix("clients appear as 10.0.7.100 (rootlessport, Podman's port_handler=rootlesskit): "), "\(line)")
            #expect(line.contains("(Podman #5138, #10884); real source: --network slirp4netns:port_handler=slirp4netns (slower"), "\(line)")
            #expect(Self.showText(name).split(separator: "\n").contains { $0 == line })
        } else {
            #expect(seen == Seen(loopback: "10.0.2.2", host: hostAddress, remote: remote.clientAddress), "\(seen)")
            #expect(source["handler"] as? String == "slirp4netns")
            #expect(source["source_kept"] as? Bool == true)
            #expect(source["loopback_appears_as"] as? String == seen.loopback, "\(source)")
            #expect((source["line"] as? String)?.hasPrefix("clients appear as their real address (slirp4netns port handler); a loopback client as 10.0.2.2, the gateway") == true, "\(source)")
        }
    }

    @Test("a container given port_handler=slirp4netns by the user's containers.conf (network_cmd_options), not by its own --network options, is said to keep the real source (10.0.2.2 for loopback), as measured: the handler comes from slirp4netns's --api-socket, never from Podman's default")
    func handlerFromContainersConf() throws {
        let user = try PodmanFixture.prepareRootlessUser("slirpmon-cs", subordinateStart: 890000,
                                                         engine: [#"network_cmd_options = ["port_handler=slirp4netns"]"#])
        let remote = try RemoteClient()
        let name = PodmanFixture.name("clconf")
        let port = Int(try DemoFleet.freeTCPPort().value)
        // As the user runs it: its own containers.conf (the fixture's CONTAINERS_CONF, set for root, would replace it).
        func podman(_ args: [String]) -> Executables.Output {
            sh("runuser", ["-u", user.name, "--", "env", "-u", "CONTAINERS_CONF", "HOME=/home/\(user.name)", "XDG_RUNTIME_DIR=/run/user/\(user.uid)",
                           "PATH=/usr/bin:/bin:/usr/sbin:/sbin", "podman"] + args, timeout: 60)
        }
        let run = podman(["run", "-d", "--name", name, "--network", "slirp4netns", "-p", "\(port):8080", PodmanFixture.image, "sleep", "600"])
        defer { podman(["rm", "-f", "-t", "0", name]) }
        try #require(run.status == 0, "\(run.stderr)")
        let inspected = podman(["inspect", "-f", "{{.State.Pid}}", name]).stdout
        let containerPID = try #require(Int32(inspected.trimmingCharacters(in: .whitespacesAndNewlines)), "container pid: \(inspected)")
        let recorder = try PeerRecorder.start(inNetworkOf: containerPID)
        defer { PeerRecorder.stop(recorder) }

        let seen = try Self.measure(port: port, remote: remote)
        #expect(seen.loopback == "10.0.2.2" && seen.remote == remote.clientAddress, "\(seen)")
        let source = try Self.clientSource(name)
        #expect(source["handler"] as? String == "slirp4netns", "\(source)")
        #expect(source["loopback_appears_as"] as? String == seen.loopback)
        #expect(source["evidence"] as? String == "slirp4netns runs with --api-socket: Podman passes it only for port_handler=slirp4netns with ports")
    }

    @Test("a rootless user's container on a Podman network (rootless-netns, rootlessport): every client appears as the container's own address on the network, and show names that address for it")
    func rootlessNetworkContainer() throws {
        // A user of its own: every container of a user on Podman networks shares one namespace.
        let user = try PodmanFixture.prepareRootlessUser("slirpmon-csn", subordinateStart: 960000)
        let remote = try RemoteClient()
        let network = PodmanFixture.name("clnet"), name = PodmanFixture.name("clnw")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let created = PodmanFixture.podman(["network", "create", network], user: user)
        defer { PodmanFixture.podman(["network", "rm", "-f", network], user: user) }
        try #require(created.status == 0, "\(created.stderr)")
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", network, "-p", "\(port):8080", PodmanFixture.image, "sleep", "600"], user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try #require(run.status == 0, "\(run.stderr)")
        let address = PodmanFixture.podman(["inspect", name, "--format", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}"], user: user)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let inspected = PodmanFixture.podman(["inspect", "-f", "{{.State.Pid}}", name], user: user).stdout
        let containerPID = try #require(Int32(inspected.trimmingCharacters(in: .whitespacesAndNewlines)), "container pid: \(inspected)")
        let recorder = try PeerRecorder.start(inNetworkOf: containerPID)
        defer { PeerRecorder.stop(recorder) }

        let seen = try Self.measure(port: port, remote: remote)
        #expect(!address.isEmpty && seen == Seen(loopback: address, host: address, remote: address), "\(name) at \(address): \(seen)")
        let source = try Self.clientSource(name)
        #expect(source["handler"] as? String == "rootlessport")
        #expect(source["source_kept"] as? Bool == false)
        #expect((source["line"] as? String)?.hasPrefix("clients appear as each container's own address on its network (\(name) \(address)) (rootlessport, ") == true, "\(source)")
    }

    /// The user this suite runs rootlesskit as: not `RootlessKitFixture.userName`, whose suites count its processes.
    static let rootlessKitUser = "slirpmon-rks"

    @Test("RootlessKit: the builtin port driver makes every client 127.0.0.1 inside (its child dials the port's child IP, 127.0.0.1 when none was given), the slirp4netns port driver keeps the real source (10.0.2.2 for loopback); show says which from --port-driver",
          arguments: [RootlessKitFixture.PortDriver.builtin, .slirp4netns])
    func rootlessKitDrivers(driver: RootlessKitFixture.PortDriver) throws {
        let remote = try RemoteClient()
        let hostAddress = try #require(hostNonLoopbackIPv4())
        let kit = try RootlessKitFixture(portDriver: driver, command: PeerRecorder.command(), userName: Self.rootlessKitUser)
        defer {
            let left = kit.stop()
            #expect(left.isEmpty, "left behind: \(left)")
        }
        let port = Int(try DemoFleet.freeTCPPort().value)
        let added = sh("/usr/sbin/runuser", ["-u", Self.rootlessKitUser, "--", "rootlessctl", "--socket", kit.stateDir + "/api.sock",
                                            "add-ports", "0.0.0.0:\(port):8080/tcp"])
        try #require(added.status == 0, "rootlessctl add-ports: \(added.combined)")

        let seen = try Self.measure(port: port, remote: remote)
        let source = try Self.clientSource(String(kit.slirpPID))
        switch driver {
        case .builtin:
            #expect(seen == Seen(loopback: "127.0.0.1", host: "127.0.0.1", remote: "127.0.0.1"), "\(seen)")
            #expect(source["handler"] as? String == "rootlesskit-builtin")
            #expect(source["appears_as"] as? String == seen.remote, "\(source)")
            #expect((source["line"] as? String)?.hasPrefix("clients appear as 127.0.0.1 (RootlessKit builtin port driver): ") == true, "\(source)")
        case .slirp4netns:
            #expect(seen == Seen(loopback: "10.0.2.2", host: hostAddress, remote: remote.clientAddress), "\(seen)")
            #expect(source["handler"] as? String == "rootlesskit-slirp4netns")
            #expect(source["loopback_appears_as"] as? String == seen.loopback, "\(source)")
            #expect((source["line"] as? String)?.hasPrefix("clients appear as their real address (RootlessKit slirp4netns port driver)") == true, "\(source)")
        }
        #expect(source["evidence"] as? String == "rootlesskit pid \(kit.pid) runs with --port-driver=\(driver.rawValue)")
    }

    @Test("Docker rootless: behind the builtin port driver a container published with -p P:8080 sees every client, loopback, host or remote, as docker-proxy's address on its bridge (172.17.0.1); behind the slirp4netns port driver the real source (the gateway 10.0.2.2 for loopback); show says so for the instance",
          arguments: ["builtin", "slirp4netns"])
    func clientsThroughDockerRootless(driver: String) throws {
        let fixture = try DockerRootlessFixture(portDriver: driver)
        defer {
            let left = (try? fixture.stop()) ?? ["the daemon did not stop"]
            #expect(left.isEmpty, "left behind: \(left)")
        }
        let remote = try RemoteClient()
        let hostAddress = try #require(hostNonLoopbackIPv4())
        _ = try fixture.start()
        let port = Int(try DemoFleet.freeTCPPort().value)
        let name = "smt-dkclsrc-\(getpid())"
        try fixture.run(name: name, publish: ["\(port):8080"], command: ["sleep", "600"])
        let inspected = fixture.dockerCLI(["inspect", "-f", "{{.State.Pid}}", name]).stdout
        let containerPID = try #require(Int32(inspected.trimmingCharacters(in: .whitespacesAndNewlines)), "container pid: \(inspected)")
        let recorder = try PeerRecorder.start(inNetworkOf: containerPID)
        defer { PeerRecorder.stop(recorder) }

        let seen = try Self.measure(port: port, remote: remote)
        print("Docker rootless, \(driver) port driver: \(seen)")
        let kit = try #require(fixture.rootlessKitPID)
        let slirp = try #require(try RootlessKitFixture.children(of: kit).first { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" })
        let source = try Self.clientSource(String(slirp))
        let line = try #require(source["line"] as? String)
        if driver == "builtin" {
            #expect(seen == Seen(loopback: "172.17.0.1", host: "172.17.0.1", remote: "172.17.0.1"), "\(seen)")
            #expect(source["handler"] as? String == "rootlesskit-builtin")
            #expect(line.contains("Docker's containers see docker-proxy's address on their bridge (172.17.0.1 on the default bridge)"), "\(line)")
            #expect(line.hasSuffix("real source: --port-driver=slirp4netns (Docker rootless: DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=slirp4netns) (slower: slirp4netns carries every byte; IPv4 host addresses only)"), "\(line)")
        } else {
            #expect(seen == Seen(loopback: "10.0.2.2", host: hostAddress, remote: remote.clientAddress), "\(seen)")
            #expect(source["handler"] as? String == "rootlesskit-slirp4netns")
        }
    }
}
