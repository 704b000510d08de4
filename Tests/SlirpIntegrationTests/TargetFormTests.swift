import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A TARGET that matches more than one thing (a PID and a container named with its digits, a name
/// and the start of another container's ID) is refused with every candidate and the explicit form
/// that names it alone; `pid:N`, `name:NAME`, `id:PREFIX`, `pod:NAME` name one kind and never fall
/// back to another. Real slirp4netns, real rootful Podman.
@Suite("TARGET: a PID, a name, an ID prefix or a pod, never a guess between them")
struct TargetFormTests {
    /// The forwards an API socket lists, asked directly (not through slirpmon).
    func listed(_ socket: String, pid: Int32) throws -> [HostForward] {
        try APIClient(socketPath: socket, expectedPID: pid).list()
    }

    /// The slirp4netns of the rootful container with `id` (the process whose files name it).
    func slirpOf(container id: String) throws -> SlirpProcess {
        try #require(eventually(10) { (try? ProcessScanner().scan())?.contains { $0.containerID == id && !$0.isZombie } == true },
                     "no slirp4netns for container \(id)")
        return try #require(try ProcessScanner().scan().first { $0.containerID == id && !$0.isZombie })
    }

    func requireTools() throws {
        try #require(isRoot, "these tests run as root (ip netns, rootful Podman)")
        try #require(PodmanFixture.available, "needs podman and busybox-static (apt-get install podman runc uidmap busybox-static)")
        try PodmanFixture.prepare()
    }

    @Test("a container named with a running slirp4netns's PID: show and fwd add refuse, naming both with pid: and name:, and add nothing; each form then chooses its own")
    func pidAndContainerNameAreBothNamed() throws {
        try requireTools()
        let lab = try TestLab("tgtp")
        let hand = try lab.start(.init(name: "h"))
        let handSocket = try #require(hand.apiSocket)
        let name = String(hand.pid)
        let podmanPort = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                                        "-p", "127.0.0.1:\(podmanPort):80", PodmanFixture.image, "sleep", "600"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try #require(run.status == 0, "\(run.stderr)")
        let id = try #require(run.stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) })
        let slirp = try slirpOf(container: id)
        let containerSocket = "/run/libpod/\(id).net"
        try #require(try listed(containerSocket, pid: slirp.pid).count == 1, "Podman's own -p")

        // Ambiguous: both candidates, each with its user and the form that names it alone; exit 1 like an ambiguous prefix.
        let show = slirpmon(["show", name])
        #expect(show.status == 1, "\(show.stdout)\(show.stderr)")
        #expect(show.stdout.isEmpty, "nothing shown: \(show.stdout)")
        #expect(show.stderr.contains("pid:\(hand.pid) (slirp4netns pid \(hand.pid) of root, started by hand)"), "\(show.stderr)")
        #expect(show.stderr.contains("name:\(name) (container \(name) (\(Format.shortID(id))) of root, slirp4netns pid \(slirp.pid))"), "\(show.stderr)")
        #expect(show.stderr.split(separator: "\n").count == 1, "one line: \(show.stderr)")

        let port = Int(try DemoFleet.freeTCPPort().value)
        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(port):80"])
        #expect(add.status == 1, "\(add.stdout)\(add.stderr)")
        #expect(add.stderr.contains("pid:\(hand.pid)") && add.stderr.contains("name:\(name)") && add.stderr.contains("nothing was sent"), "\(add.stderr)")
        #expect(try listed(handSocket, pid: hand.pid).isEmpty, "nothing added to the hand-started instance")
        #expect(try listed(containerSocket, pid: slirp.pid).map(\.hostPort) == [podmanPort], "nothing added to the container's")
        let rm = slirpmon(["fwd", "rm", name, "all"])
        #expect(rm.status == 1 && rm.stderr.contains("name:\(name)"), "fwd rm refuses too: \(rm.stderr)")
        #expect(try listed(containerSocket, pid: slirp.pid).map(\.hostPort) == [podmanPort], "nothing removed")

        // pid:N chooses the hand-started instance, name:X the container: proven by each API's list.
        let byPID = slirpmon(["show", "pid:\(hand.pid)"])
        #expect(byPID.status == 0 && byPID.stdout.contains("container: none (started by hand)"), "\(byPID.stdout)\(byPID.stderr)")
        let byName = slirpmon(["show", "name:\(name)"])
        #expect(byName.status == 0 && byName.stdout.contains("container: \(name) (\(Format.shortID(id)))"), "\(byName.stdout)\(byName.stderr)")
        let toHand = slirpmon(["fwd", "add", "pid:\(hand.pid)", "127.0.0.1:\(port):80"])
        #expect(toHand.status == 0, "\(toHand.stderr)")
        #expect(try listed(handSocket, pid: hand.pid).map(\.hostPort) == [port])
        let other = Int(try DemoFleet.freeTCPPort().value)
        let toContainer = slirpmon(["fwd", "add", "name:\(name)", "127.0.0.1:\(other):80"])
        #expect(toContainer.status == 0, "\(toContainer.stderr)")
        #expect(try listed(containerSocket, pid: slirp.pid).map(\.hostPort).sorted() == [podmanPort, other].sorted())
        #expect(try listed(handSocket, pid: hand.pid).map(\.hostPort) == [port], "the hand-started one got nothing more")
        let logByID = slirpmon(["log", "id:\(id)"])
        #expect(logByID.status == 0 && logByID.stdout.contains("\(other)"), "log id:ID is the container's log: \(logByID.stderr)")
    }

    @Test("an explicit form never falls back to another kind: name:, id: and pod: of a PID's digits find nothing; a malformed form is invalid usage, in words")
    func explicitFormsDoNotFallBack() throws {
        try requireTools()
        let lab = try TestLab("tgtf")
        let hand = try lab.start(.init(name: "h"))
        let digits = String(hand.pid)
        #expect(slirpmon(["show", digits]).status == 0, "the bare PID names it (no container has its digits)")
        for form in ["name:\(digits)", "id:\(digits)", "pod:\(digits)"] {
            let out = slirpmon(["show", form])
            #expect(out.status == 1, "\(form): \(out.stdout)")
            #expect(out.stderr.contains("no slirp4netns instance matches \"\(form)\""), "\(form): \(out.stderr)")
        }
        // Malformed forms: invalid usage (exit 2), in words, before anything is read or sent.
        let cases: [(String, String)] = [("pid:", "nothing after pid:"), ("pid:12x", "a PID is a number"), ("pid:-5", "a PID is a number"),
                                         ("pid:0", "a PID is a number"), ("name:", "nothing after name:"), ("id:", "nothing after id:"),
                                         ("id:xyz", "hexadecimal"), ("pod:", "nothing after pod:"), ("ip:10.0.2.2", "unknown form \"ip:\"")]
        for (target, words) in cases {
            for args in [["show", target], ["fwd", "add", target, "127.0.0.1:18999:80"], ["log", target]] {
                let out = slirpmon(args)
                #expect(out.status == 2, "\(args): \(out.stderr)")
                #expect(out.stderr.contains(words), "\(args): \(out.stderr)")
            }
        }
        #expect(!apiRequests(pid: hand.pid).contains { $0.contains("add_hostfwd") }, "no fwd add reached slirp4netns")
    }

    @Test("a container named like the start of another container's ID: show and doctor refuse it, naming both; name: and id: choose")
    func nameThatStartsAnotherIDIsRefused() throws {
        try requireTools()
        let first = PodmanFixture.name("tgti")
        let created = PodmanFixture.podman(["create", "--name", first, "--network", "slirp4netns", PodmanFixture.image, "true"])
        defer { PodmanFixture.podman(["rm", "-f", first]) }
        try #require(created.status == 0, "\(created.stderr)")
        let id = try #require(created.stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) })
        let prefix = String(id.prefix(10))
        let second = PodmanFixture.podman(["create", "--name", prefix, "--network", "slirp4netns", PodmanFixture.image, "true"])
        defer { PodmanFixture.podman(["rm", "-f", prefix]) }
        try #require(second.status == 0, "\(second.stderr)")

        let show = slirpmon(["show", prefix])
        #expect(show.status == 1)
        #expect(show.stderr.contains("name:\(prefix) (container \(prefix)") && show.stderr.contains("id:\(Format.shortID(id)) (container \(first)"), "\(show.stderr)")
        let doctor = slirpmon(["doctor", prefix, "--no-trial"])
        #expect(doctor.status == 1, "\(doctor.stdout)")
        #expect(doctor.stderr.contains("name:\(prefix)") && doctor.stderr.contains("id:\(Format.shortID(id))"), "\(doctor.stderr)")
        let byName = slirpmon(["doctor", "name:\(prefix)", "--no-trial"])
        #expect(byName.stdout.contains("container \(prefix) ("), "\(byName.stdout)\(byName.stderr)")
        let byID = slirpmon(["doctor", "id:\(prefix)", "--no-trial"])
        #expect(byID.stdout.contains("container \(first) (\(Format.shortID(id)))"), "\(byID.stdout)\(byID.stderr)")
        let pidForm = slirpmon(["doctor", "pid:1", "--no-trial"])
        #expect(pidForm.status == 2 && pidForm.stderr.contains("the doctor examines a container"), "\(pidForm.stderr)")
        // show by each form: a container that never started, said so.
        let shown = slirpmon(["show", "id:\(prefix)"])
        #expect(shown.status == 1 && shown.stderr.contains("container \"\(first)\" has no running slirp4netns"), "\(shown.stderr)")
    }

    @Test("the name `list` prints for a pod, pod:NAME, is a TARGET, as is pod:ID; name: of the pod's name finds no container")
    func podFormIsWhatListPrints() throws {
        try requireTools()
        let pod = PodmanFixture.name("tgtpod")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let create = PodmanFixture.podman(["pod", "create", "--name", pod, "--network", "slirp4netns:port_handler=slirp4netns", "-p", "127.0.0.1:\(port):80"])
        defer { PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod]) }
        try #require(create.status == 0, "\(create.stderr)")
        let podID = try #require(create.stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) })
        let run = PodmanFixture.podman(["run", "-d", "--pod", pod, "--name", "\(pod)-m", PodmanFixture.image, "sleep", "600"])
        try #require(run.status == 0, "\(run.stderr)")
        let listed = slirpmon(["list", "--no-cache"]).stdout
        let word = try #require(listed.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0 == "pod:\(pod)" }.map(String.init), "list names the pod pod:NAME: \(listed)")
        for target in [word, "pod:\(podID.prefix(12))", pod, "\(pod)-m", "name:\(pod)-m"] {
            let show = slirpmon(["show", target])
            #expect(show.status == 0 && show.stdout.contains("pod:       \(pod)"), "show \(target): \(show.stdout)\(show.stderr)")
        }
        let byName = slirpmon(["show", "name:\(pod)"])
        #expect(byName.status == 1 && byName.stderr.contains("no slirp4netns instance matches"), "\(byName.stderr)")
    }

    @Test("pid:N of a process that is not a slirp4netns scans /proc to name the ones running, as --help and the README say; of a slirp4netns, it reads that one only")
    func pidFormScansOnlyWhenItNamesNoSlirp() throws {
        try #require(isRoot, "these tests run as root (ip netns)")
        let lab = try TestLab("tgtn")
        let hand = try lab.start(.init(name: "n"))
        let notSlirp = getpid()
        let out = slirpmon(["show", "pid:\(notSlirp)"])
        #expect(out.status == 1, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("no slirp4netns instance matches \"pid:\(notSlirp)\"; running: ") && out.stderr.contains("pid \(hand.pid)"),
                "the running ones, found by a scan: \(out.stderr)")
        #expect(slirpmon(["show", "pid:\(hand.pid)"]).status == 0)
        let help = slirpmon(["show", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        for words in ["pid:N of a slirp4netns reads that process only (no scan, no Podman)",
                      "when N is not one, /proc is scanned (Podman is not asked) to list the slirp4netns running in the error"] {
            #expect(help.contains(words), "show --help lacks \"\(words)\": \(help)")
        }
    }

    @Test("--help of every command that takes a TARGET names the PID, name, ID prefix and pod, the explicit forms and the refusal of an ambiguous one")
    func helpStatesTheRules() throws {
        for command in [["show"], ["log"], ["fwd", "list"], ["fwd", "add"], ["fwd", "rm"], ["dns"]] {
            let out = slirpmon(command + ["--help"])
            #expect(out.status == 0)
            let text = out.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
            for words in ["container name", "pod name", "pid:N, name:NAME, id:PREFIX, pod:NAME", "is refused, exit 1, nothing sent",
                          "never fall back", "a container named with a PID's digits"] {
                #expect(text.contains(words), "\(command) --help lacks \"\(words)\": \(out.stdout)")
            }
        }
        let root = slirpmon(["--help"]).stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(root.contains("container name") && root.contains("pid:N, name:NAME, id:PREFIX, pod:NAME"), "\(root)")
        let doctor = slirpmon(["doctor", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(doctor.contains("name:NAME or id:PREFIX"), "\(doctor)")
    }
}
