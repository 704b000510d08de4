import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// `slirpmon events --follow --json` run as a script runs it, in a subprocess, on real slirp4netns:
/// each change is printed as a JSON line as it happens, with the right kind and time, and
/// SIGTERM ends it with status 0.
@Suite("slirpmon events: what changed, and when, on real slirp4netns and Podman", .serialized)
struct EventsTests {
    /// A running `slirpmon events --follow --json`, its output going to a file read as it grows.
    final class Follower {
        let pid: pid_t
        let directory: String
        var output: String { directory + "/out" }
        var errors: String { directory + "/err" }
        private var reaped: Int32?

        init(interval: Double = 0.2) throws {
            directory = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: "smt-events-\(getpid())")
            let out = open(directory + "/out", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            let err = open(directory + "/err", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            defer { close(out); close(err) }
            pid = try Executables.spawn(slirpmonBinary, ["events", "--follow", "--json", "--interval", String(interval)],
                                        descriptors: [1: out, 2: err]).get()
        }

        deinit {
            if reaped == nil { kill(pid, SIGKILL); Executables.waitFor(pid) }
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Every line so far, each parsed (a line that is not one JSON object fails the test).
        func events() -> [[String: Any]] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                if object == nil { Issue.record("not one JSON object a line: \(line)") }
                return object
            }
        }

        /// The first event that `matches`, waiting up to `seconds` for it.
        func waitFor(within seconds: Double = 10, _ matches: ([String: Any]) -> Bool) -> [String: Any]? {
            var found: [String: Any]?
            _ = eventually(seconds) {
                found = events().first(where: matches)
                return found != nil
            }
            return found
        }

        /// SIGTERM, then its exit status (nil when it has not ended within `seconds`).
        func terminate(within seconds: Double = 5) -> Int32? {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            let ended = eventually(seconds) { waitpid(pid, &status, WNOHANG) == pid }
            guard ended else { return nil }
            reaped = Executables.exitCode(status)
            return reaped
        }

        var stderr: String { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" }
    }

