import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

@Suite("Podman containers and pods, rootful and rootless", .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"))
struct PodmanTests {
    func listRows() throws -> [[String: Any]] {
        let out = slirpmon(["list", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
    }

    func row(named name: String, in rows: [[String: Any]]) -> [String: Any]? {
        rows.first { ($0["container"] as? [String: Any])?["name"] as? String == name }
    }

    @Test("a container removed between podman ps and inspect costs only its own details: the others keep their create command")
    func inspectSurvivesAContainerRemovedMeanwhile() throws {
        try PodmanFixture.prepare()
        let kept = PodmanFixture.name("insk"), removed = PodmanFixture.name("insr")
        for name in [kept, removed] {
            let created = PodmanFixture.podman(["create", "--name", name, PodmanFixture.image, "true"])
            try #require(created.status == 0, "\(created.stderr)")
        }
        // --ignore: without it Podman 4.3 removes neither when one is gone already (exit 0), and `kept` stayed.
        defer { PodmanFixture.podman(["rm", "-f", "--ignore", kept, removed]) }
        let ids = try [kept, removed].map { name in
            try #require(PodmanFixture.podman(["container", "inspect", "--format", "{{.Id}}", name]).stdout.split(separator: "\n").first.map(String.init))
        }
        try #require(PodmanFixture.podman(["rm", "-f", removed]).status == 0)
        let cli = PodmanCLI(binary: try #require(PodmanCLI.installed()))
        let inspected = cli.inspect(ids)
        #expect(inspected[ids[0]]?["Config"]?["CreateCommand"]?.strings?.contains(kept) == true,
                "the container still there lost its details with the one removed: \(inspected.keys)")
        #expect(inspected[ids[1]] == nil)
    }

    @Test("a rootful container with port_handler=slirp4netns: named, joined, and a live forward reaches its web server")
    func rootfulContainerLiveForward() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("web")
        let configured = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns,mtu=1500",
                                        "-p", "127.0.0.1:\(configured):80", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        #expect(run.status == 0, "\(run.stderr)")

        let rows = try listRows()
        let entry = try #require(row(named: name, in: rows))
        let container = try #require(entry["container"] as? [String: Any])
        #expect(container["image"] as? String == PodmanFixture.image + ":latest")
        #expect(container["state"] as? String == "running")
        #expect(container["network_options"] as? [String] == ["port_handler=slirp4netns", "mtu=1500"])
        #expect(entry["port_handler"] as? String == "slirp4netns")
        #expect(entry["mtu"] as? Int == 1500)
        #expect(entry["forward_count"] as? Int == 1, "Podman added its -p through the API")
        #expect(entry["api_socket_status"] as? String == "held")

        // Podman cannot add a port to a running container; slirpmon can, by name.
        let live = Int(try DemoFleet.freeTCPPort().value)
        #expect(PodmanFixture.httpGet(port: live) == nil)
        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(live):80"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true, "HTTP through the new forward")

        let show = slirpmon(["show", name])
        #expect(show.stdout.contains("container: \(name)"))
        #expect(show.stdout.contains("(live only: not persisted)"))
        #expect(show.stdout.contains("-p 127.0.0.1:\(live):80/tcp"), "a ready line to make it permanent")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(slirpmon(["show", name, "--json"]).stdout.utf8)) as? [String: Any])
        #expect(json["unpersisted_forward_ids"] as? [Int] == [2])
        #expect((json["persist_command"] as? String)?.contains("podman run -p 127.0.0.1:\(live):80/tcp") == true)
    }

    @Test("a rootful container with the default rootlesskit handler: rootlessport found, live forwards explained as impossible")
    func rootlesskitHandler() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("rlk")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns", "-p", "127.0.0.1:\(port):80",
                                        PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(PodmanFixture.httpGet(port: port)?.contains("slirpmon-fixture") == true, "rootlessport carries the configured port")

        let entry = try #require(row(named: name, in: try listRows()))
        #expect(entry["port_handler"] as? String == "rootlesskit")
        #expect(entry["api_socket"] is NSNull)
        #expect((entry["rootlessport_pids"] as? [Int])?.isEmpty == false)
        let show = slirpmon(["show", name])
        #expect(show.stdout.contains("carried by rootlessport pid"))
        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(port + 1):80"])
        #expect(add.status == 1)
        #expect(add.stderr.contains("port_handler=slirp4netns"))
    }

    @Test("a pod: its infra container's slirp4netns is listed as the pod, with its members; a member name is a target")
    func podSharesInfraNetwork() throws {
        try PodmanFixture.prepare()
        let pod = PodmanFixture.name("pod")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let create = PodmanFixture.podman(["pod", "create", "--name", pod, "--network", "slirp4netns:port_handler=slirp4netns",
                                           "-p", "127.0.0.1:\(port):80"])
        defer { PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod]) }
        #expect(create.status == 0, "\(create.stderr)")
        let member = "\(pod)-web"
        let run = PodmanFixture.podman(["run", "-d", "--pod", pod, "--name", member, PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        #expect(run.status == 0, "\(run.stderr)")

        let rows = try listRows()
        let infra = try #require(rows.first { ($0["container"] as? [String: Any])?["pod_name"] as? String == pod && ($0["container"] as? [String: Any])?["infra"] as? Bool == true })
        #expect((infra["container"] as? [String: Any])?["members"] as? [String] == [member])
        let text = slirpmon(["list"])
        #expect(text.stdout.contains("pod:\(pod)"))
        let show = slirpmon(["show", member])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("members: \(member)"))
        #expect(PodmanFixture.httpGet(port: port)?.contains("slirpmon-fixture") == true)
    }

    @Test("a container whose slirp4netns failed to start (mtu=65530) is listed as failed, with its options")
    func failedStartupListed() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("bad")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:mtu=65530", "-p", "127.0.0.1:\(port):80",
                                        PodmanFixture.image, "sleep", "100"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        #expect(run.status != 0)
        #expect(run.stderr.contains("MTU must be a positive integer"))

        let entry = try #require(try listRows().first {
            $0["kind"] as? String == "container-without-slirp4netns" && ($0["container"] as? [String: Any])?["name"] as? String == name
        })
        #expect(entry["failure"] as? Bool == true)
        #expect((entry["reason"] as? String)?.contains("never started") == true)
        #expect((entry["container"] as? [String: Any])?["network_options"] as? [String] == ["mtu=65530"])
        #expect((entry["container"] as? [String: Any])?["state"] as? String == "created")
        let text = slirpmon(["list"])
        #expect(text.stdout.contains("without a running slirp4netns"), "stderr: \(text.stderr)")
        let target = slirpmon(["fwd", "list", name])
        #expect(target.status == 1)
        #expect(target.stderr.contains("has no running slirp4netns (state created)"))
    }

    @Test("a rootless user's containers are listed for root, under that user, with observed addresses")
    func rootlessUserContainers() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("rl")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                                        "-p", "127.0.0.1:\(port):80", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"], user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        #expect(run.status == 0, "\(run.stderr)")

        let entry = try #require(row(named: name, in: try listRows()))
        #expect(entry["user"] as? String == user.name)
        #expect((entry["container"] as? [String: Any])?["owner"] as? String == user.name)
        #expect((entry["api_socket"] as? String)?.hasPrefix("/run/user/\(user.uid)/libpod/tmp/") == true)

        // The rootless netns file is a mount only in slirp4netns's mount namespace: still read.
        let show = try #require(try JSONSerialization.jsonObject(with: Data(slirpmon(["show", name, "--json"]).stdout.utf8)) as? [String: Any])
        let guest = (show["addresses"] as? [[String: Any]])?.first { $0["role"] as? String == "guest" }
        #expect(guest?["status"] as? String == "match", "\(show["observe_error"] ?? "")")

        let live = Int(try DemoFleet.freeTCPPort().value)
        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(live):80"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true)
    }

    @Test("as root, the doctor examines a rootless user's failed container as that user")
    func doctorRunsAsTheOwner() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("rldoc")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:mtu=65530", "-p", "127.0.0.1:\(port):80",
                                        PodmanFixture.image, "sleep", "100"], user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        #expect(run.status != 0)
        var dir = (slirpmonBinary as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty { chmod(dir, (try? Files.status(dir).st_mode).map { $0 | 0o005 } ?? 0o755); dir = (dir as NSString).deletingLastPathComponent }
        let out = slirpmon(["doctor", name, "--json"], timeout: 90)
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.stderr.contains("examining it as \(user.name)"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stdout)")
        let text = String(describing: report)
        #expect(text.contains("mtu-too-large"), "\(text.prefix(600))")
        #expect(text.contains("rootless"))
    }

    @Test("the monitor's catalog asks Podman again when Podman's state changes, not on every refresh")
    func catalogAsksAgainOnlyWhenPodmanStateChanges() throws {
        try PodmanFixture.prepare()
        let real = try #require(Executables.find("podman"))
        // The real podman behind a wrapper that counts the calls.
        let directory = "/tmp/\(PodmanFixture.name("catalog"))"
        mkdir(directory, 0o755)
        defer {
            for name in (try? Files.directoryEntries(directory)) ?? [] { unlink("\(directory)/\(name)") }
            rmdir(directory)
        }
        let wrapper = "\(directory)/podman", calls = "\(directory)/calls"
        try Files.write("#!/bin/sh\necho \"$1\" >> \(calls)\nexec \(real) \"$@\"\n", to: wrapper)
        chmod(wrapper, 0o755)
        func asked() -> Int { ((try? Files.readText(calls)) ?? "").split(separator: "\n").filter { $0 == "ps" }.count }

        let first = PodmanFixture.name("cat1"), second = PodmanFixture.name("cat2")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", first, second]) }
        #expect(PodmanFixture.podman(["create", "--name", first, "--network", "slirp4netns", PodmanFixture.image, "true"]).status == 0)
        usleep(300_000) // an answer is kept only once Podman's state files are a quarter second old
        let catalog = PodmanCatalog(maxAge: 3600, binary: wrapper)
        let processes = try ProcessScanner().scan()
        let users = PodmanCatalog.usersToAsk(processes: processes)
        func stateKey() -> String { PodmanDiskCache.key(binary: wrapper, processes: processes, users: users) }

        #expect(catalog.snapshot(for: processes).containers.contains { $0.name == first })
        let afterFirst = asked()
        #expect(afterFirst >= 1, "the first refresh asks Podman")
        // Other tests run Podman at the same time: the claim holds for two refreshes between which
        // Podman's state was settled (not written in the last moments) and stayed the same. Wait
        // for such a pair rather than check it only when one happens to come first.
        var quietPairs = 0, askedAgain = 0
        let deadline = Deadline.after(seconds: 120)
        while quietPairs < 1 && !deadline.hasPassed {
            let before = PodmanDiskCache.state(binary: wrapper, processes: processes, users: users)
            _ = catalog.snapshot(for: processes) // asks again only if the state moved since the last answer
            let between = asked()
            let keyBetween = stateKey()
            _ = catalog.snapshot(for: processes)
            if before.settled && before.key == keyBetween && stateKey() == keyBetween {
                quietPairs += 1
                if asked() != between { askedAgain += 1 }
            } else {
                usleep(200_000)
            }
        }
        #expect(quietPairs == 1, "Podman's state never stayed still for two refreshes in 120 s: the claim was not checked")
        #expect(askedAgain == 0, "nothing changed: Podman is not asked again (\(asked()) calls)")
        let afterQuiet = asked()
        #expect(PodmanFixture.podman(["create", "--name", second, "--network", "slirp4netns", PodmanFixture.image, "true"]).status == 0)
        let after = catalog.snapshot(for: processes)
        #expect(asked() > afterQuiet, "a new container changed Podman's state: asked again")
        #expect(after.containers.contains { $0.name == second }, "and the new container is there at once")
    }

    @Test("without Podman everything else works; a failing Podman is one line, not an empty list")
    func podmanAbsentOrFailing() throws {
        let lab = try TestLab("nopod")
        let instance = try lab.start(.init(name: "n"))
        // PATH without podman: slirpmon still lists the instance.
        let noPodman = Executables.run(slirpmonBinary, ["list"], timeout: 30, environment: ["PATH=/nonexistent"])
        guard case .success(let out) = noPodman else { Issue.record("could not run slirpmon"); return }
        #expect(out.status == 0)
        #expect(out.stdout.contains(String(instance.pid)))
        #expect(out.stderr.isEmpty)

        // A Podman that fails (a broken containers.conf): one line on stderr, the list still printed.
        let broken = "\(lab.lab.directory)/broken.conf"
        try Files.write("[engine\nthis is not toml", to: broken)
        defer { unlink(broken) }  // the lab removes only an empty directory
        let env = ["PATH=/usr/bin:/bin:/usr/sbin:/sbin", "CONTAINERS_CONF=\(broken)"]
        guard case .success(let failing) = Executables.run(slirpmonBinary, ["list", "--no-forwards"], timeout: 30, environment: env) else {
            Issue.record("could not run slirpmon"); return
        }
        #expect(failing.status == 0)
        #expect(failing.stdout.contains(String(instance.pid)))
        let lines = failing.stderr.split(separator: "\n")
        #expect(lines.count >= 1 && lines.allSatisfy { $0.hasPrefix("slirpmon: ") && $0.contains("podman") }, "\(failing.stderr)")
        // The doctor names no container then, and says Podman's failure may be why, as show and fwd do.
        guard case .success(let doctor) = Executables.run(slirpmonBinary, ["doctor", "name:smt-nopod-none"], timeout: 60, environment: env) else {
            Issue.record("could not run slirpmon"); return
        }
        #expect(doctor.status == 1 && doctor.stderr.contains("no container matches") && doctor.stderr.contains("Podman's answer was incomplete"),
                "\(doctor.stderr)")
    }
}
