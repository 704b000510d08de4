import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// "address already in use" after a container stopped (Podman #9587, #14276, #17977, #20434): a
/// rootlessport or slirp4netns left holding the host port of a container that is gone, on real
/// rootless and rootful Podman (`StalePortFixture` leaves one the way a hung conmon does).
@Suite("Stale port holders: `slirpmon ports` and `fwd add` name the process left holding a removed container's port",
       .serialized, .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"))
struct StalePortTests {
    func holders() throws -> [[String: Any]] {
        let out = slirpmon(["ports", "--json"])
        #expect(out.status == 0, "slirpmon ports --json: \(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]], "\(out.stdout)")
    }

    /// The monitor's view: an inventory with Podman asked, and the processes whose sockets it would read.
    static func snapshot() throws -> (snapshot: InventorySnapshot, suspects: Set<Int32>) {
        var options = Inventory.Options(purpose: .scriptedList(forwards: false, cache: nil))
        options.readAddresses = false
        options.readLogs = false
        options.podman = PodmanCatalog()
        let snapshot = try Inventory(options: options).snapshot()
        return (snapshot, PortHolders.suspects(in: snapshot))
    }

    func row(port: Int, in rows: [[String: Any]]) -> [String: Any]? {
        rows.first { $0["host_port"] as? Int == port && $0["host_addr"] as? String == "127.0.0.1" }
    }

    @Test("a rootless user's rootlessport left holding a removed container's port is listed stale with `kill PID`; fwd add to that port names it; killing it frees the port")
    func rootlessportOfARemovedContainer() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        var running: [String: Any]?
        var suspectedWhileRunning = true
        let stale = try StalePortFixture.make("stale-rp", user: user) { name, port in
            running = row(port: port, in: try holders())
            let pid = try #require(StalePortFixture.listenerPID(port: port))
            suspectedWhileRunning = try Self.snapshot().suspects.contains(pid)
        }
        defer { stale.tearDown() }
        // While it ran: its holder is its rootlessport, named with its container, not stale.
        let live = try #require(running, "the running container's port is not listed")
        #expect(live["program"] as? String == "rootlessport")
        #expect(live["container_name"] as? String == stale.name)
        #expect(live["container_state"] as? String == "running")
        #expect(live["stale"] as? Bool == false && live["stop_command"] is NSNull)

        // The monitor reads sockets only for suspects: a running container's rootlessport is none, the leftover is one.
        #expect(!suspectedWhileRunning, "the rootlessport of a running container is a suspect: the monitor would read sockets every refresh")
        #expect(try Self.snapshot().suspects.contains(stale.holderPID), "the leftover rootlessport is not a suspect")

        // Podman's own complaint, as operators meet it.
        let again = PodmanFixture.name("stale-rp-again")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", again], user: user) }
        let rerun = PodmanFixture.podman(["run", "-d", "--name", again, "-p", "127.0.0.1:\(stale.port):80", PodmanFixture.image, "sleep", "60"], user: user)
        #expect(rerun.status != 0 && rerun.stderr.contains("address already in use"), "podman run: \(rerun.status) \(rerun.stderr)")

        let found = try #require(row(port: stale.port, in: try holders()), "the stale holder of \(stale.port) is not listed")
        #expect(found["pid"] as? Int == Int(stale.holderPID), "\(found)")
        #expect(found["program"] as? String == "rootlessport")
        #expect(found["user"] as? String == user.name)
        #expect(found["stale"] as? Bool == true)
        #expect(found["container_state"] as? String == "gone")
        #expect(found["container_name"] as? String == stale.name, "the name its conmon gives")
        #expect(found["container_id"] as? String == stale.id)
        #expect(found["conmon_pid"] as? Int == Int(stale.conmonPID))
        // The stop command kills that PID only while it is still the process that started then.
        let ticks = try #require(Self.startTicks(stale.holderPID))
        #expect(found["start_ticks"] as? Int == Int(ticks), "\(found)")
        #expect(abs((found["start_time"] as? Double ?? 0) - Date().timeIntervalSince1970) < 600, "\(found)")
        let command = try #require(found["stop_command"] as? String, "\(found)")
        #expect(command == "test \"$(sed 's/.*) //' /proc/\(stale.holderPID)/stat | cut -d' ' -f20)\" = \(ticks) && kill \(stale.holderPID)", "\(command)")

        // The documented shape, with a stale row, a running one's and nulls.
        try SchemaValidator().expectValid(slirpmon(["ports", "--json"]), as: "ports", "ports --json with a stale rootlessport")
        let text = slirpmon(["ports"])
        #expect(text.stdout.contains("stale: tcp 127.0.0.1:\(stale.port) is held by rootlessport pid \(stale.holderPID) (user \(user.name)) of container \(stale.name)"), "\(text.stdout)")
        #expect(text.stdout.contains("`\(command)` frees the port (it kills pid \(stale.holderPID) only if that process still started at "), "\(text.stdout)")

        // fwd add of that host port on another instance: the failure names the leftover and the PID to stop.
        let lab = try SlirpLab(prefix: "smt-stale-\(getpid())")
        defer { lab.tearDown() }
        let instance = try lab.start(SlirpLab.Spec(name: "fwd"))
        let add = slirpmon(["fwd", "add", String(instance.pid), "127.0.0.1:\(stale.port):80"])
        #expect(add.status == 1)
        #expect(add.stderr.contains("by rootlessport pid \(stale.holderPID) (user \(user.name)) of container \(stale.name) (\(Format.shortID(stale.id))), which is gone"), "\(add.stderr)")
        #expect(add.stderr.contains("`\(command)` frees the port"), "\(add.stderr)")

        // A PID reused by another process (here: the same PID with another start) is not killed.
        let reused = command.replacingOccurrences(of: "= \(ticks) &&", with: "= \(ticks + 1) &&")
        #expect(sh("/bin/sh", ["-c", reused]).status != 0 && kill(stale.holderPID, 0) == 0, "the guarded command killed a process of another start time")
        // The fix works: the stop command, run as printed, frees the port.
        #expect(sh("/bin/sh", ["-c", command]).status == 0, "\(command)")
        let deadline = Deadline.after(seconds: 5)
        while StalePortFixture.listenerPID(port: stale.port) != nil && !deadline.hasPassed { usleep(50_000) }
        #expect(StalePortFixture.listenerPID(port: stale.port) == nil, "the port is still held after kill \(stale.holderPID)")
        #expect(row(port: stale.port, in: try holders()) == nil)
    }

    @Test("root's slirp4netns (port_handler=slirp4netns) left holding a removed container's port is listed stale, named by its API socket's container ID")
    func slirp4netnsOfARemovedContainer() throws {
        try PodmanFixture.prepare()
        var running: [String: Any]?
        let stale = try StalePortFixture.make("stale-s4", user: nil, network: ["--network", "slirp4netns:port_handler=slirp4netns"]) { _, port in
            running = row(port: port, in: try holders())
        }
        defer { stale.tearDown() }
        let live = try #require(running, "the running container's port is not listed")
        #expect(live["program"] as? String == "slirp4netns")
        #expect(live["container_name"] as? String == stale.name)
        #expect(live["stale"] as? Bool == false)

        let found = try #require(row(port: stale.port, in: try holders()), "the stale holder of \(stale.port) is not listed")
        #expect(found["pid"] as? Int == Int(stale.holderPID), "\(found)")
        #expect(found["program"] as? String == "slirp4netns")
        #expect(found["user"] as? String == "root")
        #expect(found["stale"] as? Bool == true)
        #expect(found["container_state"] as? String == "gone")
        #expect(found["container_id"] as? String == stale.id)
        #expect((found["stop_command"] as? String)?.hasSuffix("= \(try #require(Self.startTicks(stale.holderPID))) && kill \(stale.holderPID)") == true, "\(found)")
    }

    @Test("root's slirp4netns left holding a removed container's port after its conmon died (Podman #9587) is stale: the namespace file it was started on is gone")
    func slirp4netnsWhoseConmonDied() throws {
        try PodmanFixture.prepare()
        let stale = try StalePortFixture.make("stale-nc", user: nil, network: ["--network", "slirp4netns:port_handler=slirp4netns"])
        defer { stale.tearDown() }
        // slirp4netns exits when its exit pipe (`-e FD`) closes, and conmon holds the write end: here
        // another process keeps that end open (as a leaked copy does), then conmon is killed.
        let words = try Files.readProcessFile("/proc/\(stale.holderPID)/cmdline").split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let exitFD = try #require(words.firstIndex(of: "-e").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }, "no -e in \(words)")
        let netns = try #require(words.firstIndex(of: "--netns-type=path").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }, "no namespace path in \(words)")
        let pipe = try Files.readLink("/proc/\(stale.holderPID)/fd/\(exitFD)")
        let conmonFD = try #require(try Files.directoryEntries("/proc/\(stale.conmonPID)/fd").first { (try? Files.readLink("/proc/\(stale.conmonPID)/fd/\($0)")) == pipe },
                                    "conmon \(stale.conmonPID) does not hold \(pipe)")
        let writeEnd = open("/proc/\(stale.conmonPID)/fd/\(conmonFD)", O_WRONLY | O_CLOEXEC)
        try #require(writeEnd >= 0, "cannot open conmon's end of \(pipe)")
        let spawned = Executables.spawn("/bin/sleep", ["600"], descriptors: [3: writeEnd])
        close(writeEnd)
        guard case .success(let keeper) = spawned else { Issue.record("cannot start the pipe keeper: \(spawned)"); return }
        defer { kill(keeper, SIGKILL); Executables.waitFor(keeper) }
        kill(stale.conmonPID, SIGKILL)
        try #require(eventually(10) { ProcessStat.startTicks(of: stale.conmonPID) == nil || (try? Files.readText("/proc/\(stale.conmonPID)/stat"))?.contains(") Z ") == true },
                     "conmon \(stale.conmonPID) did not die")
        try #require(StalePortFixture.listenerPID(port: stale.port) == stale.holderPID, "slirp4netns \(stale.holderPID) exited with its conmon: no leftover")
        #expect(!Files.exists(netns), "Podman left the namespace file \(netns)")

        let found = try #require(row(port: stale.port, in: try holders()), "the stale holder of \(stale.port) is not listed")
        #expect(found["pid"] as? Int == Int(stale.holderPID) && found["program"] as? String == "slirp4netns", "\(found)")
        #expect(found["stale"] as? Bool == true && found["container_state"] as? String == "gone", "a leftover whose conmon died is not stale: \(found)")
        #expect(found["container_id"] as? String == stale.id && found["conmon_pid"] is NSNull, "\(found)")
        #expect((found["reason"] as? String)?.contains("network namespace is gone") == true, "\(found)")
        let ticks = try #require(Self.startTicks(stale.holderPID))
        let command = try #require(found["stop_command"] as? String, "\(found)")
        #expect(command.hasSuffix("= \(ticks) && kill \(stale.holderPID)"), "\(command)")
        #expect(try Self.snapshot().suspects.contains(stale.holderPID), "the leftover slirp4netns is not a suspect: the monitor would not show it")
        try SchemaValidator().expectValid(slirpmon(["ports", "--json"]), as: "ports", "ports --json with a slirp4netns whose conmon died")
    }

    @Test("the stop command names the holder the scan found: a /proc/PID/stat read later (the PID reused: another start) does not change its guard")
    func stopCommandGuardsTheScannedProcess() throws {
        // A real leftover without Podman: its namespace file deleted, it still holds its forward's port.
        let (lab, instance, _, port) = try Self.claimingAContainer("smt-rs")
        defer { lab.tearDown() }
        try #require(sh("ip", ["netns", "delete", try #require(instance.netnsName)]).status == 0)
        let ticks = try #require(Self.startTicks(instance.pid))
        let snapshot = try Self.snapshot().snapshot

        // What /proc shows once the PID is another process's: its fds (here still the holder's) and a
        // stat line with another start.
        let root = "\(lab.directory)/proc"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let stat = try Files.readText("/proc/\(instance.pid)/stat")
        let close = try #require(stat.range(of: ") ", options: .backwards))
        var fields = stat[close.upperBound...].split(separator: " ").map(String.init)
        fields[19] = String(ticks + 4321)
        try FileManager.default.createDirectory(atPath: "\(root)/\(instance.pid)", withIntermediateDirectories: true)
        try (stat[..<close.upperBound] + fields.joined(separator: " ")).write(toFile: "\(root)/\(instance.pid)/stat", atomically: true, encoding: .utf8)
        symlink("/proc/\(instance.pid)/fd", "\(root)/\(instance.pid)/fd")
        symlink("/proc/self", "\(root)/self")
        let found = try #require(PortHolders.find(in: snapshot, procRoot: root, only: [instance.pid]).first { $0.port == port }, "the holder of \(port) is not found")
        #expect(found.isStale, "\(found.sentence)")
        #expect(found.startTicks == ticks, "the guard took the start of the process read after the scan")
        #expect(found.stopCommand?.hasSuffix("= \(ticks) && kill \(instance.pid)") == true, "\(found.stopCommand ?? "no stop command")")
        // And from the real /proc: `slirpmon ports --json` gives the same guarded command.
        let row = try #require(row(port: port, in: try holders()), "the stale holder of \(port) is not listed")
        #expect((row["stop_command"] as? String)?.hasSuffix("= \(ticks) && kill \(instance.pid)") == true, "\(row)")
    }

    @Test("another user's process named conmon that claims root's container ID and default storage does not make root's working slirp4netns 'gone': no kill is offered")
    func anotherUsersConmonCannotCondemnAHolder() throws {
        let (lab, instance, id, port) = try Self.claimingAContainer("smt-cm")
        defer { lab.tearDown() }
        // Working, started by hand or kept in another storage: its state is unknown, never gone.
        let before = try #require(row(port: port, in: try holders()), "the forward's port is not listed")
        #expect(before["container_id"] as? String == id && before["stale"] as? Bool == false, "\(before)")

        // nobody's conmon: `-c ID` and the exit command's `--root` of root's default storage.
        let storage = try #require(PodmanStorage.defaultRoots(uid: 0)?.first, "root's default Podman storage is unknown")
        let fake = try UserFakeSlirp(["-c", id, "-n", "hijacked", "--exit-command-arg", "--root", "--exit-command-arg", storage], named: "conmon")
        defer { fake.stop() }
        let found = try #require(row(port: port, in: try holders()), "the forward's port is not listed")
        #expect(found["pid"] as? Int == Int(instance.pid), "\(found)")
        #expect(found["stale"] as? Bool == false && found["stop_command"] is NSNull, "nobody's conmon made root's working slirp4netns stale: \(found)")
        #expect(found["container_state"] as? String != "gone", "\(found)")
        #expect(!slirpmon(["ports"]).stdout.contains("stale: tcp 127.0.0.1:\(port) "), "listed as stale")
    }

    /// A real slirp4netns of root (in a new lab: the caller tears it down) whose API socket
    /// (`<ID>.net`) names a container Podman does not have, with a forward from 127.0.0.1:`port`.
    static func claimingAContainer(_ prefix: String) throws -> (lab: SlirpLab, instance: SlirpLab.Instance, id: String, port: Int) {
        try PodmanFixture.prepare()
        let lab = try SlirpLab(prefix: "\(prefix)-\(getpid())")
        let id = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
        var spec = SlirpLab.Spec(name: "claim", apiSocket: false)
        spec.extraArguments = ["--api-socket", "\(lab.directory)/\(id).net"]
        do {
            let instance = try lab.start(spec)
            try #require(eventually(10) { Files.exists("\(lab.directory)/\(id).net") }, "slirp4netns made no API socket")
            let port = Int(try DemoFleet.freeTCPPort().value)
            let add = slirpmon(["fwd", "add", String(instance.pid), "127.0.0.1:\(port):80"])
            try #require(add.status == 0, "fwd add: \(add.stderr)")
            return (lab, instance, id, port)
        } catch {
            lab.tearDown()
            throw error
        }
    }

    /// Field 22 of `/proc/PID/stat`: the process's start in clock ticks since boot.
    static func startTicks(_ pid: Int32) -> UInt64? { ProcessStat.startTicks(of: pid) }

    @Test("a running container kept in another storage (podman --root) is not called gone: its slirp4netns's port is 'unknown', with the storage its conmon names, and no kill is offered")
    func containerInAnotherStorageIsNotGone() throws {
        try PodmanFixture.prepare()
        let store = "/tmp/\(PodmanFixture.name("store"))"
        let storage = ["--root", "\(store)/root", "--runroot", "\(store)/run"]
        defer {
            PodmanFixture.podman(storage + ["system", "reset", "-f"], timeout: 60)
            try? FileManager.default.removeItem(atPath: store)
        }
        let imported = PodmanFixture.podman(storage + ["import", "\(PodmanFixture.directory)/bb.tar", PodmanFixture.image])
        try #require(imported.status == 0, "podman --root import: \(imported.stderr)")
        let name = PodmanFixture.name("elsewhere")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(storage + ["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                                                  "-p", "127.0.0.1:\(port):80", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        try #require(run.status == 0, "podman --root run: \(run.stderr)")
        defer { PodmanFixture.podman(storage + ["rm", "-f", "-t", "0", name]) }
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let found = try #require(row(port: port, in: try holders()), "the port of the container in \(store) is not listed")
        #expect(found["program"] as? String == "slirp4netns" && found["container_id"] as? String == id, "\(found)")
        #expect(found["container_state"] as? String == "unknown", "a container of another storage was called \(found["container_state"] ?? "nil")")
        #expect(found["stale"] as? Bool == false && found["stop_command"] is NSNull, "a kill was offered for a running container's slirp4netns: \(found)")
        #expect((found["reason"] as? String)?.contains("names storage \(store)/root") == true, "\(found)")
        try SchemaValidator().expectValid(slirpmon(["ports", "--json"]), as: "ports", "ports --json with a container of another storage")
        #expect(!slirpmon(["ports"]).stdout.contains("stale: tcp 127.0.0.1:\(port) "), "listed as stale")
    }

    @Test("the host's bound sockets are read from /proc/net: a listening TCP and a bound UDP socket, not a connected one")
    func hostSocketTable() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:B7FD 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 16002804 1 0 100 0 0 10 0
               1: 0100007F:B7FE 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1002        0 16002805 1 0 100 0 0 10 0
            """
        let found = HostSockets.parse(tcp, proto: "tcp")
        #expect(found == [HostSockets.Bound(proto: "tcp", address: "127.0.0.1", port: 47101, inode: 16002804)])
        let udp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
              7: 00000000000000000000000000000000:4E20 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0 0
            """
        #expect(HostSockets.parse(udp, proto: "udp6") == [HostSockets.Bound(proto: "udp6", address: "::", port: 20000, inode: 77)])
    }
}
