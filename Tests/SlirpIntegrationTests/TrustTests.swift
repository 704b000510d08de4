import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// Root trusts no name a user can choose: a process is root's container only when its owner and
/// network namespace say so, a request goes only to a socket proven to be the instance's own, and
/// the connection goes to the very socket file that was proven.
@Suite("What root trusts", .serialized, .enabled(if: isRoot, "needs root, a second user and real slirp4netns"))
struct TrustTests {
    /// A directory `user` may write, for the attacker's socket.
    func userDirectory(_ tag: String, user: (name: String, uid: UInt32)) throws -> String {
        let directory = "/tmp/\(tag)"
        mkdir(directory, 0o755)
        guard let gid = getpwnam(user.name)?.pointee.pw_gid else { throw LabSetupError("no user \(user.name)") }
        chown(directory, user.uid, gid)
        return directory
    }

    func rows(_ out: Executables.Output) throws -> [[String: Any]] {
        #expect(out.status == 0, "\(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
    }

    @Test("a user's fake slirp4netns named after root's container is not root's container, and root's forward goes to root's slirp4netns")
    func fakeNamedAfterRootsContainer() throws {
        guard PodmanFixture.available else {
            Issue.record("needs podman and busybox-static (apt-get install podman busybox-static)")
            return
        }
        let user = try PodmanFixture.prepareRootlessUser()
        guard let gid = getpwnam(user.name)?.pointee.pw_gid else { throw LabSetupError("no user \(user.name)") }
        let name = PodmanFixture.name("claim")
        let configured = Int(try DemoFleet.freeTCPPort().value)
        // Created first: the attacker learns the ID and starts the fake before root's slirp4netns
        // exists, so the fake comes first in every scan.
        let create = PodmanFixture.podman(["create", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                                           "-p", "127.0.0.1:\(configured):80", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        #expect(create.status == 0, "\(create.stderr)")
        let id = create.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(ContainerID.isContainerID(id), "podman create printed \(id)")

        let tag = "smt-claim-\(getpid())-\(UInt32.random(in: 0..<100000))"
        let directory = try userDirectory(tag, user: user)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The attack: root's container ID as the socket's name, and a namespace path of root's kind.
        let fake = try StandInSlirp(mode: .ok, tag: tag, socketPath: "\(directory)/\(id).net", netnsPath: "/run/netns/netns-\(tag)",
                                    user: (user.uid, gid))
        defer { fake.stop() }
        let start = PodmanFixture.podman(["start", name])
        #expect(start.status == 0, "\(start.stderr)")
        let inspect = PodmanFixture.podman(["inspect", "--format", "{{.State.Pid}}", name])
        #expect(inspect.status == 0, "\(inspect.stderr)")

        let listed = try rows(slirpmon(["list", "--json", "--no-cache"]))
        let fakeRow = try #require(listed.first { $0["pid"] as? Int == Int(fake.pid) }, "the fake is listed, as what it is")
        #expect(fakeRow["container"] is NSNull, "the fake is not root's container: \(fakeRow["container"] ?? "")")
        #expect(fakeRow["container_id"] is NSNull, "no container ID is shown for it")
        #expect(fakeRow["user"] as? String == user.name)
        let note = (fakeRow["problems"] as? [String: String])?["container"] ?? ""
        #expect(note.contains("claim container \(id.prefix(12))") && note.contains("runs as \(user.name)") && note.contains("not joined"), "\(note)")
        let realRow = try #require(listed.first { ($0["container"] as? [String: Any])?["name"] as? String == name })
        #expect(realRow["pid"] as? Int != Int(fake.pid))
        #expect(realRow["uid"] as? Int == 0)
        #expect(listed.filter { ($0["container"] as? [String: Any])?["name"] as? String == name }.count == 1)
        let text = slirpmon(["list", "--no-cache"])
        #expect(text.stdout.split(separator: "\n").filter { $0.contains(name) }.count == 1, "\(text.stdout)")

        // By name and by ID prefix: root's slirp4netns, proven by a round trip; the fake gets nothing.
        for target in [name, String(id.prefix(12))] {
            let live = Int(try DemoFleet.freeTCPPort().value)
            let add = slirpmon(["fwd", "add", target, "127.0.0.1:\(live):80"])
            #expect(add.status == 0, "fwd add \(target): \(add.stderr)")
            #expect(PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true, "HTTP through the new forward (\(target))")
        }
        // Root's own process is not root's container either unless it is in the container's network
        // namespace: the owner alone proves nothing.
        let lab = try TestLab("claim-ns")
        let other = try lab.start(.init(name: "n"))
        let scanned = try ProcessScanner().scan()
        let container = try #require(PodmanCatalog().snapshot(for: scanned).containers.first { $0.id == id })
        let real = try #require(scanned.first { $0.containerID == id && $0.uid == 0 })
        let stranger = try #require(scanned.first { $0.pid == other.pid })
        #expect(ContainerJoin.check(real, serves: container) == .joined)
        guard case .refused(let why) = ContainerJoin.check(stranger, serves: container) else {
            Issue.record("root's slirp4netns in another namespace was joined to the container")
            return
        }
        #expect(why.contains("network namespace is not the container's"), "\(why)")

        let show = slirpmon(["show", name, "--json"])
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any], "\(show.stderr)")
        #expect(shown["pid"] as? Int != Int(fake.pid))
        // `list` asks every instance for its forwards, the fake too, as the user's own process (so do
        // other root sessions on this host): only those requests may reach it, and no connection
        // that sent nothing (a connection refused after SO_PEERCRED named the fake).
        let requests = ((try? Files.readText(fake.logPath)) ?? "").components(separatedBy: "got request: ").dropFirst()
        #expect(requests.allSatisfy { $0.hasPrefix("{\"execute\":\"list_hostfwd\"}") }, "a request for root's container reached the fake: \(requests.filter { !$0.hasPrefix("{\"execute\":\"list_hostfwd\"}") })")
        #expect(eventually(3) { fake.connectionsAccepted == fake.requestsReceived }, "root connected to the fake and sent nothing \(fake.connectionsAccepted - fake.requestsReceived) times")
    }

