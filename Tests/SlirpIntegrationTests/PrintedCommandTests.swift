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

    @Test("a pod's live forward is kept by the printed commands run as printed: the pod is removed whole (its infra cannot be removed alone) and created again with the forward")
    func podsPrintedCommandsRunAsPrinted() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox (bash assets/setup.sh)")
        try PodmanFixture.prepare()
        let pod = PodmanFixture.name("pcpod")
        let port = Int(try DemoFleet.freeTCPPort().value)
        var live = Int(try DemoFleet.freeTCPPort().value)
        while live == port { live = Int(try DemoFleet.freeTCPPort().value) }
        defer { PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod]) }
        let create = PodmanFixture.podman(["pod", "create", "--name", pod, "--network", "slirp4netns:port_handler=slirp4netns", "-p", "127.0.0.1:\(port):80"])
        try #require(create.status == 0, "\(create.stderr)")
        let run = PodmanFixture.podman(["run", "-d", "--pod", pod, "--name", "\(pod)-web", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        try #require(run.status == 0, "\(run.stderr)")
        let add = slirpmon(["fwd", "add", pod, "127.0.0.1:\(live):80"])
        try #require(add.status == 0, "\(add.stderr)")

        let show = slirpmon(["show", pod])
        let lines = show.stdout.split(separator: "\n").map(String.init)
        let intro = try #require(lines.firstIndex { $0.hasPrefix("to make the live forwards permanent") }, "\(show.stdout)")
        let remove = try #require(lines[intro].split(separator: "`").dropFirst().first.map(String.init))
        #expect(remove == "podman pod rm -f \(pod)", "\(lines[intro])")
        let persist = lines[intro + 1].trimmingCharacters(in: .whitespaces)
        #expect(persist.contains(" pod create ") && persist.contains("-p 127.0.0.1:\(live):80/tcp"), "\(persist)")

        let removed = sh("sh", ["-c", remove], timeout: 60)
        #expect(removed.status == 0, "\(remove): \(removed.stderr)")
        let recreated = sh("sh", ["-c", persist], timeout: 60)
        #expect(recreated.status == 0, "\(persist): \(recreated.stderr)")
        let ports = PodmanFixture.podman(["pod", "inspect", pod, "--format", "{{json .InfraConfig.PortBindings}}"])
        #expect(ports.stdout.contains("\(live)"), "the pod created again lacks the forward: \(ports.stdout) \(ports.stderr)")
    }
}
