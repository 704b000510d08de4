import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// The real monitor in tmux on a real `rootlesskit --net=slirp4netns` (each port driver) run by
/// the test user, and on a real Docker rootless daemon: the forwards pane lists, adds and removes
/// ports through RootlessKit's API, proven with TCP round trips.
@Suite(.serialized)
struct RootlessKitMonitorTests {
    /// A TCP port free on the host's loopback, in a range of its own (other suites use 18xxx-19xxx and 41000-49000).
    static func unusedPort() -> Int {
        let listening = ((try? Files.readText("/proc/net/tcp")) ?? "") + ((try? Files.readText("/proc/net/tcp6")) ?? "")
        for _ in 0..<50 {
            let port = Int.random(in: 52000..<56000)
            if !listening.contains(String(format: ":%04X ", port)) { return port }
        }
        return Int.random(in: 52000..<56000)
    }

    /// The user this suite runs rootlesskit as: not `RootlessKitFixture.userName`, whose suites check
    /// that no process of theirs is left while this one may run beside them.
    static let user = "slirpmon-rkm"

    /// `rootlessctl --socket SOCKET ARGS...` as the test user, as an operator types it.
    static func rootlessctl(_ socket: String, _ args: [String]) -> Executables.Output {
        sh("/usr/sbin/runuser", ["-u", user, "--", "rootlessctl", "--socket", socket] + args)
    }

    @Test("on a RootlessKit instance (each port driver) the forwards pane lists a port added with rootlessctl, adds one through the form that reaches a server in the namespace, removes it through the dialog (connection refused after), and shows a refusal before sending with nothing sent",
          arguments: [RootlessKitFixture.PortDriver.builtin, .slirp4netns])
    func addListRemoveThroughRootlessKit(driver: RootlessKitFixture.PortDriver) throws {
        try #require(TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")")
        let reply = "hello-rk-tui-\(driver.rawValue)"
        // The command runs in RootlessKit's namespaces: a server on port 8080 there.
        let kit = try RootlessKitFixture(portDriver: driver, command: ["socat", "TCP-LISTEN:8080,reuseaddr,fork", "SYSTEM:echo \(reply)"], userName: Self.user)
        let tmux = TmuxHarness(width: 160, height: 45)
        defer {
            tmux.tearDown()
            let left = kit.stop()
            #expect(left.isEmpty, "left behind: \(left)")
        }
        let socket = kit.stateDir + "/api.sock"
        let before = Self.unusedPort()
        let added = Self.rootlessctl(socket, ["add-ports", "127.0.0.1:\(before):8080/tcp"])
        try #require(added.status == 0, "rootlessctl add-ports: \(added.combined)")

        try tmux.startMonitor("-d 0.5", filteredTo: String(kit.slirpPID))
        tmux.send("3")
        let listed = tmux.waitFor("127.0.0.1:\(before) -> :8080")
        #expect(listed.found, "the port added with rootlessctl is not listed:\n\(listed.screen)")
        #expect(listed.screen.contains("ID PROTO HOST"), "\(listed.screen)")
        #expect(listed.screen.contains("GET /v1/ports of rootlesskit pid \(kit.pid), port driver \(driver.rawValue)"), "\(listed.screen)")
        #expect(!listed.screen.contains("list_hostfwd"), "\(listed.screen)")

        // Added through the form: a real round trip to the server in the namespace.
        let port = Self.unusedPort()
        tmux.send("a")
        let form = tmux.waitFor("Add port to rootlesskit pid \(kit.pid)")
        try #require(form.found, "no add form:\n\(form.screen)")
        tmux.type(String(port))
        tmux.send("Tab")
        tmux.type("8080")
        tmux.send("Enter")
        let done = tmux.waitFor("added port id")
        #expect(done.found, "not added:\n\(done.screen)")
        #expect(eventually(5) { tcpRoundTrip(port: port)?.contains(reply) == true }, "no round trip through 127.0.0.1:\(port)")
        #expect(tmux.waitFor("127.0.0.1:\(port) -> :8080").found, "the added port is not listed:\n\(tmux.capture())")
        #expect(Self.rootlessctl(socket, ["list-ports"]).stdout.contains("\(port)"))

        // Removed through the dialog: the host port is closed.
        tmux.send("Tab")
        tmux.send("End")
        tmux.send("d")
        let dialog = tmux.waitFor("Remove RootlessKit port")
        #expect(dialog.found && dialog.screen.contains("127.0.0.1:\(port)"), "no dialog for the added port:\n\(dialog.screen)")
        tmux.send("y")
        let removed = tmux.waitFor("removed port")
        #expect(removed.found, "not removed:\n\(removed.screen)")
        #expect(eventually(5) { tcpRoundTrip(port: port, timeout: 1) == nil }, "127.0.0.1:\(port) still answers after the port was removed")
        let remaining = Self.rootlessctl(socket, ["list-ports"]).stdout
        #expect(!remaining.contains("\(port)") && remaining.contains("\(before)"), "\(remaining)")

        // Refused before sending, said in the status line: a bridge childIP with the slirp4netns
        // driver (slirp reaches only its own network), a privileged port with the builtin one.
        let refused = Self.unusedPort()
        tmux.send("a")
        try #require(tmux.waitFor("Add port to rootlesskit pid").found, "no add form:\n\(tmux.capture())")
        tmux.type(driver == .slirp4netns ? String(refused) : "80")
        tmux.send("Tab")
        tmux.type("8080")
        if driver == .slirp4netns {
            tmux.send("Tab")
            tmux.type("172.17.0.2")
        }
        tmux.send("Enter")
        let why = driver == .slirp4netns ? "outside slirp4netns's network" : "parent port 80 is privileged"
        let refusal = tmux.waitUntil { $0.contains("add failed: nothing sent") && $0.contains(why) }
        #expect(refusal.found, "no refusal:\n\(refusal.screen)")
        let after = Self.rootlessctl(socket, ["list-ports", "--json"]).stdout.split(separator: "\n")
        #expect(after.count == 1, "something was sent: \(after)")
    }