    @Test("slirpmon-bench's shell baseline, run as root, asks only the bench's own instances, never a socket a user's slirp4netns names")
    func benchBaselineAsksOnlyItsOwn() throws {
        guard Executables.find("socat") != nil else { Issue.record("socat is missing (apt-get install socat)"); return }
        let user = try PodmanFixture.prepareRootlessUser()
        // getpwnam's entry is shared by every thread: its gid is copied at once.
        guard let gid = getpwnam(user.name)?.pointee.pw_gid else { throw LabSetupError("no user \(user.name)") }
        let bench = (slirpmonBinary as NSString).deletingLastPathComponent + "/slirpmon-bench"
        try #require(access(bench, X_OK) == 0, "no \(bench): swift build first")
        let lab = try TestLab("bench-own")
        let ours = try lab.start(.init(name: "b"))
        let tag = "smt-benchfake-\(getpid())-\(UInt32.random(in: 0..<100000))"
        let directory = try userDirectory(tag, user: user)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fake = try StandInSlirp(mode: .ok, tag: tag, socketPath: "\(directory)/api.sock", netnsPath: "/run/netns/netns-\(tag)",
                                    user: (user.uid, gid))
        defer { fake.stop() }

        let script = try Executables.run(bench, ["list-script", lab.lab.directory], timeout: 10).get()
        try #require(script.status == 0, "\(script.stderr)")
        let run = try Executables.run("/bin/bash", ["-c", script.stdout], timeout: 60).get()
        #expect(run.stdout.contains("\(ours.pid) {\"entries\""), "the bench's own instance was not asked: \(run.stdout)")
        #expect(!run.stdout.contains("\(fake.pid) "), "the user's process was asked: \(run.stdout)")
        // Other tests' slirpmon (list, the monitor's counts) may ask every slirp4netns: socat is the baseline's.
        usleep(500_000)
        #expect(fake.connectionsAccepted(fromCommand: "socat") == 0, "root's baseline connected \(fake.connectionsAccepted(fromCommand: "socat")) times to the socket a user's slirp4netns names")
    }

