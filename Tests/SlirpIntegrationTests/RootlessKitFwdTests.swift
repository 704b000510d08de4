import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A free TCP port on the host's loopback, in a range of its own (other suites use 18xxx-19xxx and 41000-49000).
private func freeFwdPort() -> Int {
    for _ in 0..<50 {
        let port = Int.random(in: 33000..<40000)
        if tcpRoundTrip(port: port, timeout: 1) == nil, !((try? Files.readText("/proc/net/tcp")) ?? "").contains(String(format: ":%04X ", port)) { return port }
    }
    return Int.random(in: 33000..<40000)
}

/// The ports RootlessKit itself lists (`GET /v1/ports` by curl as root), as `[[String: Any]]`.
private func rootlessKitPorts(stateDir: String) throws -> [[String: Any]] {
    let out = sh("curl", ["-s", "--max-time", "5", "--unix-socket", "\(stateDir)/api.sock", "http://rootlesskit/v1/ports"])
    #expect(out.status == 0, "curl: \(out.stderr)")
    return try JSONSerialization.jsonObject(with: Data(out.stdout.utf8), options: .fragmentsAllowed) as? [[String: Any]] ?? []
}

private func parsed(_ output: Executables.Output) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(output.stdout.utf8), options: .fragmentsAllowed)
}

