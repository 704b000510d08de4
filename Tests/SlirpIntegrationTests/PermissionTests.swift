import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// Another user's instances: what cannot be checked is said to be so, never "missing"; root
/// acting on a rootless user's instance is told so, and given commands to run as that user.
@Suite("Permission denied is not missing; root on a rootless user's instance", .serialized,
       .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static (bash assets/setup.sh)"))
struct PermissionTests {
    /// slirpmon run as `nobody` (the build directory opened for it to reach the binary).
    func asNobody(_ args: [String]) -> Executables.Output {
        openToOtherUsers(slirpmonBinary)
        return sh("runuser", ["-u", "nobody", "--", slirpmonBinary] + args, timeout: 60)
    }

    /// Root's `list --json` row of container `name`.
    func rootRow(_ name: String) throws -> [String: Any] {
        let out = slirpmon(["list", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]], "\(out.stderr)")
        return try #require(rows.first { ($0["container"] as? [String: Any])?["name"] as? String == name }, "\(name) not listed")
    }

    /// What `nobody` is told about the instance `pid` whose socket sits behind `closedDirectory`.
    func expectCannotBeChecked(pid: Int, socket: String, closedDirectory: String) throws {
        let show = asNobody(["show", String(pid)])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("API socket: \(socket) — not verified: cannot be checked as this user (permission denied): \(closedDirectory) is not searchable"),
                "\(show.stdout)")
        #expect(!show.stdout.contains("missing"), "stat's EACCES reported as a missing socket:\n\(show.stdout)")
        #expect(!show.stdout.contains("FAIL") && !show.stdout.contains("restart"), "a failure and a restart for what was not checked:\n\(show.stdout)")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(asNobody(["show", String(pid), "--json"]).stdout.utf8)) as? [String: Any])
        #expect(json["api_socket_status"] as? String == "unverified")
        #expect((json["findings"] as? [[String: Any]])?.contains { $0["check"] as? String == "api-socket" } == false, "\(json["findings"] ?? "")")

        let list = asNobody(["list", "--json", "--no-podman"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list.stderr)")
        #expect(rows.first { $0["pid"] as? Int == pid }?["api_socket_status"] as? String == "unverified")
        let text = asNobody(["list", "--no-podman"]).stdout.split(separator: "\n").first { $0.hasPrefix("\(pid) ") }
        #expect(text?.contains(" unverified ") == true, "\(text ?? "no row for \(pid)")")
    }

    @Test("a user who may not search root's 0700 /run/libpod is told the API socket cannot be checked, not that it is missing, and gets no restart advice")
    func rootSocketBehindClosedDirectory() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("perm")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.runWebServer(name, port: port)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try #require(run.status == 0, "\(run.stderr)")
        let row = try rootRow(name)
        let pid = try #require(row["pid"] as? Int)
        let socket = try #require(row["api_socket"] as? String)
        try #require(socket.hasPrefix("/run/libpod/"))
        #expect(row["api_socket_status"] as? String == "held", "as root the socket is proven held")

        // Podman makes /run/libpod 0700 on a fresh host; this host's may have been opened since. The
        // mode is the directory's own (a mount namespace cannot change it for others), and 0700 is
        // what Podman itself gives it, so a run killed before the restore leaves Podman's mode.
        let before = try Files.status("/run/libpod").st_mode & 0o7777
        try #require(chmod("/run/libpod", 0o700) == 0, "chmod /run/libpod: \(String(cString: strerror(errno)))")
        defer { chmod("/run/libpod", before) }
        try expectCannotBeChecked(pid: pid, socket: socket, closedDirectory: "/run/libpod")
    }

    @Test("another user sees a rootless user's socket under its 0700 /run/user/UID as not checkable, not missing")
    func rootlessSocketSeenByAnotherUser() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let runtime = "/run/user/\(user.uid)"
        try #require(try Files.status(runtime).st_mode & 0o077 == 0, "\(runtime) is open to others: this test needs it private (0700), as pam_systemd makes it")
        let name = PodmanFixture.name("permrl")
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.runWebServer(name, port: port, user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try #require(run.status == 0, "\(run.stderr)")
        let row = try rootRow(name)
        let socket = try #require(row["api_socket"] as? String)
        try expectCannotBeChecked(pid: try #require(row["pid"] as? Int), socket: socket, closedDirectory: runtime)
    }

    @Test("root adding a forward to a rootless user's container is told whose instance it is, and the printed commands keep the forward when run as they are")
    func rootOnARootlessUsersInstance() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name("rlpersist")
        let port = Int(try DemoFleet.freeTCPPort().value)
        var live = Int(try DemoFleet.freeTCPPort().value)
        while live == port { live = Int(try DemoFleet.freeTCPPort().value) }
        let run = PodmanFixture.runWebServer(name, port: port, user: user)
        defer {
            PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user)
            PodmanFixture.podman(["rm", "-f", "-t", "0", name]) // what a root-run persist command (the bug) made
        }
        try #require(run.status == 0, "\(run.stderr)")

        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(live):80"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stderr.contains("as root, on \(user.name)'s instance"), "\(add.stderr)")
        #expect(add.stderr.contains("slirpmon show \(name)"), "\(add.stderr)")

        let show = slirpmon(["show", name])
        #expect(show.stdout.contains("acting:    as root, on \(user.name)'s instance; its Podman commands run as \(user.name)"), "\(show.stdout)")
        let (_, steps, json) = try PrintedCommandTests.persistSteps(name)
        try #require(steps.count == 2, "\(steps)")
        #expect(steps[0] == "runuser -l \(user.name) -s /bin/sh -c 'podman rm -f \(name)'")
        #expect(steps[1].hasPrefix("runuser -l \(user.name) -s /bin/sh -c '"), "\(steps[1])")
        #expect(steps[1].contains("-p 127.0.0.1:\(live):80/tcp"))
        #expect(json == steps)

        // Run as printed (root's shell): the container comes back as the user's, with the forward configured.
        let ran = PrintedCommandTests.runAsPrinted(steps)
        #expect(ran.status == 0, "\(steps): \(ran.stderr)")
        #expect(PodmanFixture.podman(["container", "exists", name], user: user).status == 0, "the container is not \(user.name)'s")
        #expect(eventually(20) { PodmanFixture.httpGet(port: live)?.contains("slirpmon-fixture") == true }, "the kept forward does not serve")
        #expect(slirpmon(["show", name]).stdout.contains("(live only: not persisted)") == false)
    }

    /// `slirpmon doctor --json` as `nobody` with the scratch's containers.conf; `wrap` runs it in a shell (a private mount namespace).
    func doctorAsNobody(_ s: DoctorScratch, setUp: String = "") -> (Executables.Output, DoctorVerdict) {
        openToOtherUsers(slirpmonBinary)
        let run = "runuser -u nobody -- env CONTAINERS_CONF=\(s.conf) \(slirpmonBinary) doctor --json"
        let out = setUp.isEmpty ? sh("sh", ["-c", run], timeout: 90)
            : sh("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", "set -e\n\(setUp)\nexec \(run)"], timeout: 90)
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        return (out, DoctorVerdict(json: json))
    }

    @Test("the doctor, run by a user whose tmp_dir lies behind a directory it may not search, says so instead of calling tmp_dir missing")
    func doctorTmpDirBehindClosedDirectory() throws {
        let s = try DoctorScratch("closedtmp")
        let closed = s.dir + "/closed"
        mkdir(closed, 0o700)
        mkdir(closed + "/podman-tmp", 0o777)
        chmod(closed + "/podman-tmp", 0o777)
        try s.writeConf(tmpDir: closed + "/podman-tmp")
        let (out, v) = doctorAsNobody(s)
        let host = v.details("host")
        #expect(host.contains("tmp_dir \(closed)/podman-tmp: cannot be reached by uid 65534 (permission denied: \(closed) is not searchable)"),
                "\(host) \(out.stderr)")
        #expect(!host.contains { $0.contains("missing") || $0.contains("does not exist") }, "tmp_dir exists; it is only hidden: \(host)")
        #expect(v.status("host") == "failed")
    }

    @Test("the doctor, run by a user who may not search /dev/net, says /dev/net/tun cannot be checked, not that it is missing")
    func doctorTunBehindClosedDirectory() throws {
        let s = try DoctorScratch("closedtun")
        let before = try Files.status("/dev/net/tun").st_mode
        // /dev/net is closed (0700) only in a private mount namespace; the host's stays as it is.
        let (out, v) = doctorAsNobody(s, setUp: "mount -t tmpfs -o mode=0700 none /dev/net\nmknod -m 0666 /dev/net/tun c 10 200")
        #expect(try Files.status("/dev/net/tun").st_mode == before, "the host's /dev/net/tun is untouched")
        let host = v.details("host")
        #expect(host.contains("/dev/net/tun: cannot be checked as uid 65534 (permission denied: /dev/net is not searchable)"), "\(host) \(out.stderr)")
        #expect(!host.contains { $0.contains("missing") }, "the device is there, only hidden: \(host)")
        #expect(v.kind != "tun-missing", "\(v.json["verdict"] ?? "")")
    }

    @Test("a user whose CONTAINERS_CONF lies behind a directory it may not search is told that, not that the file does not exist")
    func containersConfBehindClosedDirectory() throws {
        let s = try DoctorScratch("closedconf")
        let closed = s.dir + "/closed"
        mkdir(closed, 0o700)
        try s.writeConf()
        let conf = closed + "/containers.conf"
        try Files.write((try Files.readText(s.conf)), to: conf, mode: 0o644)
        openToOtherUsers(slirpmonBinary)
        let out = sh("runuser", ["-u", "nobody", "--", "env", "CONTAINERS_CONF=\(conf)", slirpmonBinary, "doctor"], timeout: 90)
        #expect(out.stdout.contains("CONTAINERS_CONF names a file this user cannot reach (permission denied: \(closed) is not searchable)")
                || out.stderr.contains("CONTAINERS_CONF names a file this user cannot reach (permission denied: \(closed) is not searchable)"),
                "\(out.stdout)\n\(out.stderr)")
        #expect(!(out.stdout + out.stderr).contains("names a file that does not exist"), "the file exists; it is only hidden:\n\(out.stdout)\n\(out.stderr)")
    }
}
