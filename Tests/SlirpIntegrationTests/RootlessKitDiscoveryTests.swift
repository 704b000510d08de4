import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// A slirp4netns started by RootlessKit (`rootlesskit --net=slirp4netns`, what Docker rootless and
/// containerd rootless run) is shown as RootlessKit's, on real rootlesskit 1.1 run as the test user
/// `slirpmon-rkd`, with both port drivers. Serialized: each test counts the user's processes.
@Suite("RootlessKit's slirp4netns, discovered", .serialized, .enabled(if: isRoot, "needs root (creates the test user slirpmon-rkd)"))
struct RootlessKitDiscoveryTests {
    /// A user of its own: the other RootlessKit suites run as `Self.user` beside
    /// this one, and it counts its user's processes (4 of theirs were counted in a CI run).
    static let user = "slirpmon-rkd"

    func rows(_ args: [String]) throws -> [[String: Any]] {
        let out = slirpmon(args)
        #expect(out.status == 0, "slirpmon \(args.joined(separator: " ")): \(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]], "\(out.stdout)")
    }

    func row(pid: Int32) throws -> [String: Any] {
        try #require(try rows(["list", "--json", "--no-podman"]).first { ($0["pid"] as? Int) == Int(pid) }, "slirp4netns \(pid) listed")
    }

    func checkNothingLeft(_ kit: RootlessKitFixture) {
        let left = kit.stop()
        #expect(left.isEmpty, "left behind: \(left)")
        #expect(RootlessKitFixture.userProcesses(uid: kit.user.uid).isEmpty, "no process of \(kit.user.name) remains")
    }

    @Test("root lists the slirp4netns of a user's `rootlesskit --port-driver=builtin --state-dir=DIR sleep 600` as rootlesskit: its PID, user, port driver, state directory from the command line, listening API socket and the command it runs; slirp4netns's output is said to go to rootlesskit, which drops it without --debug")
    func builtinDriver() throws {
        let kit = try RootlessKitFixture(portDriver: .builtin, userName: Self.user)
        defer { checkNothingLeft(kit) }
        let row = try row(pid: kit.slirpPID)
        let rk = try #require(row["rootlesskit"] as? [String: Any], "a rootlesskit object: \(row)")
        #expect(rk["pid"] as? Int == Int(kit.pid))
        #expect(rk["user"] as? String == Self.user)
        #expect(rk["port_driver"] as? String == "builtin")
        #expect(rk["state_dir"] as? String == kit.stateDir)
        #expect(rk["state_dir_source"] as? String == "command_line")
        #expect(rk["api_socket"] as? String == kit.stateDir + "/api.sock")
        #expect(rk["api_socket_listening"] as? Bool == true)
        let child = try #require(rk["child"] as? [String: Any])
        #expect(child["pid"] as? Int == Int(kit.childPID))
        #expect(child["command"] as? [String] == ["sleep", "600"])
        #expect(child["kind"] as? String == "command")
        #expect(rk["dockerd_pid"] is NSNull)
        #expect(rk["docker_socket"] is NSNull)
        // rootlesskit reads slirp4netns's output and, without --debug, drops it.
        #expect(rk["log"] as? String == "a pipe read by rootlesskit (pid \(kit.pid)), which drops it: rootlesskit logs slirp4netns's output only with --debug",
                "\(rk["log"] ?? "")")
        #expect((rk["problems"] as? [String: String])?.isEmpty == true, "\(rk["problems"] ?? "")")

