import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// `slirpmon fwd probe`, end to end against real slirp4netns, real listeners in the namespace and
/// on the host: each verdict an operator meets, with the time the probe took.
@Suite("fwd probe, for real", .serialized)
struct ForwardProbeTests {
    static let loopback = IPv4Address(127, 0, 0, 1)

    /// The one report `fwd probe TARGET FORWARD --json` prints, and its exit status.
    func probe(_ target: String, _ forward: String) throws -> (status: Int32, report: [String: Any]) {
        let out = slirpmon(["fwd", "probe", target, forward, "--json"])
        let array = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]
        let report = try #require(array?.first, "no report: \(out.stdout) \(out.stderr)")
        return (out.status, report)
    }

    /// A program this test runs on the host (socat), stopped when the value goes.
    final class HostProgram {
        let pid: pid_t
        init(_ args: [String], port: Int, udp: Bool = false) throws {
            guard let socat = Executables.find("socat") else { throw LabSetupError("socat not installed (apt-get install socat)") }
            guard case .success(let pid) = Executables.spawn(socat, args) else { throw LabSetupError("cannot start socat") }
            self.pid = pid
            let deadline = Deadline.after(seconds: 5)
            let any = IPv4Address(0)
            while PortConflict.holders(of: port, proto: udp ? .udp : .tcp, address: any, seenFrom: getpid()).allSatisfy({ $0.ownerPID != pid }) && !deadline.hasPassed {
                usleep(10_000)
            }
        }
        deinit {
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
    }

    @Test("a forward with a listener inside works: the probe makes the round trip, names the listener and the time; with the listener stopped, nothing listens")
    func worksThenNothingListens() throws {
        let lab = try TestLab("probe-ok")
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "p", forwards: [ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(80)!)]))
        var server: NamespaceServer? = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "pong")

        let (status, report) = try probe(String(instance.pid), "1")
        #expect(status == 0, "\(report)")
        #expect(report["verdict"] as? String == "works", "\(report)")
        #expect(report["round_trip"] as? Bool == true)
        let listener = try #require(report["listener"] as? [String: Any], "\(report)")
        #expect(listener["command"] as? String == "socat")
        #expect((listener["pid"] as? Int).map(Int32.init) == server?.pid)
        #expect((report["host_holder"] as? [String: Any])?["pid"] as? Int == Int(instance.pid), "the host side is slirp4netns's")
        let elapsed = try #require(report["elapsed_ms"] as? Double)
        #expect(elapsed > 0 && elapsed < 2000, "measured: \(elapsed) ms")
        let schema = try SchemaValidator()
        try schema.expectValid(slirpmon(["fwd", "probe", String(instance.pid), "1", "--json"]), as: "fwd_probe", "fwd probe --json (works)")
        let text = slirpmon(["fwd", "probe", String(instance.pid), "1"])
        #expect(text.stdout.hasPrefix("WORKS: a connection to 127.0.0.1:\(port.value) reached pid"), "\(text.stdout)")
        #expect(text.stdout.contains("probe took "), "\(text.stdout)")

        server = nil
        let (stopped, after) = try probe(String(instance.pid), "port:\(port.value)")
        #expect(stopped == 1)
        #expect(after["verdict"] as? String == "nothing_listens", "\(after)")
        #expect((after["fix"] as? String)?.contains("start the service") == true)
        #expect(after["closed_by_forwarder"] as? Bool == true, "slirp4netns accepted, then closed when the namespace refused: \(after)")
        let failed = slirpmon(["fwd", "probe", String(instance.pid), "1", "--json"])
        #expect(try schema.problems(failed.stdout, as: "fwd_probe") == [], "fwd probe --json (nothing_listens): \(failed.stdout)")
        _ = server
    }

    @Test("a service listening only on 127.0.0.1 in the container is not reached: the probe says so and asks for 0.0.0.0")
    func listenerOnLoopbackOnly() throws {
        let lab = try TestLab("probe-lo")
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "l", forwards: [ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(8080)!)]))
        let netns = try #require(instance.netnsName)
        guard case .success(let pid) = Executables.spawn(try #require(Executables.find("ip")), ["netns", "exec", netns, "socat", "TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork", "SYSTEM:echo x"]) else {
            throw LabSetupError("cannot start socat")
        }
        defer { kill(pid, SIGKILL); Executables.waitFor(pid) }
        let deadline = Deadline.after(seconds: 5)
        while sh("ip", ["netns", "exec", netns, "cat", "/proc/net/tcp"]).stdout.contains("0100007F:1F90 00000000:0000 0A") == false && !deadline.hasPassed { usleep(20_000) }

        let (status, report) = try probe(String(instance.pid), "1")
        #expect(status == 1)
        #expect(report["verdict"] as? String == "nothing_listens", "\(report)")
        #expect((report["summary"] as? String)?.contains("listens only on 127.0.0.1:8080") == true, "\(report)")
        #expect((report["fix"] as? String)?.contains("0.0.0.0") == true)
    }

    @Test("a forward whose guest address is not the container's is named so, with the container's own address")
    func guestAddressNotTheContainers() throws {
        let lab = try TestLab("probe-ga")
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "g", forwards: [ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port,
                                                                               guestAddr: IPv4Address(10, 0, 2, 50), guestPort: Port(80)!)]))
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "pong")
        defer { withExtendedLifetime(server) {} }
        let (status, report) = try probe(String(instance.pid), "1")
        #expect(status == 1)
        #expect(report["verdict"] as? String == "guest_not_container", "\(report)")
        #expect((report["summary"] as? String)?.contains("10.0.2.50") == true && (report["summary"] as? String)?.contains("10.0.2.100") == true, "\(report)")
        let elapsed = try #require(report["elapsed_ms"] as? Double)
        #expect(elapsed < 1500, "bounded: nothing in the namespace answers 10.0.2.50, the wait is short: \(elapsed) ms")
    }

    @Test("a UDP forward on the host's loopback with --disable-host-loopback: its replies are dropped; without the option it is fine")
    func udpLoopbackRepliesDropped() throws {
        let lab = try TestLab("probe-udp")
        var results: [Bool: String] = [:]
        for disabled in [true, false] {
            let port = try DemoFleet.freeUDPPort()
            var spec = SlirpLab.Spec(name: disabled ? "d" : "a", forwards: [ForwardRequest(proto: .udp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(5353)!)])
            spec.disableHostLoopback = disabled
            let instance = try lab.start(spec)
            let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 5353, reply: "pong", udp: true)
            defer { withExtendedLifetime(server) {} }
            let (_, report) = try probe(String(instance.pid), "1")
            results[disabled] = report["verdict"] as? String
            if disabled { #expect((report["fix"] as? String)?.contains("allow_host_loopback=true") == true, "\(report)") }
            #expect(report["connect"] is NSNull, "UDP: nothing sent, no connect: \(report)")
        }
        #expect(results[true] == "udp_replies_dropped")
        #expect(results[false] == "works")
    }

    @Test("a host port that answers but belongs to another process: named with its PID; for a UDP forward it shadows, the one to stop; for a port no forward has, named only")
    func hostPortHeldByAnotherProcess() throws {
        let lab = try TestLab("probe-other")
        let udpPort = try DemoFleet.freeUDPPort()
        let instance = try lab.start(.init(name: "o", forwards: [ForwardRequest(proto: .udp, hostPort: udpPort, guestPort: Port(5353)!)]))
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 5353, reply: "pong", udp: true)
        defer { withExtendedLifetime(server) {} }
        // slirp4netns binds 0.0.0.0 with SO_REUSEADDR; a socket on 127.0.0.1 takes the loopback's datagrams.
        let shadow = try HostProgram(["UDP-RECVFROM:\(udpPort.value),bind=127.0.0.1,reuseaddr,fork", "SYSTEM:echo other"], port: Int(udpPort.value), udp: true)
        let (status, report) = try probe(String(instance.pid), "1")
        #expect(status == 1)
        #expect(report["verdict"] as? String == "other_process", "\(report)")
        #expect((report["host_holder"] as? [String: Any])?["pid"] as? Int == Int(shadow.pid), "\(report)")

        let tcpPort = try DemoFleet.freeTCPPort()
        let other = try HostProgram(["TCP-LISTEN:\(tcpPort.value),bind=127.0.0.1,reuseaddr,fork", "SYSTEM:echo other"], port: Int(tcpPort.value))
        let (status2, unforwarded) = try probe(String(instance.pid), "port:\(tcpPort.value)")
        #expect(status2 == 1)
        // No forward was named: the holder is named but never called the one to stop (the number may be a container port typed by mistake).
        #expect(unforwarded["verdict"] as? String == "no_forward", "\(unforwarded)")
        #expect((unforwarded["summary"] as? String)?.contains("pid \(other.pid) (socat") == true, "\(unforwarded)")
        #expect((unforwarded["fix"] as? String)?.contains("stop pid") == false, "\(unforwarded)")
        #expect(unforwarded["forward"] is NSNull)
        let json = slirpmon(["fwd", "probe", String(instance.pid), "port:\(tcpPort.value)", "--json"]).stdout
        #expect(try SchemaValidator().problems(json, as: "fwd_probe") == [], "fwd probe --json (no forward): \(json)")
    }

    @Test("a slirp4netns whose host side is in another network namespace than slirpmon's is not probed from here: host_elsewhere, and the process holding that port here is not named to stop")
    func hostSideElsewhere() throws {
        guard isRoot else { throw LabSetupError("fwd probe tests need root (ip netns)") }
        let outer = "smt-probe-outer-\(getpid())"
        #expect(sh("ip", ["netns", "add", outer]).status == 0)
        defer { _ = sh("ip", ["netns", "delete", outer]) }
        let dir = try SafeFiles.makePrivateDirectory(prefix: "smt-probe-outer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case .success(let guest) = Executables.spawn("/usr/bin/unshare", ["--net", "--", "/bin/sleep", "120"]) else { throw LabSetupError("unshare") }
        defer { kill(guest, SIGKILL); Executables.waitFor(guest) }
        #expect(eventually(5) { (try? Files.readLink("/proc/\(guest)/ns/net")) != (try? Files.readLink("/proc/self/ns/net")) })
        let socket = dir + "/api.sock"
        guard case .success(let slirp) = Executables.spawn("/usr/sbin/ip", ["netns", "exec", outer, "slirp4netns", "--configure", "--api-socket", socket, String(guest), "tap0"]) else {
            throw LabSetupError("slirp4netns in \(outer)")
        }
        defer { kill(slirp, SIGKILL); Executables.waitFor(slirp) }
        #expect(eventually(10) { Files.exists(socket) }, "slirp4netns did not make its API socket")
        let port = try DemoFleet.freeTCPPort()
        // What holds that port in slirpmon's own namespace is someone else, not the forward's carrier.
        let other = try HostProgram(["TCP-LISTEN:\(port.value),bind=127.0.0.1,reuseaddr,fork", "SYSTEM:echo other"], port: Int(port.value))
        _ = try APIClient(socketPath: socket, expectedPID: slirp).add(ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(80)!))
        for forward in ["1", "port:\(port.value)", "port:\(port.value + 1)"] {
            let out = slirpmon(["fwd", "probe", "pid:\(slirp)", forward, "--json"])
            #expect(out.status == 1 && out.stdout.isEmpty, "\(forward): \(out.stdout)")
            #expect(out.stderr.contains("its host side is in another network namespace") && !out.stderr.contains("\(other.pid)"), "\(forward): \(out.stderr)")
        }
        // The monitor's path (the core probe itself) says the same as a verdict.
        let site = ProbeSite(slirpPID: slirp, netnsPath: nil, guest: "10.0.2.100", disableHostLoopback: false, carriers: [slirp])
        let report = ForwardProbe.run(ProbeForward(id: 1, proto: .tcp, hostAddr: "127.0.0.1", hostPort: Int(port.value), guestAddr: nil, guestPort: 80, carrier: .slirp4netns),
                                      site: site, timeout: 1)
        #expect(report.verdict == .hostElsewhere && report.hostHolder == nil, "\(report.verdict)")
    }

    @Test("a number that is one forward's id and another's host port is refused, nothing probed; id: and port: pick")
    func ambiguousNumberRefused() throws {
        let lab = try TestLab("probe-amb")
        let port = try DemoFleet.freeTCPPort()
        // Forward 1 on a free port; forward 2 on host port 1 (root's slirp4netns may bind it): "1" names both.
        let instance = try lab.start(.init(name: "m", forwards: [ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(80)!),
                                                                 ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: Port(1)!, guestPort: Port(81)!)]))
        let both = slirpmon(["fwd", "probe", String(instance.pid), "1"])
        #expect(both.status == 2, "\(both.stdout) \(both.stderr)")
        #expect(both.stderr.contains("give id:1 or port:1"), "\(both.stderr)")
        #expect(both.stdout.isEmpty, "nothing probed")
        let (_, byID) = try probe(String(instance.pid), "id:1")
        #expect((byID["forward"] as? [String: Any])?["host_port"] as? Int == Int(port.value))
        let (_, byPort) = try probe(String(instance.pid), "port:1")
        #expect((byPort["forward"] as? [String: Any])?["guest_port"] as? Int == 81)
        #expect(slirpmon(["fwd", "probe", String(instance.pid), "x1"]).status == 2)
        let none = slirpmon(["fwd", "probe", String(instance.pid), "id:7"])
        #expect(none.status == 1 && none.stderr.contains("has no forward id 7"), "\(none.stderr)")
    }

    /// A process in `netns` started by `arguments` (killed when the value goes).
    final class InsideProgram {
        let pid: pid_t
        init(netns: String, _ arguments: [String]) throws {
            guard let ip = Executables.find("ip") else { throw LabSetupError("ip not installed") }
            guard case .success(let pid) = Executables.spawn(ip, ["netns", "exec", netns] + arguments) else { throw LabSetupError("cannot start \(arguments) in \(netns)") }
            self.pid = pid
        }
        deinit {
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
    }

    @Test("someone else's connections to the guest port while the probe waits are not its round trip: with slirp4netns's own connection dropped in the container, the verdict is no_round_trip, not works")
    func othersConnectionsAreNotOurRoundTrip() throws {
        let lab = try TestLab("probe-peer")
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "q", forwards: [ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(80)!)]))
        let netns = try #require(instance.netnsName)
        let server = try NamespaceServer(netns: netns, port: 80, reply: "pong")
        // What slirp4netns sends for a client on the host's loopback comes from the gateway: dropped.
        let rule = sh("ip", ["netns", "exec", netns, "iptables", "-A", "INPUT", "-p", "tcp", "-s", "10.0.2.2", "--dport", "80", "-j", "DROP"])
        try #require(rule.status == 0, "iptables in \(netns): \(rule.stderr)")
        // Someone in the container connects to the same port all the time (through its loopback).
        let busy = try InsideProgram(netns: netns, ["sh", "-c", "while :; do socat -u OPEN:/dev/null TCP:10.0.2.100:80 2>/dev/null; sleep 0.02; done"])
        defer { withExtendedLifetime((server, busy)) {} }
        usleep(200_000)
        let out = slirpmon(["fwd", "probe", String(instance.pid), "1", "--json", "--timeout", "1"])
        let report = try #require((try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])?.first, "\(out.stdout) \(out.stderr)")
        #expect(out.status == 1, "\(report)")
        #expect(report["verdict"] as? String == "no_round_trip" && report["round_trip"] as? Bool == false, "another process's connection was taken for the probe's: \(report)")
    }

    @Test("a user's processes in the container holding 95,000 descriptors between them (19,000 each, the listener's too): the probe does not read them all, says which processes it did not look into, and stays fast")
    func manyDescriptorsAreBoundedAndSaid() throws {
        let lab = try TestLab("probe-fds")
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(.init(name: "f", forwards: [ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: port, guestPort: Port(8080)!)]))
        let netns = try #require(instance.netnsName)
        // Each runs as nobody with 19,000 descriptors open (this machine's hard limit is 20,000;
        // a user may run as many such processes as they like): the listener, then four more.
        let pile = "import os,socket,sys\nfds=[os.open('/dev/null',os.O_RDONLY) for _ in range(19000)]\n"
        let listen = pile + "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('0.0.0.0',8080));s.listen(64)\nc=[]\n"
            + "while True:\n c.append(s.accept()[0])\n"
        func asNobody(_ script: String) throws -> InsideProgram {
            try InsideProgram(netns: netns, ["prlimit", "--nofile=19500:19500", "--", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                             "/usr/bin/python3", "-c", script])
        }
        let listener = try asNobody(listen)
        let others = try (0..<4).map { _ in try asNobody(pile + "import time\ntime.sleep(600)\n") }
        defer { withExtendedLifetime((listener, others)) {} }
        let deadline = Deadline.after(seconds: 20)
        while !sh("ip", ["netns", "exec", netns, "cat", "/proc/net/tcp"]).stdout.contains(":1F90 00000000:0000 0A") && !deadline.hasPassed { usleep(50_000) }
        for p in [listener] + others {
            try #require(eventually(20) { ((try? Files.directoryEntries("/proc/\(p.pid)/fd"))?.count ?? 0) >= 19000 }, "pid \(p.pid) did not open its descriptors")
        }
        // ip, prlimit and setpriv each exec the next: the listener is the process started.
        let holder = listener.pid
        let out = slirpmon(["fwd", "probe", String(instance.pid), "1", "--json"])
        let report = try #require((try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])?.first, "\(out.stdout) \(out.stderr)")
        let notChecked = report["not_checked"] as? [String] ?? []
        for p in [listener] + others {
            #expect(notChecked.contains { $0.hasPrefix("pid \(p.pid) (python3, user nobody) has more than 16384 descriptors") }, "\(report)")
        }
        #expect(report["round_trip"] as? Bool == true, "the round trip does not need the holder's name: \(report)")
        let elapsed = try #require(report["elapsed_ms"] as? Double)
        // A guard against a hang, not a speed figure (the benchmark has those): the scan's own deadline is 0.5 s.
        #expect(elapsed < 5000, "the descriptor scan did not stop at its deadline: \(elapsed) ms")
        let text = slirpmon(["fwd", "probe", String(instance.pid), "1"])
        #expect(text.stdout.contains("  not checked: pid \(holder) (python3, user nobody) has more than 16384 descriptors"), "\(text.stdout)")
    }

    @Test("a user's process in the container binding 4,000 SO_REUSEPORT sockets on the guest port (127.0.0.1 only): the probe names 8 of them, counts the rest as more, and stays fast")
    func manyListenersAreCappedAndCounted() throws {
        let count = 4000, lab = try TestLab("probe-many")
        let forward = ForwardRequest(proto: .tcp, hostAddr: Self.loopback, hostPort: try DemoFleet.freeTCPPort(), guestPort: Port(8080)!)
        let instance = try lab.start(.init(name: "m", forwards: [forward])), netns = try #require(instance.netnsName)
        let script = "import socket,time\nl=[]\nfor _ in range(\(count)):\n s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEPORT,1)\n"
            + " s.bind(('127.0.0.1',8080));s.listen(1);l.append(s)\nopen('/dev/shm/\(netns)-ready','w').close()\ntime.sleep(600)\n"
        let binder = try InsideProgram(netns: netns, ["prlimit", "--nofile=5000:5000", "--", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                                      "/usr/bin/python3", "-c", script])
        defer { withExtendedLifetime(binder) {}; unlink("/dev/shm/\(netns)-ready") }
        try #require(eventually(30) { Files.exists("/dev/shm/\(netns)-ready") }, "the \(count) sockets were not bound")
        let start = Deadline.now
        let (status, report) = try probe(String(instance.pid), "1")
        let seconds = Deadline.now.seconds(since: start)
        #expect(status == 1 && report["verdict"] as? String == "nothing_listens", "\(report["summary"] ?? "")")
        let others = report["other_listeners"] as? [[String: Any]] ?? []
        #expect(others.count == 8 && report["other_listeners_more"] as? Int == count - 8, "\(others.count) named, \(report["other_listeners_more"] ?? "nil") more")
        #expect(others.first?["command"] as? String == "python3", "the first ones are named: \(others.first ?? [:])")
        let elapsed = try #require(report["elapsed_ms"] as? Double)
        print("many listeners: probe \(elapsed) ms, \(seconds) s with slirpmon's start")
        // A guard against the unbounded lookups (4 s here before the cap), loose enough for a loaded machine.
        #expect(elapsed < 3000 && seconds < 6, "\(count) listeners each looked up: \(elapsed) ms (\(seconds) s with slirpmon's start)")
        let text = slirpmon(["fwd", "probe", String(instance.pid), "1"])
        #expect(text.stdout.contains(", and \(count - 8) more"), "\(text.stdout)")
        let json = slirpmon(["fwd", "probe", String(instance.pid), "1", "--json"])
        #expect(try SchemaValidator().problems(json.stdout, as: "fwd_probe") == [], "fwd probe --json (many listeners): \(json.stdout.prefix(2000))")
    }

}

