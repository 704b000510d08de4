import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A one-instance command (`show TARGET`, `fwd add TARGET`) resolves its target first and then
/// talks to that instance only: another instance on the host, stopped or never answering, neither
/// delays it nor receives a request (each request lands in an instance's log).
@Suite("A one-instance command asks its instance only", .serialized, .enabled(if: isRoot, "needs root for ip netns and Podman"))
struct OneTargetTests {
    /// Runs slirpmon as a child whose PID is known (the stand-in logs each request with its sender's
    /// PID: other tests' slirpmon on the host may ask it too); returns its exit status, output and seconds.
    func slirpmonChild(_ args: [String]) throws -> (pid: pid_t, status: Int32, stdout: String, seconds: Double) {
        let out = "/tmp/slirpmon-onetarget-\(getpid())-\(UInt32.random(in: 0..<1_000_000)).out"
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LabSetupError("cannot create \(out)") }
        defer { unlink(out) }
        let start = Deadline.now
        guard case .success(let pid) = Executables.spawn(slirpmonBinary, args, descriptors: [1: fd, 2: fd]) else {
            close(fd)
            throw LabSetupError("cannot start \(slirpmonBinary)")
        }
        close(fd)
        let status = Executables.waitFor(pid)
        return (pid, status, (try? Files.readText(out)) ?? "", Deadline.now.seconds(since: start))
    }

    @Test("`show NAME` with an unrelated stopped slirp4netns and a peer that never answers: quick, and neither is asked")
    func showNameAsksOnlyItsInstance() throws {
        try PodmanFixture.prepare()
        let lab = try TestLab("onet")
        // A real slirp4netns, stopped: a request to it would wait for the whole --timeout.
        let stopped = try lab.start(.init(name: "stopped"))
        kill(stopped.pid, SIGSTOP)
        defer { kill(stopped.pid, SIGCONT) }
        #expect(eventually { ProcessScanner().process(pid: stopped.pid)?.state == "T" }, "SIGSTOP takes effect")
        // A slirp4netns-named peer that reads each request, logs its sender, and never answers.
        let silent = try StandInSlirp(mode: .silent, tag: "onet-\(getpid())")
        let name = PodmanFixture.name("one")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                                        "-p", "127.0.0.1:\(port):80", PodmanFixture.image, "sleep", "600"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try #require(run.status == 0, "\(run.stderr)")

        // With --timeout 30, asking either other instance would take 30 s.
        let show = try slirpmonChild(["show", name, "--timeout", "30"])
        #expect(show.status == 0, "\(show.stdout)")
        #expect(show.stdout.contains("forwards (1):"), "its own forwards were asked: \(show.stdout)")
        #expect(show.seconds < 10, "show took \(show.seconds) s: it waited for an instance it does not show")
        usleep(300_000)
        #expect(silent.requestsReceived(from: show.pid) == 0, "the unrelated peer received a request from show")

        // `fwd add NAME`: the container's socket only (nothing else asked, nothing else read).
        let live = Int(try DemoFleet.freeTCPPort().value)
        let add = try slirpmonChild(["fwd", "add", name, "127.0.0.1:\(live):80", "--timeout", "30"])
        #expect(add.status == 0, "\(add.stdout)")
        #expect(add.seconds < 10, "fwd add took \(add.seconds) s")
        usleep(300_000)
        #expect(silent.requestsReceived(from: add.pid) == 0, "the unrelated peer received a request from fwd add")
    }

    @Test("`fwd add PID` and `fwd list PID` send to that instance only, and its socket is still proven first")
    func fwdByPIDAsksOnlyItsInstance() throws {
        let lab = try TestLab("onef")
        let target = try lab.start(.init(name: "t"))
        let silent = try StandInSlirp(mode: .silent, tag: "onef-\(getpid())")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let add = try slirpmonChild(["fwd", "add", String(target.pid), "127.0.0.1:\(port):80", "--timeout", "30"])
        #expect(add.status == 0, "\(add.stdout)")
        let list = try slirpmonChild(["fwd", "list", String(target.pid), "--json", "--timeout", "30"])
        #expect(list.stdout.contains("\"host_port\":\(port)") || list.stdout.contains("\"host_port\" : \(port)"), "\(list.stdout)")
        usleep(300_000)
        #expect(silent.requestsReceived(from: add.pid) == 0 && silent.requestsReceived(from: list.pid) == 0)
        // The stand-in's own socket is proven held by it, so it can be a target; it never answers: the timeout says so.
        let asked = try slirpmonChild(["fwd", "list", String(silent.pid), "--timeout", "1"])
        #expect(asked.status == 1, "\(asked.stdout)")
        #expect(eventually(3) { silent.requestsReceived(from: asked.pid) == 1 }, "the named peer was asked once")
    }
}