    @Test("the monitor's refresh does not ask the slirp4netns of a RootlessKit (slirp4netns port driver) for the FWD count through slirp4netns's own .s4nn.sock: its ports are RootlessKit's")
    func refreshLeavesSlirpSocketOfRootlessKitAlone() throws {
        let kit = try RootlessKitFixture(portDriver: .slirp4netns, userName: Self.user)
        defer {
            let left = kit.stop()
            #expect(left.isEmpty, "left behind: \(left)")
        }
        let added = Self.rootlessctl(kit.stateDir + "/api.sock", ["add-ports", "127.0.0.1:\(Self.unusedPort()):8080/tcp"])
        try #require(added.status == 0, "rootlessctl add-ports: \(added.combined)")
        // The refresh as the monitor makes it, with the instance on screen and not.
        var selected: ProcessIdentity?
        for _ in 0..<2 {
            var options = Inventory.Options(purpose: .monitor(cache: InventoryCache(addressMaxAge: 30, contactMaxAge: 5), selected: selected))
            options.readAddresses = true
            let snapshot = try Inventory(options: options).snapshot()
            let instance = try #require(snapshot.instances.first { $0.pid == kit.slirpPID }, "slirp4netns \(kit.slirpPID) not found")
            #expect(instance.rootlessKit?.pid == kit.pid)
            #expect(instance.apiSocket == kit.stateDir + "/.s4nn.sock", "\(instance.apiSocket ?? "-")")
            #expect(instance.forwards == nil && instance.forwardsError == nil,
                    "slirp4netns's own socket was asked: \(instance.forwards.map { "\($0.count) forwards" } ?? instance.forwardsError ?? "-")")
            selected = instance.identity
        }
    }

    @Test("Docker rootless: a container started with -p shows in the forwards pane with its name and published; a port added live to its address through the form reaches it and shows the docker run -p that keeps it; removing it closes it")
    func dockerRootlessContainers() throws {
        try #require(TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")")
        let docker = try DockerRootlessFixture(portDriver: "builtin")
        try docker.start()
        let tmux = TmuxHarness(width: 170, height: 45)
        defer {
            tmux.tearDown()
            let left = (try? docker.stop()) ?? ["the daemon could not be stopped"]
            #expect(left.isEmpty, "left behind: \(left)")
        }
        let name = "smt-tui-web-\(getpid())"
        let published = Self.unusedPort()
        try docker.run(name: name, publish: ["127.0.0.1:\(published):80"], command: DockerRootlessFixture.httpd)
        let address = docker.dockerCLI(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(IPv4Address(address) != nil, "no address for \(name): \(address)")
        let kitPID = try #require(docker.rootlessKitPID)
        let slirp = try #require(try RootlessKitFixture.children(of: kitPID).first { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" },
                                 "no slirp4netns under rootlesskit \(kitPID)")

        try tmux.startMonitor("-d 0.5", filteredTo: String(slirp))
        tmux.send("3")
        let listed = tmux.waitUntil { $0.contains("127.0.0.1:\(published) -> 127.0.0.1:\(published)") && $0.contains(name) }
        #expect(listed.found, "the container's published port is not listed with its name:\n\(listed.screen)")
        let row = listed.screen.split(separator: "\n").first { $0.contains("127.0.0.1:\(published) ->") }.map(String.init) ?? ""
        #expect(row.contains("tcp4") && row.contains(name) && row.contains("published"), "\(row)")
        #expect(listed.screen.contains("CONTAINER") && listed.screen.contains("ORIGIN"), "\(listed.screen)")

        // Added live to the container's bridge address (the builtin driver reaches it).
        let live = Self.unusedPort()
        tmux.send("a")
        try #require(tmux.waitFor("Add port to rootlesskit pid \(kitPID)").found, "no add form:\n\(tmux.capture())")
        tmux.type(String(live))
        tmux.send("Tab")
        tmux.type("80")
        tmux.send("Tab")
        tmux.type(address)
        tmux.send("Enter")
        let done = tmux.waitFor("added port id")
        #expect(done.found, "not added:\n\(done.screen)")
        #expect(eventually(5) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-docker-fixture") == true }, "no round trip through 127.0.0.1:\(live)")
        let kept = tmux.waitFor("docker run -p 127.0.0.1:\(live):80")
        #expect(kept.found, "no docker run -p for the live port:\n\(kept.screen)")
        let liveRow = kept.screen.split(separator: "\n").first { $0.contains("127.0.0.1:\(live) ->") }.map(String.init) ?? ""
        #expect(liveRow.contains(name) && liveRow.contains("live"), "\(liveRow)")

        tmux.send("Tab")
        tmux.send("End")
        tmux.send("d")
        #expect(tmux.waitFor("Remove RootlessKit port").found, "no dialog:\n\(tmux.capture())")
        tmux.send("y")
        #expect(tmux.waitFor("removed port").found, "not removed:\n\(tmux.capture())")
        #expect(eventually(5) { tcpRoundTrip(port: live, timeout: 1) == nil }, "127.0.0.1:\(live) still answers after the port was removed")
        #expect(PodmanFixture.httpGet(port: published)?.contains("slirpmon-docker-fixture") == true, "the published port stopped answering")
    }
}