/// `slirpmon fwd list|add|rm` on a slirp4netns started by `rootlesskit --net=slirp4netns`, run by
/// the test user `slirpmon-rk` (rootlesskit refuses root) while slirpmon runs as root.
@Suite("slirpmon fwd on a RootlessKit instance goes through RootlessKit's API", .serialized)
struct RootlessKitFwdTests {
    @Test("show, list and fwd list never send list_hostfwd to slirp4netns's own .s4nn.sock (the slirp4netns port driver's): its log, copied by rootlesskit --debug, has none")
    func slirpSocketLeftAlone() throws {
        let rk = try RootlessKitFixture(portDriver: .slirp4netns, extraFlags: ["--debug"])
        defer { #expect(rk.stop() == []) }
        let target = "pid:\(rk.slirpPID)"
        for arguments in [["show", target], ["show", target, "--json"], ["list"], ["list", "--json"], ["fwd", "list", target]] {
            let out = slirpmon(arguments)
            #expect(out.status == 0, "\(arguments): \(out.stderr)")
        }
        let list = try #require(try parsed(slirpmon(["list", "--json"])) as? [[String: Any]], "list --json")
        let mine = list.first { $0["pid"] as? Int == Int(rk.slirpPID) }
        #expect(mine?["forward_count"] is NSNull && (mine?["forwards_error"] as? String)?.contains("RootlessKit's API") == true, "\(String(describing: mine))")
        #expect(!rk.log.contains("list_hostfwd"), "slirp4netns was asked on its own socket:\n\(rk.log)")
        // The control: a request on that socket is in the log.
        _ = try APIClient(socketPath: "\(rk.stateDir)/.s4nn.sock", expectedPID: rk.slirpPID).list()
        #expect(eventually(5) { rk.log.contains("list_hostfwd") }, "the log does not show requests:\n\(rk.log)")
    }

    @Test("a slirp4netns whose parent is a user's own copy of rootlesskit gets nothing sent, to neither socket, with the reason")
    func usersOwnRootlessKitIsNotTrusted() throws {
        let user = try RootlessKitFixture.prepareUser()
        let copy = try SafeFiles.makePrivateDirectory(prefix: "smt-rkcopy")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        chmod(copy, 0o755)
        let binary = copy + "/rootlesskit"
        #expect(sh("cp", ["/usr/bin/rootlesskit", binary]).status == 0)
        chown(binary, user.uid, user.gid)
        let rk = try RootlessKitFixture(portDriver: .slirp4netns, rootlesskit: binary)
        defer { #expect(rk.stop() == []) }
        let port = freeFwdPort()
        let add = slirpmon(["fwd", "add", "pid:\(rk.slirpPID)", "127.0.0.1:\(port):8080"])
        #expect(add.status == 1, "\(add.stdout) \(add.stderr)")
        #expect(add.stderr.contains("is named rootlesskit but does not run an installed, root-owned rootlesskit (\(binary))"), "\(add.stderr)")
        #expect(try rootlessKitPorts(stateDir: rk.stateDir).isEmpty)
        #expect(try APIClient(socketPath: "\(rk.stateDir)/.s4nn.sock", expectedPID: rk.slirpPID).list().isEmpty, "slirp4netns's own socket was sent the port")
    }

    @Test("fwd add through RootlessKit reaches a server in its child, RootlessKit lists it (never slirp4netns's own .s4nn.sock), fwd rm closes it",
          arguments: [RootlessKitFixture.PortDriver.builtin, .slirp4netns])
    func addListRemove(driver: RootlessKitFixture.PortDriver) throws {
        let rk = try RootlessKitFixture(portDriver: driver)
        defer { #expect(rk.stop() == []) }
        let server = try ChildNamespaceServer(childPID: rk.childPID, port: 8080, reply: "hello-fwd-\(driver.rawValue)")
        defer { _ = server }
        let target = "pid:\(rk.slirpPID)"
        let port = freeFwdPort()

        let add = slirpmon(["fwd", "add", target, "127.0.0.1:\(port):8080", "--json"])
        #expect(add.status == 0, "fwd add: \(add.stderr)")
        let added = try #require(try parsed(add) as? [[String: Any]], "fwd add --json: \(add.stdout)")
        let id = try #require(added.first?["id"] as? Int, "\(added)")
        #expect(added.first?["state"] as? String == "added")
        #expect(eventually(5) { tcpRoundTrip(port: port)?.contains("hello-fwd-\(driver.rawValue)") == true }, "no round trip through 127.0.0.1:\(port)")

        // RootlessKit itself has it under the id slirpmon printed: it went through RootlessKit's
        // socket. With the slirp4netns driver a port added on .s4nn.sock works too, but RootlessKit does not list it.
        let listedByKit = try rootlessKitPorts(stateDir: rk.stateDir)
        #expect(listedByKit.map { $0["id"] as? Int } == [id], "RootlessKit lists \(listedByKit)")

        let list = slirpmon(["fwd", "list", target, "--json"])
        let schema = try SchemaValidator()
        try schema.expectValid(list, as: "fwd_list", "fwd list --json on RootlessKit (\(driver))")
        try schema.expectValid(add, as: "fwd_add", "fwd add --json on RootlessKit (\(driver))")
        let entries = try #require(try parsed(list) as? [[String: Any]], "fwd list --json: \(list.stdout)")
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(Set(entry.keys) == ["id", "proto", "host_addr", "host_port", "guest_addr", "guest_port", "origin", "container", "publish"])
        #expect(entry["id"] as? Int == id)
        #expect(entry["proto"] as? String == "tcp")
        #expect(entry["host_addr"] as? String == "127.0.0.1")
        #expect(entry["host_port"] as? Int == port)
        #expect(entry["guest_addr"] is NSNull, "no childIP given: the child's own address, null")
        #expect(entry["guest_port"] as? Int == 8080)
        #expect(entry["origin"] as? String == "live")
        #expect(entry["container"] is NSNull)
        #expect(entry["publish"] is NSNull)
        let text = slirpmon(["fwd", "list", target])
        #expect(text.status == 0)
        #expect(text.stdout.contains("port driver \(driver.rawValue)"), "\(text.stdout)")
        #expect(text.stdout.contains("127.0.0.1:\(port)") && text.stdout.contains("10.0.2.100:8080"), "\(text.stdout)")

        let show = slirpmon(["show", target])
        #expect(show.stdout.contains("RootlessKit API socket: \(rk.stateDir)/api.sock"), "\(show.stdout)")
        #expect(show.stdout.contains("[\(id)] tcp 127.0.0.1:\(port) -> :8080"), "\(show.stdout)")
        let shown = slirpmon(["show", target, "--json"])
        try schema.expectValid(shown, as: "show", "show --json on RootlessKit (\(driver))")
        let showJSON = try #require(try parsed(shown) as? [String: Any], "show --json: \(shown.stdout)")
        let shownPorts = try #require(showJSON["rootlesskit_ports"] as? [[String: Any]], "show --json lists the ports: \(showJSON["rootlesskit_ports_error"] ?? "")")
        #expect(shownPorts.map { $0["id"] as? Int } == [id] && shownPorts.first?["host_port"] as? Int == port)
        #expect(showJSON["rootlesskit_ports_error"] is NSNull)

        let rm = slirpmon(["fwd", "rm", target, String(id)])
        #expect(rm.status == 0, "fwd rm: \(rm.stderr)")
        #expect(rm.stdout == "removed \(id)\n")
        #expect(eventually(5) { tcpRoundTrip(port: port, timeout: 1) == nil }, "127.0.0.1:\(port) still answers after fwd rm")
        #expect(try rootlessKitPorts(stateDir: rk.stateDir).isEmpty)
        #expect(slirpmon(["fwd", "list", target, "--json"]).stdout == "[]\n")
    }

    @Test("refused before anything is sent, with the reason: tcp6 and a container's bridge address on the slirp4netns driver, port 80 below ip_unprivileged_port_start, a batch with a conflict; an unknown id is named as one, also in slirp4netns's words through its port driver")
    func refusals() throws {
        let rk = try RootlessKitFixture(portDriver: .slirp4netns)
        defer { #expect(rk.stop() == []) }
        let target = "pid:\(rk.slirpPID)"
        let port = freeFwdPort(), other = freeFwdPort()

        let tcp6 = slirpmon(["fwd", "add", target, "\(port):8080/tcp6"])
        #expect(tcp6.status == 1, "\(tcp6)")
        #expect(tcp6.stderr.contains("nothing sent") && tcp6.stderr.contains("does not take tcp6"), "\(tcp6.stderr)")

        // A running container's bridge address: slirp reaches only 10.0.2.0/24, every connection would time out.
        let bridge = slirpmon(["fwd", "add", target, "127.0.0.1:\(port):80", "--guest-addr", "172.17.0.2"])
        #expect(bridge.status == 1, "\(bridge)")
        #expect(bridge.stderr.contains("172.17.0.2 is outside slirp4netns's network 10.0.2.0/24") && bridge.stderr.contains("builtin port driver"), "\(bridge.stderr)")

        let start = Int(((try? Files.readText("/proc/sys/net/ipv4/ip_unprivileged_port_start")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(start > 80, "this test needs ip_unprivileged_port_start above 80 (it is \(start))")
        let privileged = slirpmon(["fwd", "add", target, "127.0.0.1:80:8080"])
        #expect(privileged.status == 1, "\(privileged)")
        #expect(privileged.stderr.contains("privileged") && privileged.stderr.contains("sysctl -w net.ipv4.ip_unprivileged_port_start=80"), "\(privileged.stderr)")

        #expect(slirpmon(["fwd", "add", target, "127.0.0.1:\(port):8080"]).status == 0)
        let batch = slirpmon(["fwd", "add", target, "127.0.0.1:\(other):8081", "\(port):8082"])
        #expect(batch.status == 1, "\(batch)")
        #expect(batch.stderr.contains("nothing sent") && batch.stderr.contains("held by port 1"), "\(batch.stderr)")
        #expect(try rootlessKitPorts(stateDir: rk.stateDir).count == 1, "the batch sent something")

        let usage = slirpmon(["fwd", "add", target, "\(port):8080/sctp"])
        #expect(usage.status == 2, "\(usage)")

        let unknown = slirpmon(["fwd", "rm", target, "99"])
        #expect(unknown.status == 1, "\(unknown)")
        // The slirp4netns driver passes slirp4netns's refusal through (`remove_hostfwd: bad arguments.id`): it is explained as an unknown id.
        #expect(unknown.stderr.contains("no port has that id") && unknown.stderr.contains("slirpmon fwd list \(target)"), "\(unknown.stderr)")
        let unknownBatch = slirpmon(["fwd", "rm", target, "1", "99"])
        #expect(unknownBatch.status == 1)
        #expect(unknownBatch.stderr.contains("nothing sent: the instance has no port 99"), "\(unknownBatch.stderr)")
        #expect(try rootlessKitPorts(stateDir: rk.stateDir).count == 1, "fwd rm 1 99 removed 1")
    }

    @Test("a stopped rootlesskit (SIGSTOP): fwd rm of a port is sent but unanswered, exit 3 with the JSON, and the port is gone once it runs; fwd add sends nothing when its checks get no answer, exit 1")
    func stoppedRootlessKit() throws {
        let rk = try RootlessKitFixture(portDriver: .builtin)
        defer { #expect(rk.stop() == []) }
        let target = "pid:\(rk.slirpPID)"
        let port = freeFwdPort()
        #expect(slirpmon(["fwd", "add", target, "127.0.0.1:\(port):8080"]).status == 0)
        kill(rk.pid, SIGSTOP)
        defer { kill(rk.pid, SIGCONT) }
        // A stop reaches each of Go's threads when it next leaves the kernel: wait until all are stopped.
        let stopped = eventually {
            let tasks = (try? Files.directoryEntries("/proc/\(rk.pid)/task")) ?? []
            return !tasks.isEmpty && tasks.allSatisfy { task in
                ((try? Files.readText("/proc/\(rk.pid)/task/\(task)/stat")) ?? "").contains(") T ")
            }
        }
        try #require(stopped, "SIGSTOP takes effect on every thread of rootlesskit")

        let rm = slirpmon(["fwd", "rm", target, "1", "--timeout", "1", "--json"])
        #expect(rm.status == 3, "\(rm)")
        #expect(rm.stderr.contains("removing port 1: sent, no answer: it may still be removed") && rm.stderr.contains("slirpmon fwd list \(target)"), "\(rm.stderr)")
        let json = try #require(try parsed(rm) as? [String: [Int]], "\(rm.stdout)")
        #expect(json == ["removed": [], "sent_no_answer": [1], "not_sent": []])

        let add = slirpmon(["fwd", "add", target, "127.0.0.1:\(freeFwdPort()):8081", "--timeout", "1"])
        #expect(add.status == 1, "\(add)")
        #expect(add.stderr.contains("nothing sent: the instance's info and ports could not be read"), "\(add.stderr)")

        kill(rk.pid, SIGCONT)
        #expect(eventually(5) { (try? rootlessKitPorts(stateDir: rk.stateDir))?.isEmpty == true }, "the removal was not carried out once rootlesskit ran")
    }
}

/// `slirpmon fwd` on a real Docker rootless daemon (builtin port driver): published ports named
/// with their containers, a live port to a container's bridge address, its `-p` line, and removal.
@Suite("slirpmon fwd on Docker rootless", .serialized)
struct DockerRootlessFwdTests {
    @Test("a published port shows with its container; a live port added to the container's bridge address reaches its server, is listed live with the docker run -p that keeps it, and fwd rm closes it")
    func livePortToContainer() throws {
        let fixture = try DockerRootlessFixture(portDriver: "builtin")
        try fixture.start()
        var stopped = false
        defer { if !stopped { _ = try? fixture.stop() } }
        let name = "smt-fwd-\(getpid())"
        let published = freeFwdPort()
        try fixture.run(name: name, publish: ["127.0.0.1:\(published):80"], command: DockerRootlessFixture.httpd)
        let address = fixture.dockerCLI(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(address.hasPrefix("172.17."), "container address \(address)")
        let kit = try #require(fixture.rootlessKitPID)
        let slirp = try #require(try RootlessKitFixture.children(of: kit).first { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" })
        let target = "pid:\(slirp)"
        #expect(eventually(10) { PodmanFixture.httpGet(port: published)?.contains("slirpmon-docker-fixture") == true })

        let listed = slirpmon(["fwd", "list", target, "--json"])
        try SchemaValidator().expectValid(listed, as: "fwd_list", "fwd list --json on Docker rootless")
        let before = try #require(try parsed(listed) as? [[String: Any]])
        let mine = try #require(before.first { $0["host_port"] as? Int == published }, "\(before)")
        #expect(mine["origin"] as? String == "published")
        #expect(mine["proto"] as? String == "tcp4")
        let container = try #require(mine["container"] as? [String: Any], "\(mine)")
        #expect(container["name"] as? String == name)
        #expect(container["address"] as? String == address)
        #expect(container["port"] as? Int == 80)
        #expect(container["proxy_pid"] as? Int != nil)
        #expect(mine["publish"] is NSNull)

        let live = freeFwdPort()
        let add = slirpmon(["fwd", "add", target, "127.0.0.1:\(live):80", "--guest-addr", address])
        #expect(add.status == 0, "fwd add: \(add.stderr)")
        #expect(add.stderr.contains("docker run -p 127.0.0.1:\(live):80") && add.stderr.contains("created again"), "\(add.stderr)")
        print("$ slirpmon fwd add \(target) 127.0.0.1:\(live):80 --guest-addr \(address)\n\(add.stdout)\(add.stderr)")
        #expect(eventually(5) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-docker-fixture") == true }, "no page through the live port \(live)")

        let after = try #require(try parsed(slirpmon(["fwd", "list", target, "--json"])) as? [[String: Any]])
        let added = try #require(after.first { $0["host_port"] as? Int == live }, "\(after)")
        #expect(added["origin"] as? String == "live")
        #expect(added["guest_addr"] as? String == address)
        #expect((added["container"] as? [String: Any])?["name"] as? String == name)
        #expect(added["publish"] as? String == "127.0.0.1:\(live):80")
        let text = slirpmon(["fwd", "list", target])
        #expect(text.stdout.contains("CONTAINER") && text.stdout.contains("ORIGIN") && text.stdout.contains("published") && text.stdout.contains("docker run -p 127.0.0.1:\(live):80"), "\(text.stdout)")
        print(text.stdout)
        let show = slirpmon(["show", target])
        print(show.stdout.split(separator: "\n").drop { !$0.hasPrefix("RootlessKit API socket") }.prefix(8).joined(separator: "\n"))
        #expect(show.stdout.contains("live, container \(name) (\(address):80)") && show.stdout.contains("docker run -p 127.0.0.1:\(live):80"), "\(show.stdout)")

        let id = try #require(added["id"] as? Int)
        #expect(slirpmon(["fwd", "rm", target, String(id)]).status == 0)
        #expect(eventually(5) { PodmanFixture.httpGet(port: live) == nil }, "the live port \(live) still answers after fwd rm")
        #expect(PodmanFixture.httpGet(port: published)?.contains("slirpmon-docker-fixture") == true, "the published port went with it")

        stopped = true
        #expect(try fixture.stop() == [])
    }

    @Test("with the slirp4netns port driver, a port to a running container's bridge address is refused before sending, with the reason; the published port still shows with its container")
    func bridgeAddressRefusedOnSlirpDriver() throws {
        let fixture = try DockerRootlessFixture(portDriver: "slirp4netns")
        try fixture.start()
        var stopped = false
        defer { if !stopped { _ = try? fixture.stop() } }
        let name = "smt-fwds-\(getpid())"
        let published = freeFwdPort()
        try fixture.run(name: name, publish: ["127.0.0.1:\(published):80"], command: DockerRootlessFixture.httpd)
        let address = fixture.dockerCLI(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let kit = try #require(fixture.rootlessKitPID)
        let slirp = try #require(try RootlessKitFixture.children(of: kit).first { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" })
        let target = "pid:\(slirp)"
        #expect(eventually(10) { PodmanFixture.httpGet(port: published)?.contains("slirpmon-docker-fixture") == true })
        let state = try #require(fixture.stateDirectories().first)
        let before = try rootlessKitPorts(stateDir: state)

        let add = slirpmon(["fwd", "add", target, "127.0.0.1:\(freeFwdPort()):80", "--guest-addr", address])
        #expect(add.status == 1, "\(add)")
        #expect(add.stderr.contains("nothing sent") && add.stderr.contains("\(address) is outside slirp4netns's network 10.0.2.0/24")
                && add.stderr.contains("builtin port driver"), "\(add.stderr)")
        #expect(try rootlessKitPorts(stateDir: state).count == before.count, "something was sent")

        let listed = try #require(try parsed(slirpmon(["fwd", "list", target, "--json"])) as? [[String: Any]])
        let mine = try #require(listed.first { $0["host_port"] as? Int == published }, "\(listed)")
        #expect(mine["origin"] as? String == "published")
        #expect((mine["container"] as? [String: Any])?["name"] as? String == name, "\(mine)")

        stopped = true
        #expect(try fixture.stop() == [])
    }
}