    static func event(_ kind: String, pid: Int32, seen: Bool = false) -> ([String: Any]) -> Bool {
        { $0["kind"] as? String == kind && $0["pid"] as? Int == Int(pid) && $0["seen"] as? Bool == seen }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// The process's own start time, as `/proc` gives it.
    static func startTime(_ pid: Int32) throws -> Double {
        try #require((try ProcessScanner().scan()).first { $0.pid == pid }?.startTime, "pid \(pid) not found")
    }

    /// One request to an instance's API socket by another client than slirpmon: socat, as a script would.
    static func socat(_ socket: String, _ request: String) throws -> String {
        let socat = try #require(Executables.find("socat"), "socat is not installed (assets/requirements.tsv)")
        let script = "printf '%s\\n' \"$1\" | \"$0\" - UNIX-CONNECT:\"$2\""
        let out = sh("sh", ["-c", script, socat, request, socket])
        try #require(out.status == 0, "socat failed: \(out.stderr)")
        return out.stdout
    }

    @Test("with --follow: a start, a forward added and removed by socat, a SIGKILL (defunct) and a stop (died) each print one JSON line with the right kind and time; SIGTERM ends it with 0")
    func followPrintsChangesAsTheyHappen() throws {
        try #require(isRoot, "needs root (ip netns)")
        let lab = try TestLab("ev")
        let first = try lab.start(SlirpLab.Spec(name: "a"))
        let follower = try Follower()
        // Its first look: the state as seen, the running instance's start at its process's start time.
        let seen = try #require(follower.waitFor(Self.event("started", pid: first.pid, seen: true)), "no seen start: \(follower.stderr)")
        #expect(abs((seen["time"] as? Double ?? 0) - (try Self.startTime(first.pid))) < 0.01, "\(seen)")
        #expect(seen["timing"] as? String == "process_start")

        let second = try lab.start(SlirpLab.Spec(name: "b"))
        let started = try #require(follower.waitFor(Self.event("started", pid: second.pid)), "no start of pid \(second.pid)")
        #expect(abs((started["time"] as? Double ?? 0) - (try Self.startTime(second.pid))) < 0.01, "\(started)")

        let socket = try #require(first.apiSocket)
        let port = Int(try DemoFleet.freeTCPPort().value)
        let beforeAdd = Self.now()
        let reply = try Self.socat(socket, #"{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":\#(port),"guest_port":80}}"#)
        #expect(reply.contains(#""return""#), "\(reply)")
        let added = try #require(follower.waitFor(Self.event("forward_added", pid: first.pid)), "no forward_added: \(follower.events())")
        let forward = try #require(added["forward"] as? [String: Any])
        #expect(forward["host_port"] as? Int == port && forward["proto"] as? String == "tcp" && forward["guest_port"] as? Int == 80, "\(added)")
        let addedAt = added["time"] as? Double ?? 0
        #expect(addedAt >= beforeAdd && addedAt <= Self.now(), "time \(addedAt) not between the request (\(beforeAdd)) and now")
        #expect(added["timing"] as? String == "noticed")

        let id = try #require(forward["id"] as? Int)
        let beforeRemove = Self.now()
        _ = try Self.socat(socket, #"{"execute":"remove_hostfwd","arguments":{"id":\#(id)}}"#)
        let removed = try #require(follower.waitFor(Self.event("forward_removed", pid: first.pid)), "no forward_removed: \(follower.events())")
        #expect((removed["forward"] as? [String: Any])?["id"] as? Int == id)
        #expect((removed["time"] as? Double ?? 0) >= beforeRemove)

        // Killed, not reaped (a child of this test): defunct; reaped later, no second event.
        let beforeKill = Self.now()
        lab.lab.signal(second, SIGKILL)
        let defunct = try #require(follower.waitFor(Self.event("defunct", pid: second.pid)), "no defunct: \(follower.events())")
        #expect((defunct["time"] as? Double ?? 0) >= beforeKill)
        lab.lab.stop(second)

        // Stopped and reaped at once: died.
        let third = try lab.start(SlirpLab.Spec(name: "c"))
        _ = try #require(follower.waitFor(Self.event("started", pid: third.pid)))
        let beforeStop = Self.now()
        lab.lab.stop(third)
        let died = try #require(follower.waitFor(Self.event("died", pid: third.pid)), "no died: \(follower.events())")
        #expect((died["time"] as? Double ?? 0) >= beforeStop)
        #expect(!follower.events().contains { $0["kind"] as? String == "died" && $0["pid"] as? Int == Int(second.pid) },
                "a defunct instance's reaping reported as a death")

        #expect(follower.terminate() == 0, "SIGTERM did not end it with 0: \(follower.stderr)")
        #expect(follower.stderr.isEmpty, "\(follower.stderr)")
        // Every line is the documented shape (assets/slirpmon.schema.json, $defs/event).
        let validator = try SchemaValidator()
        let lines = ((try? String(contentsOfFile: follower.output, encoding: .utf8)) ?? "").split(separator: "\n")
        for line in lines.filter({ $0.contains("\"pid\":\(first.pid),") || $0.contains("\"pid\":\(second.pid),") || $0.contains("\"pid\":\(third.pid),") }) {
            #expect(try validator.problems(String(line), as: "event").isEmpty, "\(line)")
        }
        #expect((try? String(contentsOfFile: follower.output, encoding: .utf8))?.hasSuffix("\n") == true, "a cut last line")
    }

    @Test("without --follow: the state now as seen events (starts at their process start times, forwards present) and exit 0")
    func stateAsSeen() throws {
        try #require(isRoot, "needs root (ip netns)")
        let lab = try TestLab("evs")
        let port = try DemoFleet.freeTCPPort()
        let instance = try lab.start(SlirpLab.Spec(name: "s", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(0x7F00_0001), hostPort: port, guestPort: .http)]))
        let out = slirpmon(["events", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let events = out.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == out.stdout.split(separator: "\n").count, "not one JSON object a line:\n\(out.stdout)")
        let started = try #require(events.first(where: Self.event("started", pid: instance.pid, seen: true)), "\(out.stdout)")
        #expect(abs((started["time"] as? Double ?? 0) - (try Self.startTime(instance.pid))) < 0.01)
        let forward = try #require(events.first(where: Self.event("forward_added", pid: instance.pid, seen: true)), "\(out.stdout)")
        #expect((forward["forward"] as? [String: Any])?["host_port"] as? Int == Int(port.value))
        let text = slirpmon(["events"])
        #expect(text.status == 0 && text.stdout.contains("started") && text.stdout.contains("pid \(instance.pid)"), "\(text.stdout)")
    }

    @Test("events --follow --json | head -n 1: once the reader is gone, the next event ends it with status 0, not SIGPIPE's 141")
    func readerGoneEndsItQuietly() throws {
        try #require(isRoot, "needs root (ip netns)")
        let bash = try #require(Executables.find("bash"), "bash is not installed")
        let lab = try TestLab("evp")
        _ = try lab.start(SlirpLab.Spec(name: "p"))
        let done = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: "smt-evpipe-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: done) }
        // pipefail: the pipeline's status is slirpmon's. `head` ends after the first (seen) line.
        let script = "set -o pipefail; \"$0\" events --follow --json --interval 0.2 | head -n 1 > \"$1/line\"; echo $? > \"$1/status\""
        let pipeline = try Executables.spawn(bash, ["-c", script, slirpmonBinary, done]).get()
        defer { kill(-pipeline, SIGKILL); Executables.waitFor(pipeline) }
        try #require(eventually(10) { ((try? Files.readText(done + "/line")) ?? "").hasSuffix("\n") }, "no first line")
        usleep(300_000)
        let next = try lab.start(SlirpLab.Spec(name: "q")) // an event to write: EPIPE
        _ = next
        let ended = eventually(10) { Files.exists(done + "/status") }
        #expect(ended, "slirpmon kept running after its reader left")
        #expect((try? Files.readText(done + "/status"))?.trimmingCharacters(in: .whitespacesAndNewlines) == "0",
                "status \((try? Files.readText(done + "/status")) ?? "?")")
    }