/// `fwd probe` on real Podman containers: a forward of the slirp4netns API (rootful) and the -p
/// ports a rootless user's rootlessport carries (Podman's default port_handler=rootlesskit).
@Suite("fwd probe on Podman", .serialized, .enabled(if: PodmanFixture.available, "podman or /bin/busybox missing (bash assets/setup.sh)"))
struct PodmanProbeTests {
    func probe(_ target: String, _ forward: String) throws -> (status: Int32, report: [String: Any]) {
        let out = slirpmon(["fwd", "probe", target, forward, "--json"])
        let array = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]
        return (out.status, try #require(array?.first, "no report: \(out.stdout) \(out.stderr)"))
    }

    @Test("a rootful container with port_handler=slirp4netns: its forward works and names busybox httpd as the listener")
    func slirpHandlerWorks() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("probe-s")
        let port = Int(try DemoFleet.freeTCPPort().value)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        let run = PodmanFixture.runWebServer(name, port: port)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(eventually(20) { PodmanFixture.httpGet(port: port) != nil })
        let (status, report) = try probe(name, "1")
        #expect(status == 0, "\(report)")
        #expect(report["verdict"] as? String == "works", "\(report)")
        #expect((report["listener"] as? [String: Any])?["command"] as? String == "httpd", "\(report)")
        #expect((report["forward"] as? [String: Any])?["carrier"] as? String == "slirp4netns")
    }

    @Test("a rootless container with rootlessport (port_handler=rootlesskit): the -p port with httpd behind works, the one with nothing behind is named")
    func rootlessportPorts() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("probe-r")
        let served = Int(try DemoFleet.freeTCPPort().value)
        var empty = Int(try DemoFleet.freeTCPPort().value)
        while empty == served { empty = Int(try DemoFleet.freeTCPPort().value) }
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns", "-p", "127.0.0.1:\(served):80", "-p", "127.0.0.1:\(empty):81",
                                        PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"], user: user, timeout: 120)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(eventually(30) { PodmanFixture.httpGet(port: served) != nil })

        let (status, report) = try probe(name, String(served))
        #expect(status == 0, "\(report)")
        #expect(report["verdict"] as? String == "works", "\(report)")
        let forward = try #require(report["forward"] as? [String: Any])
        #expect(forward["carrier"] as? String == "rootlessport")
        #expect(forward["id"] is NSNull, "a configured port has no id")
        #expect((report["host_holder"] as? [String: Any])?["command"] as? String == "rootlessport", "\(report)")
        #expect((report["listener"] as? [String: Any])?["command"] as? String == "httpd", "\(report)")

        let (emptyStatus, nothing) = try probe(name, String(empty))
        #expect(emptyStatus == 1)
        #expect(nothing["verdict"] as? String == "nothing_listens", "\(nothing)")
    }
}

