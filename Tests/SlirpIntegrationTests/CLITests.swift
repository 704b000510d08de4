import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

@Suite("The slirpmon command line, run as a process", .enabled(if: isRoot, "needs root for ip netns"))
struct CLITests {
    func json(_ output: Executables.Output) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    @Test("list --json shows each instance with its computed addresses and forward count")
    func listJSON() throws {
        let lab = try TestLab("clil")
        let port = try DemoFleet.freeTCPPort()
        let a = try lab.start(.init(name: "a", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)]))
        let b = try lab.start(.init(name: "b", cidr: "10.99.128.0/17", ipv6: true, apiSocket: false))
        let out = slirpmon(["list", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let rows = try #require(try json(out) as? [[String: Any]])
        let rowA = try #require(rows.first { $0["pid"] as? Int == Int(a.pid) })
        let rowB = try #require(rows.first { $0["pid"] as? Int == Int(b.pid) })
        #expect(rowA["guest"] as? String == "10.0.2.100")
        #expect(rowA["gateway"] as? String == "10.0.2.2")
        #expect(rowA["dns"] as? String == "10.0.2.3")
        #expect(rowA["forward_count"] as? Int == 1)
        #expect(rowA["api_socket"] as? String == a.apiSocket)
        #expect(rowA["api_socket_status"] as? String == "held")
        #expect(rowA["container_id"] is NSNull, "null, not absent")
        #expect(rowB["guest"] as? String == "10.99.128.100")
        #expect(rowB["cidr"] as? String == "10.99.128.0/17")
        #expect(rowB["ipv6"] as? Bool == true)
        #expect(rowB["api_socket"] is NSNull)
        #expect(rowB["forward_count"] is NSNull)
        // The documented keys are all there.
        for key in ["pid", "ppid", "start_ticks", "state", "zombie", "uid", "user", "start_time", "uptime_seconds", "rss_bytes",
                    "container_id", "cidr", "mtu", "ipv6", "guest", "gateway", "dns", "address_error", "address_mismatches",
                    "netns", "tap", "api_socket", "api_socket_status", "forward_count", "forwards_error", "problems"] {
            #expect(rowA.keys.contains(key), "missing key \(key)")
        }
        let text = slirpmon(["list"])
        #expect(text.stdout.contains("10.99.128.100"))
        #expect(text.stdout.contains(String(a.pid)))
        // A later run takes what cannot change from the facts the first kept (/run/slirpmon): same answer.
        let again = try #require(try json(slirpmon(["list", "--json"])) as? [[String: Any]])
        for (row, pid) in [(rowA, a.pid), (rowB, b.pid)] {
            let second = try #require(again.first { $0["pid"] as? Int == Int(pid) })
            for key in ["api_socket", "api_socket_status", "cidr", "guest", "container_id", "uid", "user", "forward_count", "netns", "tap", "mtu", "ipv6", "problems"] {
                #expect(String(describing: row[key]) == String(describing: second[key]), "\(key) of \(pid)")
            }
        }
        // A forward another client adds, then removes, is seen by the next run each time (its log
        // shows the request, so the kept list is not used); `--no-cache` asks every time.
        func forwardCount() throws -> Int? {
            let rows = try #require(try json(slirpmon(["list", "--json", "--no-podman"])) as? [[String: Any]])
            return try #require(rows.first { $0["pid"] as? Int == Int(a.pid) })["forward_count"] as? Int
        }
        let client = APIClient(socketPath: try #require(a.apiSocket), expectedPID: a.pid)
        var id: Int?
        for _ in 0..<5 where id == nil { // a port picked free may be taken by a test beside this one
            id = try? client.add(ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: try DemoFleet.freeTCPPort(), guestPort: Port(80)!))
        }
        let added = try #require(id)
        #expect(try forwardCount() == 2)
        #expect(try forwardCount() == 2)
        try client.remove(id: added)
        #expect(try forwardCount() == 1)
        for _ in 0..<2 {
            let before = apiRequests(pid: a.pid).count
            let fresh = try #require(try json(slirpmon(["list", "--json", "--no-cache", "--no-podman"])) as? [[String: Any]])
            #expect(fresh.first { $0["pid"] as? Int == Int(a.pid) }?["forward_count"] as? Int == 1)
            #expect(apiRequests(pid: a.pid).count > before, "--no-cache asked")
        }
    }

    @Test("show --json gives observed addresses, forwards and the unlinked log")
    func showJSON() throws {
        let lab = try TestLab("clis")
        let instance = try lab.start(.init(name: "s"))
        let out = slirpmon(["show", String(instance.pid), "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let report = try #require(try json(out) as? [String: Any])
        let checks = try #require(report["addresses"] as? [[String: Any]])
        let guest = try #require(checks.first { $0["role"] as? String == "guest" })
        #expect(guest["status"] as? String == "match")
        #expect(guest["observed"] as? String == "10.0.2.100/24")
        let log = try #require(report["log"] as? [String: Any])
        #expect(log["deleted"] as? Bool == true)
        #expect(log["original_path"] as? String == instance.logPath)
        #expect((report["options"] as? [[String: Any]])?.contains { $0["option"] as? String == "--mtu=65520" } == true)
        let text = slirpmon(["show", String(instance.pid)])
        #expect(text.stdout.contains("(deleted)"))
        #expect(text.stdout.contains("10.0.2.100/24"))
    }

    /// Adds a UDP forward from a free host port on `hostAddr` to the guest's 5353 (a few tries:
    /// a port picked free may be taken by a test beside this one); its port and what fwd add said.
    func addUDPForward(_ instance: SlirpLab.Instance, hostAddr: String) throws -> (port: Int, stderr: String) {
        for _ in 0..<5 {
            let port = try DemoFleet.freeUDPPort()
            let added = slirpmon(["fwd", "add", String(instance.pid), "\(hostAddr):\(port.value):5353/udp"])
            if added.status == 0 { return (Int(port.value), added.stderr) }
        }
        throw LabSetupError("no UDP forward could be added")
    }

    @Test("a UDP forward added with fwd add carries a datagram into the namespace and the answer back")
    func udpForwardCarriesDatagrams() throws {
        let lab = try TestLab("cliu")
        var spec = SlirpLab.Spec(name: "u")
        spec.disableHostLoopback = false
        let instance = try lab.start(spec)
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 5353, reply: "udp-pong", udp: true)
        _ = server
        let (port, said) = try addUDPForward(instance, hostAddr: "127.0.0.1")
        #expect(!said.contains("note:"), "nothing to warn of without --disable-host-loopback: \(said)")
        let listed = try #require(try json(slirpmon(["fwd", "list", String(instance.pid), "--json"])) as? [[String: Any]])
        #expect(listed.contains { $0["proto"] as? String == "udp" && $0["host_port"] as? Int == port && $0["guest_port"] as? Int == 5353 })
        let reply = udpExchange(port: port, send: "udp-ping", timeout: 1, sends: 15)
        #expect(reply?.contains("udp-pong") == true, "answered through the forward: \(reply ?? "nothing")")
        // Removed, it carries nothing.
        #expect(slirpmon(["fwd", "rm", String(instance.pid), "all"]).status == 0)
        #expect(udpExchange(port: port, send: "udp-ping", timeout: 1) == nil, "no answer once removed")
    }

    @Test("with --disable-host-loopback, fwd add says a UDP forward's replies to loopback clients are dropped, and it is so; other host addresses get them")
    func udpForwardLoopbackCaveat() throws {
        let lab = try TestLab("cliv")
        let instance = try lab.start(.init(name: "v")) // with --disable-host-loopback, as Podman runs it
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 5353, reply: "udp-pong", udp: true)
        _ = server
        let (loopbackPort, said) = try addUDPForward(instance, hostAddr: "127.0.0.1")
        #expect(said.contains("note:") && said.contains("--disable-host-loopback") && said.contains("127.0.0.1"), "\(said)")
        #expect(udpExchange(port: loopbackPort, send: "udp-ping", timeout: 2) == nil, "a loopback client gets no reply, as the note says")
        // Bound to the host's own address (not 0.0.0.0, which a forward elsewhere on the same port
        // could share): no note, and its client gets the reply.
        let address = try #require(hostNonLoopbackIPv4(), "the host has no IPv4 address but the loopback: the other half of the note cannot be checked")
        let (port, quiet) = try addUDPForward(instance, hostAddr: address)
        #expect(!quiet.contains("note:"), "\(quiet)")
        let reply = udpExchange(host: address, port: port, send: "udp-ping", timeout: 1, sends: 15)
        #expect(reply?.contains("udp-pong") == true, "a client on \(address) gets its reply: \(reply ?? "nothing")")
        // A TCP forward on the loopback draws no note.
        let tcp = slirpmon(["fwd", "add", String(instance.pid), "127.0.0.1:\(try DemoFleet.freeTCPPort().value):80"])
        #expect(tcp.status != 0 || !tcp.stderr.contains("note:"), "\(tcp.stderr)")
    }

    @Test("fwd add, list and rm work end to end; a range adds one forward per port")
    func forwardCommands() throws {
        let lab = try TestLab("clif")
        let instance = try lab.start(.init(name: "f"))
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "cli-pong")
        _ = server
        let port = Int(try DemoFleet.freeTCPPort().value)
        let add = slirpmon(["fwd", "add", String(instance.pid), "127.0.0.1:\(port):80", "--json"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(tcpRoundTrip(port: port)?.contains("cli-pong") == true)

        let range = slirpmon(["fwd", "add", String(instance.pid), "127.0.0.1:22100-22104:8000-8004/udp"])
        #expect(range.status == 0, "\(range.stderr)")
        let list = slirpmon(["fwd", "list", String(instance.pid), "--json"])
        let forwards = try #require(try json(list) as? [[String: Any]])
        #expect(forwards.count == 6)
        #expect(forwards.filter { $0["proto"] as? String == "udp" }.map { $0["guest_port"] as? Int } == [8000, 8001, 8002, 8003, 8004])

        let rm = slirpmon(["fwd", "rm", String(instance.pid), "1"])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(tcpRoundTrip(port: port) == nil)
        let rmAll = slirpmon(["fwd", "rm", String(instance.pid), "all"])
        #expect(rmAll.status == 0)
        #expect(try APIClient(socketPath: try #require(instance.apiSocket)).list().isEmpty)

        let unknown = slirpmon(["fwd", "rm", String(instance.pid), "99"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("bad arguments.id"))
        #expect(unknown.stderr.contains("fwd list"))
    }

    @Test("invalid input is refused before anything reaches slirp4netns")
    func badInputSendsNothing() throws {
        let lab = try TestLab("clib")
        let instance = try lab.start(.init(name: "b"))
        let pid = String(instance.pid)
        // Other tests may list every instance's forwards meanwhile: only changes must never arrive.
        let changes = { apiRequests(pid: instance.pid).filter { !$0.contains("list_hostfwd") } }
        let before = changes()
        let cases: [([String], String)] = [
            (["fwd", "add", pid, "0:80"], "out of range"),
            (["fwd", "add", pid, "70000:80"], "out of range"),
            (["fwd", "add", pid, "8080:65536"], "out of range"),
            (["fwd", "add", pid, "8081-8080:80-81"], "reversed"),
            (["fwd", "add", pid, "8080-8082:80-81"], "same length"),
            (["fwd", "add", pid, "8080:80/sctp"], "tcp or udp"),
            (["fwd", "add", pid, "[::1]:8080:80"], "IPv6"),
            (["fwd", "add", pid, "localhost:8080:80"], "IPv4"),
            (["fwd", "add", pid, "80"], "host port is required"),
            (["fwd", "add", pid, "-1:80"], ""),
            (["fwd", "add", pid, #"8080:80","execute":"remove_hostfwd"#], ""),
            (["fwd", "add", pid, "8080:80\n{\"execute\":\"list_hostfwd\"}"], ""),
            (["fwd", "add", pid, String(repeating: "9", count: 5000) + ":80"], ""),
            (["fwd", "add", pid, "8080:80", "--guest-addr", "fd00::100"], "IPv4"),
            (["fwd", "rm", pid, "one"], "not a forward id"),
        ]
        for (args, words) in cases {
            let out = slirpmon(args)
            #expect(out.status == 2, "\(args) should be a usage error, got \(out.status): \(out.stderr)")
            if !words.isEmpty { #expect(out.stderr.contains(words), "\(args): \(out.stderr)") }
            #expect(out.stderr.split(separator: "\n").count == 1, "one clear line, not a wall: \(out.stderr)")
            #expect(out.stderr.utf8.count < 400, "hostile input is not echoed whole")
        }
        #expect(changes() == before, "no add or remove request reached slirp4netns")
        #expect(before.isEmpty)
    }

    @Test("unknown targets and targets without an API socket fail with exit 1, sending nothing")
    func targetsRefused() throws {
        let lab = try TestLab("clit")
        let noAPI = try lab.start(.init(name: "n", apiSocket: false))
        let unknown = slirpmon(["fwd", "add", "999999999", "8080:80"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no slirp4netns instance matches"))
        // Lists what runs, newest first, at most ten (other tests may run a hundred instances meanwhile).
        #expect(unknown.stderr.contains("pid \(noAPI.pid)") || unknown.stderr.contains("more (slirpmon list)"), "lists what runs")
        let out = slirpmon(["fwd", "add", String(noAPI.pid), "8080:80"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no API socket"))
        #expect(out.stderr.contains("port_handler=slirp4netns"))
    }

    @Test("a host port already in use is explained: who holds it")
    func portInUseExplained() throws {
        let lab = try TestLab("clip")
        let instance = try lab.start(.init(name: "p"))
        // Hold a port on 127.0.0.1 from this test process (CLOEXEC: a process another test spawns
        // meanwhile must not inherit it, or it would be named as the holder).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = socketAddress(IPv4Address(127, 0, 0, 1), port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(listen(fd, 1) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let out = slirpmon(["fwd", "add", String(instance.pid), "127.0.0.1:\(port):80"])
        #expect(out.status == 1)
        #expect(out.stderr.contains("slirp_add_hostfwd failed"), "slirp's own words, verbatim")
        #expect(out.stderr.contains("already bound on 127.0.0.1 by pid \(getpid())"), "\(out.stderr)")
    }

    @Test("addr prints Podman's computation and its errors")
    func addrCommand() throws {
        let out = slirpmon(["addr", "--cidr", "10.99.128.0/17", "--ipv6", "--json"])
        #expect(out.status == 0)
        let report = try #require(try json(out) as? [String: Any])
        #expect(report["guest"] as? String == "10.99.128.100")
        #expect(report["gateway"] as? String == "10.99.128.2")
        #expect(report["dns"] as? String == "10.99.128.3")
        #expect((report["ipv6"] as? [String: Any])?["gateway"] as? String == "fd00::2")
        // Podman's own error, on stderr (one line), and no half result on stdout.
        let small = slirpmon(["addr", "--cidr", "10.0.2.0/26"])
        #expect(small.status == 1)
        #expect(small.stderr.contains("calculated ip address 10.0.2.100 is not within given subnet 10.0.2.0/26"), "\(small.stderr)")
        #expect(small.stdout.isEmpty, "\(small.stdout)")
        let bad = slirpmon(["addr", "--cidr", "fd00::/64"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("invalid cidr"))
    }

    @Test("log prints the unlinked log; the demo starts three instances and removes everything")
    func logAndDemo() throws {
        // Run the demo as our own child so we know its PID, which names its namespaces.
        let outPath = "/tmp/slirpmon-demo-test-\(getpid()).out"
        let fd = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { unlink(outPath) }
        guard case .success(let demoPID) = Executables.spawn(slirpmonBinary, ["demo", "--list"], descriptors: [1: fd]) else {
            close(fd); Issue.record("cannot start the demo"); return
        }
        close(fd)
        let status = Executables.waitFor(demoPID)
        let listing = (try? Files.readText(outPath)) ?? ""
        #expect(status == 0)
        #expect(listing.contains("10.99.128.100"))
        #expect(listing.split(separator: "\n").filter { $0.contains("held") }.count >= 2)
        let leftovers = (try? Files.directoryEntries("/run/netns"))?.filter { $0.hasPrefix("\(DemoFleet.prefixBase)-\(demoPID)-") } ?? []
        #expect(leftovers.isEmpty, "demo left namespaces behind: \(leftovers)")
        let survivors = try ProcessScanner().scan().filter { !$0.isZombie && $0.arguments.joined(separator: " ").contains("\(DemoFleet.prefixBase)-\(demoPID)-") }.map(\.pid)
        #expect(survivors.isEmpty, "demo left slirp4netns running: \(survivors)")

        let lab = try TestLab("clig")
        let instance = try lab.start(.init(name: "g"))
        let out = slirpmon(["log", String(instance.pid)])
        #expect(out.status == 0)
        #expect(out.stdout.contains("sent tapfd="))
        let small = slirpmon(["log", String(instance.pid), "--bytes", "0"])
        #expect(small.status == 2)
    }
}

@Suite("Another user's view of root's instances", .enabled(if: isRoot && PodmanFixture.available, "needs root and a second user"))
struct OtherUserTests {
    @Test("a user without rights on root's instances gets per-field permission errors, and nothing crashes")
    func permissionErrorsPerField() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let lab = try TestLab("perm")
        // The lab's directory is private (0700); opened here so the user can reach the socket's name.
        chmod(lab.lab.directory, 0o755)
        let instance = try lab.start(.init(name: "p"))
        chmod(slirpmonBinary, 0o755)
        var dir = (slirpmonBinary as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty { chmod(dir, (try? Files.status(dir).st_mode).map { $0 | 0o005 } ?? 0o755); dir = (dir as NSString).deletingLastPathComponent }
        let asUser = { (args: [String]) in sh("runuser", ["-u", user.name, "--", slirpmonBinary] + args) }

        let list = asUser(["list", "--json", "--no-podman"])
        #expect(list.status == 0, "\(list.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let row = try #require(rows.first { $0["pid"] as? Int == Int(instance.pid) })
        let problems = try #require(row["problems"] as? [String: String])
        #expect(problems["stdout"]?.contains("permission denied") == true, "\(problems)")
        #expect(problems["fds"]?.contains("permission denied") == true)
        #expect(row["guest"] as? String == "10.0.2.100", "what can be read is still shown")
        #expect(row["api_socket_status"] as? String == "unverified")

        let log = asUser(["log", String(instance.pid)])
        #expect(log.status == 1)
        #expect(log.stderr.contains("permission denied"))
        #expect(log.stderr.split(separator: "\n").count == 1)
        let show = asUser(["show", String(instance.pid)])
        #expect(show.status == 0)
        #expect(show.stdout.contains("permission denied"))
    }
}