    @Test("a rootless Podman container whose slirp4netns is killed: lost_slirp4netns, with the container and the slirp4netns it had")
    func podmanContainerLosesItsSlirp4netns() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox-static")
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("evlost")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.runWebServer(name, port: port, user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try #require(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var slirp: SlirpProcess?
        _ = eventually(30) {
            slirp = (try? ProcessScanner().scan())?.first { $0.containerID == id && !$0.isZombie }
            return slirp != nil
        }
        let pid = try #require(slirp?.pid, "no slirp4netns for container \(name) (\(id))")
        let follower = try Follower()
        let seen = try #require(follower.waitFor(within: 30, Self.event("started", pid: pid, seen: true)), "not seen: \(follower.stderr)")
        #expect(seen["container_id"] as? String == id && seen["name"] as? String == name && seen["user"] as? String == user.name, "\(seen)")

        let beforeKill = Self.now()
        kill(pid, SIGKILL)
        let lost = try #require(follower.waitFor(within: 30) { $0["kind"] as? String == "lost_slirp4netns" && $0["container_id"] as? String == id },
                                "no lost_slirp4netns: \(follower.events().suffix(10)) \(follower.stderr)")
        #expect(lost["pid"] as? Int == Int(pid) && lost["name"] as? String == name && lost["seen"] as? Bool == false, "\(lost)")
        #expect((lost["time"] as? Double ?? 0) >= beforeKill)
        // The process itself: died (reaped) or defunct (its parent does not reap), once.
        let deaths = follower.events().filter { ["died", "defunct"].contains($0["kind"] as? String ?? "") && $0["pid"] as? Int == Int(pid) }
        #expect(deaths.count == 1, "\(deaths)")
        #expect(follower.terminate() == 0, "\(follower.stderr)")
    }
}