        let list = slirpmon(["list", "--no-podman"])
        let line = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("\(kit.slirpPID) ") }, "\(list.stdout)")
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "rootlesskit", "NAME is rootlesskit: \(line)")
        #expect(line.contains(Self.user), "USER: \(line)")

        let show = slirpmon(["show", String(kit.slirpPID)])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("rootlesskit: pid \(kit.pid), user \(Self.user), port driver builtin"), "\(show.stdout)")
        #expect(show.stdout.contains("runs:      sleep 600"), "\(show.stdout)")
        #expect(show.stdout.contains("state dir: \(kit.stateDir) (from its --state-dir)"), "\(show.stdout)")
        #expect(show.stdout.contains("log: no file: slirp4netns writes to a pipe read by rootlesskit (pid \(kit.pid)), which drops it"), "\(show.stdout)")
        // The rootlesskit object as assets/slirpmon.schema.json documents it.
        let validator = try SchemaValidator()
        try validator.expectValid(slirpmon(["list", "--json", "--no-podman"]), as: "list", "list --json with a RootlessKit instance")
        try validator.expectValid(slirpmon(["show", String(kit.slirpPID), "--json"]), as: "show", "show --json of a RootlessKit instance")
    }

    @Test("with the slirp4netns port driver and no --state-dir (as Debian's dockerd-rootless.sh runs it), the state directory is RootlessKit's random /tmp/rootlesskitNNN, found in its child's ROOTLESSKIT_STATE_DIR; the command under it with its PID; with --debug slirp4netns's output is in rootlesskit's stderr, and slirpmon says so")
    func slirp4netnsDriverWithoutStateDir() throws {
        let kit = try RootlessKitFixture(portDriver: .slirp4netns, command: ["sleep", "601"], extraFlags: ["--debug"], passStateDir: false, userName: Self.user)
        defer { checkNothingLeft(kit) }
        #expect(kit.stateDir.hasPrefix("/tmp/rootlesskit"), "\(kit.stateDir)")
        let rk = try #require(try row(pid: kit.slirpPID)["rootlesskit"] as? [String: Any])
        #expect(rk["port_driver"] as? String == "slirp4netns")
        #expect(rk["state_dir"] as? String == kit.stateDir)
        #expect(rk["state_dir_source"] as? String == "child_environment")
        #expect(rk["api_socket"] as? String == kit.stateDir + "/api.sock")
        #expect(rk["api_socket_listening"] as? Bool == true)
        let child = try #require(rk["child"] as? [String: Any])
        #expect(child["command"] as? [String] == ["sleep", "601"])
        let sleeper = try #require(child["command_pid"] as? Int)
        #expect((try? Files.readText("/proc/\(sleeper)/cmdline")) == "sleep\u{0}601\u{0}", "command_pid \(sleeper) runs the command")
        #expect(rk["log"] as? String == "rootlesskit's stderr (pid \(kit.pid), --debug: level=debug lines): \(kit.logPath)", "\(rk["log"] ?? "")")
        // And there it is: slirp4netns echoes each API request (rootlessctl's, here) to its stderr.
        let port = Int(try DemoFleet.freeTCPPort().value)
        let added = sh("rootlessctl", ["--socket", kit.stateDir + "/api.sock", "add-ports", "127.0.0.1:\(port):80/tcp"])
        #expect(added.status == 0, "\(added.combined)")
        #expect(eventually(5) { kit.log.contains("api_handler: got request") && kit.log.contains("\\\"host_port\\\":\(port)") }, "\(kit.log)")
        // show --json carries the same object (the detailed shape).
        let show = slirpmon(["show", String(kit.slirpPID), "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any], "\(show.stderr)")
        #expect((object["rootlesskit"] as? [String: Any])?["state_dir"] as? String == kit.stateDir)
    }

    @Test("a user's program named rootlesskit (a copy of bash, --state-dir=/root on its command line) with a slirp4netns child is not taken for RootlessKit: only the installed rootlesskit's executable counts, not the name")
    func fakeRootlessKitByName() throws {
        let fakeSlirp = try UserFakeSlirp.binary.get()
        let directory = (fakeSlirp as NSString).deletingLastPathComponent
        let fake = "\(directory)/rootlesskit"
        if !Files.exists(fake) {
            try #require(sh("cp", ["/bin/bash", fake]).status == 0)
            chmod(fake, 0o755)
        }
        let setpriv = try #require(Executables.find("setpriv"))
        // `; :` keeps bash from exec'ing the fake slirp4netns: it stays the parent.
        let script = "\(fakeSlirp) --mtu 65520 -r 3 $$ tap0; :"
        guard case .success(let pid) = Executables.spawn(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", fake, "-c", script,
                                                                   "--port-driver=slirp4netns", "--state-dir=/root"],
                                                         environment: ["PATH=/usr/bin:/bin"]) else {
            Issue.record("cannot start the fake rootlesskit")
            return
        }
        defer {
            for child in (try? RootlessKitFixture.children(of: pid)) ?? [] { kill(child, SIGKILL) }
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
        var slirp: Int32 = 0
        #expect(eventually(10) {
            slirp = ((try? RootlessKitFixture.children(of: pid)) ?? []).first { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" } ?? 0
            return slirp > 0
        }, "the fake's slirp4netns child started")
        #expect((try? Files.readText("/proc/\(pid)/comm")) == "rootlesskit\n", "the fake is named rootlesskit")
        let row = try row(pid: slirp)
        #expect(row["rootlesskit"] is NSNull, "not RootlessKit's: \(row["rootlesskit"] ?? "")")
        let list = slirpmon(["list", "--no-podman"])
        let line = list.stdout.split(separator: "\n").first { $0.hasPrefix("\(slirp) ") } ?? ""
        #expect(line.contains(" manual "), "listed as manual: \(line)")
    }

    @Test("root lists a user's Docker rootless (Debian's dockerd-rootless.sh, which passes no --state-dir) as rootlesskit running Docker rootless, with dockerd's PID (the one in $XDG_RUNTIME_DIR/docker.pid) and the random state dir from the child's environment")
    func dockerRootless() throws {
        let user = try RootlessKitFixture.prepareUser()
        let script = "/usr/share/docker.io/contrib/dockerd-rootless.sh"
        try #require(Files.exists(script) && Files.exists("/usr/sbin/dockerd"), "docker.io is not installed: run assets/setup.sh")
        let setpriv = try #require(Executables.find("setpriv"))
        let runtime = "/run/user/\(user.uid)", home = "/home/\(user.name)"
        let log = try SafeFiles.makePrivateDirectory(prefix: "smt-rkdocker")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let fd = open("\(log)/dockerd.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(fd) }
        // The script execs rootlesskit: the PID spawned is rootlesskit's.
        guard case .success(let pid) = Executables.spawn(setpriv, ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--", script],
                                                         descriptors: [1: fd, 2: fd],
                                                         environment: ["HOME=\(home)", "USER=\(user.name)", "XDG_RUNTIME_DIR=\(runtime)",
                                                                       "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DOCKER_HOST=unix://\(runtime)/docker.sock",
                                                                       "DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns"]) else {
            Issue.record("cannot start dockerd-rootless.sh")
            return
        }
        defer {
            kill(pid, SIGTERM)
            #expect(eventually(30) { !HostileUser.isAlive(pid) }, "rootlesskit \(pid) exits on SIGTERM")
            Executables.waitFor(pid)
            #expect(eventually(10) { RootlessKitFixture.userProcesses(uid: user.uid).isEmpty }, "no process of \(user.name) remains")
            sh("rm", ["-rf", "--one-file-system", "\(runtime)/docker", "\(runtime)/docker.pid", "\(runtime)/docker.sock", "\(home)/.local/share/docker"])
        }
        var dockerd: Int32 = 0
        let up = eventually(60) {
            dockerd = ((try? Files.readText("\(runtime)/docker.pid")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? 0
                : Int32(((try? Files.readText("\(runtime)/docker.pid")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            return dockerd > 0 && Files.exists("\(runtime)/docker.sock")
        }
        try #require(up, "dockerd rootless did not start: \((try? Files.readText("\(log)/dockerd.log")) ?? "")")
        let slirp = try #require(try RootlessKitFixture.children(of: pid).first { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" })
        let rk = try #require(try row(pid: slirp)["rootlesskit"] as? [String: Any])
        #expect(rk["pid"] as? Int == Int(pid))
        #expect(rk["port_driver"] as? String == "builtin")
        #expect((rk["state_dir"] as? String)?.hasPrefix("/tmp/rootlesskit") == true, "\(rk["state_dir"] ?? "")")
        #expect(rk["state_dir_source"] as? String == "child_environment")
        #expect(rk["api_socket_listening"] as? Bool == true)
        #expect((rk["child"] as? [String: Any])?["kind"] as? String == "docker")
        #expect(rk["dockerd_pid"] as? Int == Int(dockerd))
        #expect(rk["docker_socket"] as? String == "\(runtime)/docker.sock")
        let show = slirpmon(["show", String(slirp)])
        #expect(show.stdout.contains("runs:      Docker rootless (dockerd pid \(dockerd), socket \(runtime)/docker.sock)"), "\(show.stdout)")
        try SchemaValidator().expectValid(slirpmon(["list", "--json", "--no-podman"]), as: "list", "list --json with Docker rootless")
    }
}