/// `fwd probe` on a real RootlessKit instance (run as the test user; slirpmon as root), with
/// either port driver: the port's host side is the rootlesskit parent's (builtin) or slirp4netns's.
@Suite("fwd probe on RootlessKit", .serialized, .enabled(if: isRoot, "needs root (starts rootlesskit as the test user)"))
struct RootlessKitProbeTests {
    @Test("a RootlessKit port with a server in its child works with either port driver, its carrier named; without the server nothing listens",
          arguments: [RootlessKitFixture.PortDriver.builtin, .slirp4netns])
    func rootlessKitPort(driver: RootlessKitFixture.PortDriver) throws {
        let rk = try RootlessKitFixture(portDriver: driver)
        defer { #expect(rk.stop() == []) }
        var server: ChildNamespaceServer? = try ChildNamespaceServer(childPID: rk.childPID, port: 8080, reply: "hello-probe")
        let target = "pid:\(rk.slirpPID)"
        let port = Int(try DemoFleet.freeTCPPort().value)
        let add = slirpmon(["fwd", "add", target, "127.0.0.1:\(port):8080"])
        try #require(add.status == 0, "fwd add: \(add.stderr)")

        let out = slirpmon(["fwd", "probe", target, String(port), "--json"])
        let report = try #require((try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])?.first, "\(out.stdout) \(out.stderr)")
        #expect(out.status == 0, "\(report)")
        #expect(report["verdict"] as? String == "works", "\(report)")
        let carrier = (report["forward"] as? [String: Any])?["carrier"] as? String
        #expect(carrier == (driver == .builtin ? "rootlesskit" : "slirp4netns"), "\(report)")
        #expect((report["host_holder"] as? [String: Any])?["pid"] as? Int == Int(driver == .builtin ? rk.pid : rk.slirpPID), "\(report)")

        server = nil
        let gone = slirpmon(["fwd", "probe", target, String(port), "--json"])
        #expect(gone.status == 1)
        #expect(gone.stdout.contains("\"verdict\" : \"nothing_listens\""), "\(gone.stdout)")
        _ = server
    }
}
