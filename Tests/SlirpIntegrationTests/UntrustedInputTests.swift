import Foundation
import SlirpCore
import SlirpTestSupport
import CSlirpSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Root runs slirpmon on a host where every user may have been first: in /tmp, at a config
/// file's name, in a command line. What users made is input, never a place root writes through
/// or a read that may wait forever (issue 13: High, Medium 4 and 5).
@Suite("Root's slirpmon against files and processes a user made", .serialized, .enabled(if: isRoot, "needs root (namespaces, another user)"))
struct UntrustedInputTests {
    /// A new directory in /tmp, `mode`, owned by `uid`.
    func scratch(_ name: String, mode: mode_t = 0o755, uid: uid_t = 0) throws -> String {
        var template = Array("/tmp/smt-\(name)-\(getpid()).XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw LabSetupError("mkdtemp failed") }
        let path = String(cString: template)
        chmod(path, mode)
        chown(path, uid, uid)
        return path
    }

    @Test("a user's pre-made demo directory with a link at the log's name: root's file is untouched and the demo runs in a private directory of its own")
    func demoIgnoresAUsersPreMadeDirectory() throws {
        // What the demo used to take: /tmp/slirpmon-demo-<its pid>, here made first by nobody.
        let predictable = "/tmp/slirpmon-demo-\(getpid())"
        let victimDirectory = try scratch("victim")
        let victim = "\(victimDirectory)/precious"
        let original = "root's own file, not slirp4netns output\n"
        try Files.write(original, to: victim)
        mkdir(predictable, 0o777)
        chmod(predictable, 0o777)
        chown(predictable, 65534, 65534)
        let prefix = "\(DemoFleet.prefixBase)-\(getpid())"
        for name in ["web", "custom", "noapi"] {
            let link = "\(predictable)/slirp4netns-\(prefix)-\(name).log"
            symlink(victim, link)
            lchown(link, 65534, 65534)
        }
        defer {
            try? FileManager.default.removeItem(atPath: predictable)
            try? FileManager.default.removeItem(atPath: victimDirectory)
        }

        let lab = try DemoFleet.start()
        defer { lab.tearDown() }
        #expect((try? Files.readText(victim)) == original, "root's file was written through the user's link")
        #expect(lab.running.count == 3)
        #expect(lab.directory != predictable, "the demo took the user's directory")
        let st = try Files.linkStatus(lab.directory)
        #expect(st.st_mode & S_IFMT == S_IFDIR && st.st_uid == 0 && st.st_mode & 0o777 == 0o700, "not a private directory of root's")
        for instance in lab.running {
            if let socket = instance.apiSocket { #expect(socket.hasPrefix(lab.directory + "/"), "socket \(socket) outside the private directory") }
        }
    }

    @Test("a FIFO at a user's storage.conf: root's list answers at once and says which file could not be read and why")
    func fifoAtAUsersStorageConf() throws {
        let name = "slirpmon-in"
        if getpwnam(name) == nil {
            let made = sh("useradd", ["-m", "-s", "/bin/sh", name])
            try #require(made.status == 0, "useradd failed: \(made.stderr)")
        }
        let entry = try #require(getpwnam(name))
        let home = String(cString: entry.pointee.pw_dir)
        let uid = entry.pointee.pw_uid
        // Storage that exists (so root's list looks at this user), and a FIFO where storage.conf goes.
        for dir in ["\(home)/.local", "\(home)/.local/share", "\(home)/.local/share/containers", "\(home)/.local/share/containers/storage",
                    "\(home)/.config", "\(home)/.config/containers"] {
            mkdir(dir, 0o755)
            chown(dir, uid, entry.pointee.pw_gid)
        }
        let fifo = "\(home)/.config/containers/storage.conf"
        unlink(fifo)
        try #require(mkfifo(fifo, 0o644) == 0)
        chown(fifo, uid, entry.pointee.pw_gid)
        // Other runs on this host look at this user only while the test runs.
        defer { unlink(fifo); rmdir("\(home)/.local/share/containers/storage") }

        let started = Deadline.now
        let out = slirpmon(["list", "--no-cache"], timeout: 20)
        let seconds = Deadline.now.seconds(since: started)
        print("storage.conf FIFO: list answered in \(seconds) s, status \(out.status)")
        #expect(out.status == 0, "list did not answer (status \(out.status)): \(out.stderr)")
        #expect(seconds < 8, "list took \(seconds) s")
        #expect(out.stderr.contains(fifo) && out.stderr.contains("FIFO"), "no message naming the file: \(out.stderr)")
    }

    @Test("a FIFO at a user's fake slirp4netns --netns-type=path: show and list answer and say it is not a namespace")
    func fifoAtAFakesNetnsPath() throws {
        let directory = try scratch("netnsfifo", mode: 0o755, uid: 65534)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = "\(directory)/netns"
        try #require(mkfifo(fifo, 0o666) == 0)
        chown(fifo, 65534, 65534)
        let fake = try UserFakeSlirp(["--configure", "--mtu=65520", "--netns-type=path", fifo, "tap0"])
        defer { fake.stop() }

        let show = slirpmon(["show", String(fake.pid)], timeout: 20)
        #expect(show.status == 0, "show did not answer (status \(show.status)): \(show.stderr)")
        #expect(show.combined.contains("a FIFO, not a network namespace file"), "\(show.combined)")
        let list = slirpmon(["list", "--no-podman", "--no-cache"], timeout: 20)
        #expect(list.status == 0, "list did not answer: \(list.stderr)")
    }

    @Test("what a user's link or fd names is proven a regular file before root opens it: a FIFO whose writer waits for a reader is never opened")
    func fifoIsNeverOpened() throws {
        let directory = try scratch("opened", mode: 0o755, uid: 65534)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = "\(directory)/fifo"
        try #require(mkfifo(fifo, 0o666) == 0)
        let link = "\(directory)/storage.conf"
        try #require(symlink(fifo, link) == 0)
        // A process whose stdout and stderr name the FIFO without having it open (O_PATH, as any
        // user may), and one whose stderr is a log; neither is named slirp4netns, so no other
        // slirpmon on this host looks at them or at the FIFO.
        let named = open(fifo, cslirp_o_path() | O_CLOEXEC)
        try #require(named >= 0)
        defer { close(named) }
        let holder = try Executables.spawn("/bin/sleep", ["600"], descriptors: [1: named, 2: named]).get()
        defer { kill(holder, SIGKILL); Executables.waitFor(holder) }
        let logFD = try SafeFiles.createExclusive("\(directory)/log")
        defer { logFD.close() }
        let logged = try Executables.spawn("/bin/sleep", ["600"], descriptors: [2: logFD.rawValue]).get()
        defer { kill(logged, SIGKILL); Executables.waitFor(logged) }
        #expect(eventually(5) { RequestAudit.mark(pid: logged) != nil })
        let before = try #require(RequestAudit.mark(pid: logged))
        // A writer blocked in open() until a reader opens the FIFO: any open of it shows as its marker.
        let marker = "\(directory)/opened"
        let writer = try Executables.spawn("/bin/sh", ["-c", "exec 3>\(fifo); echo opened > \(marker)"]).get()
        defer { kill(writer, SIGKILL); Executables.waitFor(writer) }
        usleep(200_000)

        #expect(throws: SystemError.self) { try SafeFiles.openForReading(link) }
        #expect(throws: SystemError.self) { try SafeFiles.openForReading(fifo, kind: .networkNamespace) }
        #expect(throws: SystemError.self) { try SafeFiles.openForReading("/proc/\(holder)/fd/1") }
        #expect(throws: (any Error).self) { try UnlinkedLog(pid: holder) }
        #expect(RequestAudit.markAfterOnly(Array("{}".utf8), pid: holder, before: before) == nil)
        usleep(300_000)
        #expect(!Files.exists(marker), "root opened the FIFO (its writer got a reader)")
    }

    @Test("a FIFO bind-mounted on resolv.conf in a namespace with a real slirp4netns: show answers and says resolv.conf was not read")
    func fifoOnResolvConf() throws {
        let directory = try scratch("resolvfifo")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = "\(directory)/fifo"
        try #require(mkfifo(fifo, 0o644) == 0)
        let unshare = try #require(Executables.find("unshare"), "unshare is not installed")
        // A process in its own mount and network namespace whose /etc/resolv.conf is the FIFO.
        guard case .success(let holder) = Executables.spawn(unshare, ["--mount", "--propagation", "private", "--net", "sh", "-c",
                                                                      "mount --bind \(fifo) /etc/resolv.conf && exec sleep 600"]) else {
            throw LabSetupError("cannot start unshare")
        }
        defer { kill(holder, SIGKILL); Executables.waitFor(holder) }
        try #require(eventually(5) { (try? Files.readText("/proc/\(holder)/comm")) == "sleep\n" }, "the holder did not mount the FIFO")
        let slirp = try #require(Executables.find("slirp4netns"), "slirp4netns is not installed")
        let log = open("\(directory)/log", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        defer { close(log) }
        guard case .success(let pid) = Executables.spawn(slirp, ["--configure", "--mtu=65520", String(holder), "tap0"], descriptors: [1: log, 2: log]) else {
            throw LabSetupError("cannot start slirp4netns")
        }
        defer { kill(pid, SIGTERM); Executables.waitFor(pid) }
        try #require(eventually(5) { (try? Files.readText("/proc/\(holder)/net/route"))?.contains("tap0") == true }, "slirp4netns did not configure tap0")

        let show = slirpmon(["show", String(pid)], timeout: 20)
        #expect(show.status == 0, "show did not answer (status \(show.status)): \(show.stderr)")
        #expect(show.stdout.contains("10.0.2.100"), "\(show.stdout)")
        #expect(show.stdout.contains("resolv.conf not read") && show.stdout.contains("FIFO"), "\(show.stdout)")
    }

    @Test("a user's Podman storage holding 200000 entries named *-containers costs root's list no memory")
    func storageFullOfNames() throws {
        let name = "slirpmon-junk"
        if getpwnam(name) == nil {
            let out = sh("useradd", ["-m", "-s", "/usr/sbin/nologin", name])
            try #require(out.status == 0 || getpwnam(name) != nil, "useradd failed: \(out.stderr)")
        }
        try #require(getpwnam(name) != nil, "no user \(name)")
        let storage = "/home/\(name)/.local/share/containers/storage"
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: "/home/\(name)/.local/share/containers") }
        _ = sh("chown", ["-R", "\(name):", "/home/\(name)/.local"])

        // The peak counts slirpmon's children too (getrusage of the waited-for tree), and a real
        // Podman (about 80 MiB) would be measured instead of root's list: each list runs a Podman
        // that answers "no containers", with a /run/slirpmon of its own (no answer kept from
        // another list, so each looks at the storage).
        let fake = try SafeFiles.makePrivateDirectory(prefix: "smt-junk-podman")
        defer { try? FileManager.default.removeItem(atPath: fake) }
        chmod(fake, 0o755)
        try Files.write("#!/bin/sh\necho '[]'\n", to: "\(fake)/podman", mode: 0o755)
        let unshare = try #require(Executables.find("unshare"), "unshare is needed (util-linux)")
        func listAlone() -> (output: Executables.Output, kib: Int?) {
            guard let state = try? SafeFiles.makePrivateDirectory(prefix: "smt-junk-state") else { return (Executables.Output(status: -1, stdout: "", stderr: "no state dir"), nil) }
            defer { try? FileManager.default.removeItem(atPath: state) }
            return peakResidentKiB("/usr/bin/env", ["PATH=\(fake):/usr/bin:/bin:/usr/sbin:/sbin", unshare]
                                   + privateSlirpmonState(state, [slirpmonBinary, "list"]))
        }

        // With an empty storage, the user is looked at (and has no container).
        _ = listAlone()
        let started = Deadline.now
        let before = listAlone()
        let beforeSeconds = Deadline.now.seconds(since: started)
        try #require(before.output.status == 0 && before.kib != nil, "\(before.output.stderr)")
        for i in 0..<200_000 {
            let fd = open("\(storage)/\(i)-containers", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd) }
        }
        let again = Deadline.now
        let after = listAlone()
        let afterSeconds = Deadline.now.seconds(since: again)
        try #require(after.output.status == 0, "\(after.output.stderr)")
        let grown = (after.kib ?? 0) - (before.kib ?? 0)
        #expect(grown < 10 * 1024, "root's list grew by \(grown) KiB (\(before.kib ?? 0) -> \(after.kib ?? 0) KiB, \(beforeSeconds) -> \(afterSeconds) s)")
    }

