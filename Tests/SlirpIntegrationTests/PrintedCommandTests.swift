import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// Every command slirpmon prints for an operator to paste does what it says and nothing else:
/// each word it did not write itself is quoted (`Shell`), and a command for another user's
/// instance runs as that user through sh (`Acting.asOwner`), or, when no line can switch to
/// that user, is a comment that does nothing when pasted.
@Suite("Printed commands run as printed, as whom they say", .serialized)
struct PrintedCommandTests {
    /// Words a user controls that a shell would otherwise run, split or expand.
    static let hostileWords = ["$(id)", "`id`", "a;touch /tmp/smt-never", "it's", "two words", "=cmd", "~root", "*", "", "x\\y", "a\"b"]

    /// The words `command` holds, as sh reads it (`set --` expands them without running a command).
    static func words(of command: String, in directory: String = "/") -> Executables.Output {
        sh("sh", ["-c", "cd \(Shell.quoted(directory)) && set -- \(command); printf '%s\\n' \"$#\"; printf '%s\\0' \"$@\""])
    }

    @Test("a word holding $(id), ;, ' or a space reaches the command as one literal word")
    func hostileWordsStayOneWord() {
        let command = Shell.command(["printf", "%s"] + Self.hostileWords)
        let out = Self.words(of: command)
        #expect(out.status == 0, "\(command): \(out.stderr)")
        let parts = out.stdout.split(separator: "\n", maxSplits: 1).map(String.init)
        #expect(parts.first == String(2 + Self.hostileWords.count), "\(command) -> \(out.stdout)")
        #expect(parts.last?.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init) == ["printf", "%s"] + Self.hostileWords,
                "\(command) -> \(out.stdout)")
    }

    @Test("root's command for a user whose login shell is nologin runs as that user, through sh, its words intact")
    func runsAsOwnerThroughShEvenWithNologin() throws {
        let nobody = try #require(getpwnam("nobody"), "needs the user nobody")
        try #require(String(cString: nobody.pointee.pw_shell).hasSuffix("nologin"), "this test needs nobody's shell to be nologin")
        try #require(isRoot, "needs root (runuser)")
        let acting = try #require(Acting(actor: 0, owner: nobody.pointee.pw_uid, ownerName: "nobody"))
        let command = acting.asOwner(Shell.command(["sh", "-c", "id -un; printf '%s\\n' \"$@\"", "sh"] + Self.hostileWords))
        // Run exactly as printed, by root's shell, from a directory nobody may enter (runuser -l changes it).
        let out = sh("sh", ["-c", "cd /root && " + command], timeout: 30)
        #expect(out.status == 0, "\(command): \(out.stderr)")
        #expect(out.stdout == (["nobody"] + Self.hostileWords).map { $0 + "\n" }.joined(), "\(command) -> \(out.stdout) \(out.stderr)")
    }

    @Test("root's command for an owner known by uid only is a comment that says whom it must run as, and does nothing pasted")
    func uidOnlyOwnerGetsACommentNotABareCommand() throws {
        let dir = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: "smt-uidonly-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let acting = try #require(Acting(actor: 0, owner: 4_242_424, ownerName: nil))
        let command = acting.asOwner(Shell.command(["touch", "\(dir)/ran"]))
        #expect(command.hasPrefix("# run as uid 4242424, not as root"), "\(command)")
        #expect(command.hasSuffix(": touch \(dir)/ran"), "\(command)")
        let out = sh("sh", ["-c", command])
        #expect(out.status == 0 && !Files.exists("\(dir)/ran"), "pasted, it ran: \(command) \(out.stderr)")

        let other = try #require(Acting(actor: 1234, owner: 4_242_424, ownerName: "someone"))
        #expect(other.asOwner("podman ps -a") == "# run as someone: podman ps -a")
    }

    @Test("a user's socket path holding ; and a command is quoted in the fix that says where to look, and in the defunct fix that restarts it")
    func userControlledPathIsQuotedInFixes() throws {
        try #require(isRoot, "needs root (ip netns, mount namespaces)")
        let lab = try TestLab("pcq")
        let planted = "\(lab.lab.directory)/planted"
        // `touch planted` (no slash: the path's directory must exist) runs in the lab's directory.
        let socket = "\(lab.lab.directory)/a;touch planted;.sock"
        defer { unlink(socket); unlink(planted) }  // the lab removes only an empty directory
        var spec = SlirpLab.Spec(name: "q", apiSocket: false)
        spec.extraArguments = ["--api-socket", socket]
        let instance = try lab.lab.start(spec)
        let kept = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: "smt-kept-pcq-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: kept) }
        try #require(DefunctTruthTests.slirpmon(keptIn: kept, ["list", "--json", "--no-podman"]).status == 0)

        // The path replaced by a plain file: not held, and the fix names the path to look at.
        try #require(unlink(socket) == 0)
        try Files.write("not a socket\n", to: socket)
        let held = try DefunctTruthTests.show(DefunctTruthTests.slirpmon(keptIn: kept, ["show", String(instance.pid), "--json"]))
        let socketFix = try #require((held["findings"] as? [[String: Any]])?.first { $0["check"] as? String == "api-socket" }
            .flatMap { ($0["cause"] as? [String: Any])?["fix"] as? String }, "\(held["findings"] ?? "")")
        let look = try #require(socketFix.components(separatedBy: "find what replaced the path (").last.map { String($0.dropLast()) }, "\(socketFix)")
        let listed = sh("sh", ["-c", "cd \(Shell.quoted(lab.lab.directory)) && \(look)"])
        #expect(listed.status == 0 && !Files.exists(planted), "run as printed, `\(look)` ran more than ls: \(listed.stderr)")
        #expect(listed.stdout.contains(socket), "\(look): \(listed.stdout)")

        // Killed and not reaped: the fix gives its command line back, each argument one word.
        lab.lab.signal(instance, SIGKILL)
        try #require(eventually { (try? Files.readText("/proc/\(instance.pid)/stat"))?.contains(") Z ") == true }, "pid \(instance.pid) is not defunct")
        let dead = try DefunctTruthTests.show(DefunctTruthTests.slirpmon(keptIn: kept, ["show", String(instance.pid), "--json"]))
        let fix = try #require((dead["findings"] as? [[String: Any]])?.first { $0["check"] as? String == "process" }
            .flatMap { ($0["cause"] as? [String: Any])?["fix"] as? String }, "\(dead["findings"] ?? "")")
        let startAgain = try #require(fix.components(separatedBy: "its command line, last seen: ").last?.components(separatedBy: "); the defunct entry").first, "\(fix)")
        let out = Self.words(of: startAgain, in: lab.lab.directory)
        #expect(out.status == 0 && !Files.exists(planted), "\(startAgain): \(out.stderr)")
        let words = out.stdout.split(separator: "\n", maxSplits: 1).last?.split(separator: "\0").map(String.init)
        #expect(words == instance.arguments, "\(startAgain) -> \(words ?? [])")
    }

    /// What `slirpmon show TARGET` prints to make live forwards permanent: the line above the
    /// steps, the steps (indented lines under it) and `show --json`'s `persist_steps`.
    static func persistSteps(_ target: String) throws -> (intro: String, steps: [String], json: [String]?) {
        let show = slirpmon(["show", target])
        let lines = show.stdout.split(separator: "\n").map(String.init)
        let intro = try #require(lines.firstIndex { $0.hasPrefix("to make the live forwards permanent") }, "\(show.stdout)\(show.stderr)")
        let steps = lines[(intro + 1)...].prefix { $0.hasPrefix("  ") }.map { String($0.dropFirst(2)) }
        let json = try JSONSerialization.jsonObject(with: Data(slirpmon(["show", target, "--json"]).stdout.utf8)) as? [String: Any]
        return (lines[intro], steps, json?["persist_steps"] as? [String])
    }

    /// Real Podman prepared, a unique name from `base`, and two different free TCP ports: one
    /// configured with `-p`, one added live.
    static func podmanScene(_ base: String) throws -> (name: String, port: Int, live: Int) {
        try #require(PodmanFixture.available, "needs root, podman and busybox (bash assets/setup.sh)")
        try PodmanFixture.prepare()
        let port = Int(try DemoFleet.freeTCPPort().value)
        var live = Int(try DemoFleet.freeTCPPort().value)
        while live == port { live = Int(try DemoFleet.freeTCPPort().value) }
        return (PodmanFixture.name(base), port, live)
    }

    /// `steps` run as printed, by root's sh, from a directory a rootless owner may not enter,
    /// stopping at the first step that fails.
    static func runAsPrinted(_ steps: [String]) -> Executables.Output {
        sh("sh", ["-c", "cd /root && set -e\n" + steps.joined(separator: "\n")], timeout: 180)
    }

    /// `command` as slirpmon prints it for `user`'s instance when root runs it.
    static func asUser(_ user: (name: String, uid: UInt32)?, _ command: String) -> String {
        user.map { "runuser -l \($0.name) -s /bin/sh -c \(Shell.quoted(command))" } ?? command
    }

    @Test("a container's live forward is kept by the printed steps run as printed: removed, created again with the forward, and both ports serve")
    func containersPrintedStepsRunAsPrinted() throws {
        let (name, port, live) = try Self.podmanScene("pcweb")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        let run = PodmanFixture.runWebServer(name, port: port)
        try #require(run.status == 0, "\(run.stderr)")
        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(live):80"])
        try #require(add.status == 0, "\(add.stderr)")

        let (intro, steps, json) = try Self.persistSteps(name)
        #expect(intro.contains("they stop container \(name) and create it again: what it wrote outside its volumes is lost"), "\(intro)")
        #expect(steps.count == 2 && steps.first == "podman rm -f \(name)", "\(steps)")
        #expect(steps.last?.contains("podman run -p 127.0.0.1:\(live):80/tcp -d --name \(name) ") == true, "\(steps)")
        #expect(json == steps, "show --json's persist_steps: \(json ?? [])")

        let ran = Self.runAsPrinted(steps)
        #expect(ran.status == 0, "\(steps): \(ran.stderr)")
        #expect(eventually(20) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true }, "the kept forward does not serve")
        #expect(PodmanFixture.httpGet(port: port)?.contains("slirpmon-fixture") == true, "the configured port was lost")
        let after = slirpmon(["show", name])
        #expect(after.stdout.contains("(live only: not persisted)") == false, "\(after.stdout)")
    }

    @Test("a pod's live forward is kept by the printed steps run as printed: the pod is removed whole (its infra cannot be removed alone), created again with its old ports and the forward, and its members with it")
    func podsPrintedStepsRunAsPrinted() throws {
        try podPersistRunAsPrinted(user: nil)
    }

    @Test("root's printed steps for a rootless user's pod run as that user and bring the pod back as the user's, with the forward and its members")
    func rootlessPodsPrintedStepsRunAsPrinted() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox (bash assets/setup.sh)")
        try podPersistRunAsPrinted(user: try PodmanFixture.prepareRootlessUser())
    }

    @Test("a pod made by podman kube play gets no steps, only where to add the ports: its create command takes no -p, and removing it first would lose it")
    func kubePlayedPodGetsNoSteps() throws {
        let (pod, port, live) = try Self.podmanScene("pckube")
        let yaml = "/tmp/\(pod).yaml"
        try Files.write("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: \(pod)
            spec:
              containers:
              - name: web
                image: \(PodmanFixture.image):latest
                command: ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]
                ports:
                - containerPort: 80
                  hostPort: \(port)
                  hostIP: 127.0.0.1

            """, to: yaml)
        defer {
            PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod])
            unlink(yaml)
        }
        let play = PodmanFixture.podman(["kube", "play", "--network", "slirp4netns:port_handler=slirp4netns", yaml])
        try #require(play.status == 0, "\(play.stderr)")
        let add = slirpmon(["fwd", "add", pod, "127.0.0.1:\(live):80"])
        try #require(add.status == 0, "\(add.stderr)")

        let show = slirpmon(["show", pod])
        let intro = try #require(show.stdout.split(separator: "\n").first { $0.hasPrefix("to make the live forwards permanent") }, "\(show.stdout)")
        #expect(intro.hasPrefix("to make the live forwards permanent: pod \(pod) was made by `") && intro.hasSuffix("kube play --network slirp4netns:port_handler=slirp4netns \(yaml)`, which takes no -p: add the ports where it is defined (a YAML's hostPort), then make it again"),
                "\(intro)")
        #expect(!show.stdout.contains("pod rm"), "\(show.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(slirpmon(["show", pod, "--json"]).stdout.utf8)) as? [String: Any])
        #expect(json["persist_steps"] is NSNull && json["persist_command"] is NSNull, "\(json["persist_steps"] ?? "") \(json["persist_command"] ?? "")")
        #expect((json["unpersisted_forward_ids"] as? [Int])?.count == 1)
    }

    @Test("a pod member started in the foreground is created again detached, and a member stopped since its run -d is created, not started: the printed steps run to the end, each member as it was")
    func podMembersComeBackAsTheyWere() throws {
        let (pod, port, live) = try Self.podmanScene("pcfg")
        defer { PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod]) }
        let create = PodmanFixture.podman(["pod", "create", "--name", pod, "--network", "slirp4netns:port_handler=slirp4netns", "-p", "127.0.0.1:\(port):80"])
        try #require(create.status == 0, "\(create.stderr)")
        // A web server run in the foreground (`-t`, no -d), as an operator types it in a terminal:
        // its podman stays attached, in the background of this test.
        let podman = try #require(Executables.find("podman"), "no podman")
        let foreground = sh("sh", ["-c", "setsid \(podman) run -t --pod \(pod) --name \(pod)-fg \(PodmanFixture.image) httpd -f -p 80 -h /www </dev/null >/dev/null 2>&1 &"])
        try #require(foreground.status == 0, "\(foreground.stderr)")
        try #require(eventually(30) { PodmanFixture.podman(["container", "inspect", "--format", "{{.State.Status}}", "\(pod)-fg"]).stdout == "running\n" }, "the foreground member does not run")
        let stopped = PodmanFixture.podman(["run", "-d", "--pod", pod, "--name", "\(pod)-stopped", PodmanFixture.image, "sleep", "1000"])
        try #require(stopped.status == 0, "\(stopped.stderr)")
        try #require(PodmanFixture.podman(["stop", "-t", "0", "\(pod)-stopped"]).status == 0)
        let add = slirpmon(["fwd", "add", pod, "127.0.0.1:\(live):80"])
        try #require(add.status == 0, "\(add.stderr)")

        let (_, steps, json) = try Self.persistSteps(pod)
        #expect(json == steps, "show --json's persist_steps: \(json ?? [])")
        try #require(steps.count == 4, "\(steps)")
        #expect(steps[2].hasSuffix("podman run -d -t --pod \(pod) --name \(pod)-fg \(PodmanFixture.image) httpd -f -p 80 -h /www"), "\(steps[2])")
        #expect(steps[3].hasSuffix("podman create --pod \(pod) --name \(pod)-stopped \(PodmanFixture.image) sleep 1000"), "\(steps[3])")

        // Run as printed, with a limit: a step left in the foreground would hold the steps here.
        let ran = sh("sh", ["-c", "cd /root && set -e\n" + steps.joined(separator: "\n")], timeout: 90)
        #expect(ran.status == 0, "\(steps): \(ran.status) \(ran.stderr)")
        let members = PodmanFixture.podman(["container", "inspect", "--format", "{{.Name}} {{.State.Status}}", "\(pod)-fg", "\(pod)-stopped"])
        #expect(members.stdout == "\(pod)-fg running\n\(pod)-stopped created\n", "members after the steps: \(members.stdout) \(members.stderr)")
        #expect(eventually(20) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true }, "the kept forward does not serve")
    }

    /// A pod (of `user`, else root's) with a web server member joined by name and a member never
    /// started, joined by the pod's short ID; a live forward added by slirpmon; then the printed
    /// steps, run as printed: the pod comes back with both ports, both members as they were.
    func podPersistRunAsPrinted(user: (name: String, uid: UInt32)?) throws {
        let (pod, port, live) = try Self.podmanScene(user == nil ? "pcpod" : "pcrlpod")
        defer { PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod], user: user) }
        let create = PodmanFixture.podman(["pod", "create", "--name", pod, "--network", "slirp4netns:port_handler=slirp4netns", "-p", "127.0.0.1:\(port):80"], user: user)
        try #require(create.status == 0, "\(create.stderr)")
        let oldID = create.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let web = PodmanFixture.podman(["run", "-d", "--pod", pod, "--name", "\(pod)-web", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"], user: user)
        try #require(web.status == 0, "\(web.stderr)")
        let side = PodmanFixture.podman(["create", "--pod", String(oldID.prefix(12)), "--name", "\(pod)-side", PodmanFixture.image, "sleep", "1000"], user: user)
        try #require(side.status == 0, "\(side.stderr)")
        let add = slirpmon(["fwd", "add", pod, "127.0.0.1:\(live):80"])
        try #require(add.status == 0, "\(add.stderr)")
        try #require(eventually(10) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true }, "the live forward does not serve")

        let (intro, steps, json) = try Self.persistSteps(pod)
        #expect(intro.contains("they stop pod \(pod) and create it again with its members \(pod)-web, \(pod)-side: what its containers wrote outside their volumes is lost"), "\(intro)")
        #expect(json == steps, "show --json's persist_steps: \(json ?? [])")
        try #require(steps.count == 4, "\(steps)")
        #expect(steps[0] == Self.asUser(user, "podman pod rm -f \(pod)"), "\(steps[0])")
        #expect(steps[1].contains("podman pod create -p 127.0.0.1:\(live):80/tcp --name \(pod) ") && steps[1].contains("-p 127.0.0.1:\(port):80"), "\(steps[1])")
        // Each member's own create command (Podman keeps the path podman was run by: /usr/bin/podman here).
        #expect(steps[2].hasPrefix(user.map { "runuser -l \($0.name) -s /bin/sh -c '" } ?? "") && steps[2].hasSuffix("podman run -d --pod \(pod) --name \(pod)-web \(PodmanFixture.image) httpd -f -p 80 -h /www" + (user == nil ? "" : "'")),
                "\(steps[2])")
        #expect(steps[3].hasSuffix("podman create --pod \(pod) --name \(pod)-side \(PodmanFixture.image) sleep 1000" + (user == nil ? "" : "'")),
                "the member joined by the pod's old ID joins by name: \(steps[3])")

        let ran = Self.runAsPrinted(steps)
        #expect(ran.status == 0, "\(steps): \(ran.stderr)")
        let inspect = PodmanFixture.podman(["pod", "inspect", pod, "--format", "{{.Id}} {{json .InfraConfig.PortBindings}}"], user: user)
        #expect(inspect.status == 0 && !inspect.stdout.hasPrefix(oldID), "the pod was not created again: \(inspect.stdout) \(inspect.stderr)")
        #expect(inspect.stdout.contains("\"\(port)\"") && inspect.stdout.contains("\"\(live)\""), "the pod created again lacks a port: \(inspect.stdout)")
        let members = PodmanFixture.podman(["container", "inspect", "--format", "{{.Name}} {{.State.Status}} {{.Pod}}", "\(pod)-web", "\(pod)-side"], user: user)
        let newID = String(inspect.stdout.prefix(64))
        #expect(members.stdout == "\(pod)-web running \(newID)\n\(pod)-side created \(newID)\n", "members after the steps, as they were, in the new pod: \(members.stdout) \(members.stderr)")
        #expect(eventually(20) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true }, "the kept forward does not serve")
        #expect(PodmanFixture.httpGet(port: port)?.contains("slirpmon-fixture") == true, "the pod's old port was lost")
        let after = slirpmon(["show", pod])
        #expect(after.status == 0 && !after.stdout.contains("(live only: not persisted)"), "\(after.stdout) \(after.stderr)")
    }
}