    @Test("root's doctor on a name both root and a user gave a container examines neither and lists both; each ID prefix still names its own")
    func doctorOnANameTwoOwnersUse() throws {
        guard PodmanFixture.available else {
            Issue.record("needs podman and busybox-static (apt-get install podman busybox-static)")
            return
        }
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("twin")
        let roots = PodmanFixture.podman(["create", "--name", name, "--network", "slirp4netns", PodmanFixture.image, "sleep", "600"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try #require(roots.status == 0, "\(roots.stderr)")
        // The user's runs: root's catalog asks that user's Podman.
        let users = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns", PodmanFixture.image, "sleep", "600"], user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try #require(users.status == 0, "\(users.stderr)")
        let rootsID = roots.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let usersID = users.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let both = slirpmon(["doctor", name, "--no-trial", "--json"], timeout: 120)
        #expect(both.status == 1, "\(both.stdout)\n\(both.stderr)")
        #expect(both.stderr.contains("matches more than one"), "\(both.stderr)")
        #expect(both.stderr.contains("id:\(rootsID.prefix(12)) (container \(name) (\(rootsID.prefix(12))) of root") && both.stderr.contains("id:\(usersID.prefix(12)) (container \(name) (\(usersID.prefix(12))) of \(user.name)"), "\(both.stderr)")
        #expect(!both.stderr.contains("examining it as"), "root's doctor picked the user's container: \(both.stderr)")
        #expect(both.stdout.isEmpty, "a report was made for one of them: \(both.stdout)")

        let byUsersID = slirpmon(["doctor", String(usersID.prefix(12)), "--no-trial", "--json"], timeout: 120)
        #expect(byUsersID.stderr.contains("examining it as \(user.name)"), "\(byUsersID.stderr)")
        let byRootsID = slirpmon(["doctor", String(rootsID.prefix(12)), "--no-trial", "--json"], timeout: 120)
        #expect(!byRootsID.stderr.contains("examining it as"), "\(byRootsID.stderr)")
        let subject = ((try? JSONSerialization.jsonObject(with: Data(byRootsID.stdout.utf8))) as? [String: Any])?["subject"] as? [String: Any]
        #expect(subject?["container_id"] as? String == rootsID, "\(byRootsID.stdout)\n\(byRootsID.stderr)")
    }

    @Test("a user's forward to another user's world-writable socket is refused with the reason, and sent only with --unverified")
    func unprovenSocketRefused() throws {
        let lab = try TestLab("unproven")
        let instance = try lab.start(.init(name: "u"))
        let socket = try #require(instance.apiSocket)
        // Root's instance, its socket world-writable: anyone may connect, no one else can prove whose it is.
        chmod(socket, 0o777)
        var dir = (socket as NSString).deletingLastPathComponent
        chmod(dir, 0o755)
        chmod(slirpmonBinary, 0o755)
        dir = (slirpmonBinary as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty { chmod(dir, (try? Files.status(dir).st_mode).map { $0 | 0o005 } ?? 0o755); dir = (dir as NSString).deletingLastPathComponent }
        let asNobody = { (args: [String]) in sh("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", slirpmonBinary] + args) }
        // Other root sessions on this host may list forwards meanwhile: only this user's requests count.
        func adds() -> [String] { apiRequests(pid: instance.pid).filter { $0.contains("add_hostfwd") } }

        let port = Int(try DemoFleet.freeTCPPort().value)
        let refused = asNobody(["fwd", "add", String(instance.pid), "127.0.0.1:\(port):80"])
        #expect(refused.status == 1, "\(refused.stdout)")
        #expect(refused.stderr.contains("not verified") && refused.stderr.contains("nothing was sent") && refused.stderr.contains("--unverified"), "\(refused.stderr)")
        let listing = asNobody(["fwd", "list", String(instance.pid)])
        #expect(listing.status == 1)
        let listed = try rows(asNobody(["list", "--json", "--no-podman"]))
        let row = try #require(listed.first { $0["pid"] as? Int == Int(instance.pid) })
        #expect((row["forwards_error"] as? String)?.contains("not asked") == true, "\(row["forwards_error"] ?? "")")
        #expect(adds().isEmpty, "a request reached the unproven socket: \(adds())")

        let sent = asNobody(["fwd", "add", "--unverified", String(instance.pid), "127.0.0.1:\(port):80"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(eventually(3) { adds().count == 1 }, "the explicit override sends")
        #expect(adds().last?.contains("\"host_port\":\(port)") == true, "\(adds())")
    }

    @Test("a socket path swapped after the ownership check gets no connection: the connect goes to the socket file that was checked")
    func swappedPathGetsNoConnection() throws {
        let lab = try TestLab("swap")
        let instance = try lab.start(.init(name: "s"))
        let socket = try #require(instance.apiSocket)
        let process = try #require(ProcessScanner().process(pid: instance.pid))
        var options = Inventory.Options(purpose: .scriptedList(forwards: false, cache: nil))
        options.readAddresses = false
        let checked = Inventory(options: options).inspect(process)
        #expect(checked.socketOwnership == .held)
        let file = try #require(checked.apiSocketFile, "the check names the socket file it proved")

        // After the check: the socket's directory moved away, a symlink in its place to a directory
        // with the attacker's listener under the same name.
        let directory = (socket as NSString).deletingLastPathComponent
        let name = (socket as NSString).lastPathComponent
        let decoy = "\(directory)-decoy"
        mkdir(decoy, 0o755)
        defer {
            unlink(directory)
            rename("\(directory)-moved", directory)
            try? FileManager.default.removeItem(atPath: decoy)
        }
        let listener = try UnixListener(path: "\(decoy)/\(name)")
        #expect(rename(directory, "\(directory)-moved") == 0)
        #expect(symlink(decoy, directory) == 0)

        let client = APIClient(socketPath: socket, expectedPID: instance.pid, expectedFile: file, timeout: 1)
        do {
            let forwards = try client.list()
            Issue.record("a request went through a swapped path: \(forwards)")
        } catch {
            #expect(error.description.contains("replaced since it was checked"), "\(error.description)")
        }
        #expect(!listener.hasPendingConnection, "the decoy listener was connected to")

        // Put back, the checked socket file is reached as before.
        unlink(directory)
        #expect(rename("\(directory)-moved", directory) == 0)
        #expect((try? client.list()) != nil)
    }
}

/// A listening unix socket the test holds, to see whether anything connected to it.
final class UnixListener {
    let fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard fd >= 0, bytes.count < 108 else { throw LabSetupError("cannot make a listener at \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw LabSetupError("cannot listen at \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// True when a connection waits to be accepted.
    var hasPendingConnection: Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) > 0
    }
}