    @Test("a user's fake holding 3000 fds: root's show looks at its first 1024 only and says so")
    func manyDescriptors() throws {
        let fake = try UserFakeSlirp(["--configure", "--mtu=65520", "--api-socket", "/tmp/smt-absent-\(getpid()).sock",
                                      "--netns-type=path", "/run/netns/smt-absent-\(getpid())", "tap0"], holdingDescriptors: 3000)
        let out = slirpmon(["show", String(fake.pid), "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], "\(out.stderr)")
        let note = (json["problems"] as? [String: String])?["fds"] ?? ""
        #expect(note.contains("more than 1024 open fds") && note.contains("only the first 1024"), "\(json["problems"] ?? "none")")
        #expect(json["pid"] as? Int == Int(fake.pid))
    }

    @Test("sixteen users' fakes with 6 MB command lines: root's list stays small in memory, keeps a small cache file and shows the lines truncated with a note")
    func hugeCommandLinesAreCapped() throws {
        // Sixteen of the longest command line Linux allows (6 MiB of arguments): read whole, they
        // would take hundreds of MiB, far above the bound below, which leaves room for what other
        // tests running beside this one add to the scan.
        let megabytes = 6
        let fakes = try (0..<16).map { _ in
            try UserFakeSlirp(["--configure", "--mtu=65520", "--netns-type=path", "/run/netns/smt-absent-\(getpid())", "tap0"], growTo: megabytes << 20)
        }
        defer { fakes.forEach { $0.stop() } }

        let (out, kib) = peakResidentKiB(slirpmonBinary, ["list", "--json", "--no-podman"])
        #expect(out.status == 0, "\(out.stderr)")
        let peak = try #require(kib, "no peak RSS from /usr/bin/time: \(out.stderr)")
        #expect(peak < 180 * 1024, "root's list peaked at \(peak) KiB for \(fakes.count) fakes of \(megabytes) MB; it printed \(out.stdout.utf8.count) bytes: \(out.stdout.prefix(3000)) stderr: \(out.stderr.prefix(2000))")
        let cache = "/run/slirpmon/process-facts-0"
        let size = (try? Files.status(cache).st_size) ?? 0
        print("\(fakes.count) fakes of \(megabytes) MB: list peak RSS \(peak) KiB, \(cache) \(size) bytes")
        #expect(size < 4 << 20, "the cache file is \(size) bytes")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
        for fake in fakes {
            let row = rows.first { $0["pid"] as? Int == Int(fake.pid) }
            let note = (row?["problems"] as? [String: String])?["arguments"] ?? ""
            #expect(note.contains("truncated"), "pid \(fake.pid): \(note)")
        }
        let show = slirpmon(["show", String(fakes[0].pid)], timeout: 20)
        #expect(show.stdout.contains("command line longer than 64 KiB"), "\(show.stdout.prefix(2000))")
        #expect(show.stdout.utf8.count < 1 << 20, "show printed \(show.stdout.utf8.count) bytes")
    }
}
