import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A scratch directory with its own containers.conf, so a test sees only the configuration it writes.
final class DoctorScratch {
    let dir: String
    let tag: String
    var conf: String { dir + "/containers.conf" }

    init(_ name: String) throws {
        tag = "smt-doc-\(name)-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        dir = "/tmp/\(tag)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try writeConf()
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes containers.conf with `engine` lines (tmp_dir defaults to a directory of this test).
    func writeConf(_ engine: [String] = [], tmpDir: String? = nil) throws {
        let tmp = tmpDir ?? dir + "/run"
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        let text = "[engine]\ntmp_dir = \"\(tmp)\"\n" + engine.joined(separator: "\n") + "\n"
        try Files.write(text, to: conf)
    }

    /// An executable script in the scratch directory.
    func script(_ name: String, _ body: String) throws -> String {
        let path = "\(dir)/\(name)"
        try Files.write(body, to: path, mode: 0o755)
        return path
    }

    /// Runs `slirpmon doctor ARGS --json` with CONTAINERS_CONF pointing at this directory's file.
    func doctor(_ args: [String], timeout: Double = 60) -> (Executables.Output, [String: Any]) {
        let env = ContainersConf.processEnvironment.merging(["CONTAINERS_CONF": conf]) { $1 }.map { "\($0.key)=\($0.value)" }
        let out: Executables.Output
        switch Executables.run(slirpmonBinary, ["doctor"] + args + ["--json"], timeout: timeout, environment: env) {
        case .success(let o): out = o
        case .failure(let e): out = Executables.Output(status: -1, stdout: "", stderr: "\(e)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        return (out, json)
    }
}

/// The parts of a doctor report the tests look at.
struct DoctorVerdict {
    let json: [String: Any]
    var verdict: [String: Any]? { json["verdict"] as? [String: Any] }
    var step: String? { verdict?["step"] as? String }
    var cause: [String: Any]? { verdict?["cause"] as? [String: Any] }
    var kind: String? { cause?["kind"] as? String }
    var fix: String { cause?["fix"] as? String ?? "" }
    var log: String { json["log"] as? String ?? "" }
    func status(_ name: String) -> String? {
        (json["steps"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["status"] as? String
    }
    func details(_ name: String) -> [String] {
        (json["steps"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["details"] as? [String] ?? []
    }
}

/// What a doctor that has exited left behind: namespaces, scratch dirs and processes named with
/// its tag (`slirpmon-doctor-PID-N`, PID the doctor's own), and processes naming `marker`. A tag
/// whose doctor still runs is work in progress: other suites run doctors in parallel with these.
func doctorLeftovers(marker: String? = nil) -> [String] {
    func leftBehind(_ text: String) -> Bool {
        guard let range = text.range(of: TrialRun.namePrefix) else { return false }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        // Not a tag without its PID: the test image `slirpmon-doctor-bb` in another suite's `podman run`.
        guard let doctor = pid_t(digits) else { return false }
        return kill(doctor, 0) != 0 && errno == ESRCH
    }
    var found: [String] = []
    for name in (try? Files.directoryEntries("/run/netns")) ?? [] where name.hasPrefix(TrialRun.namePrefix) && leftBehind(name) {
        found.append("/run/netns/\(name)")
    }
    for name in (try? Files.directoryEntries("/tmp")) ?? [] where name.hasPrefix(TrialRun.namePrefix) && leftBehind(name) {
        found.append("/tmp/\(name)")
    }
    for pid in (try? Files.processIDs()) ?? [] where pid != getpid() {
        guard let bytes = try? Files.readBytes("/proc/\(pid)/cmdline") else { continue }
        let line = String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        if leftBehind(line) || (marker.map { line.contains($0) } ?? false) {
            found.append("pid \(pid): \(line)")
        }
    }
    return found
}

@Suite("slirpmon doctor: each start-up failure produced for real, named, with its fix",
       .enabled(if: isRoot, "needs root: ip netns, a test user, podman"), .serialized)
struct DoctorTests {
    @Test("a healthy configuration passes every step; the trial proves addresses and the API socket; nothing is left")
    func healthy() throws {
        let s = try DoctorScratch("ok")
        let (out, json) = s.doctor(["--options", "port_handler=slirp4netns,cidr=10.77.0.0/16"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        #expect(json["healthy"] as? Bool == true)
        #expect(json["verdict"] is NSNull)
        for step in ["binary", "options", "features", "trial", "host"] { #expect(v.status(step) == "passed", "\(step): \(v.details(step))") }
        #expect(v.details("trial").contains { $0.hasPrefix("guest: expected 10.77.0.100/16, observed 10.77.0.100/16") })
        #expect(v.details("trial").contains { $0.contains("answers list_hostfwd (0 forwards)") })
        #expect(v.log.contains("api_handler: got request"))
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
        let text = slirpmonWithConf(s, ["doctor"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("VERDICT: healthy"))
    }

    @Test("mtu=65530: slirp4netns refuses it in the trial; the doctor says so and gives Podman's default")
    func mtu() throws {
        let s = try DoctorScratch("mtu")
        let (out, json) = s.doctor(["--options", "mtu=65530"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.step == "trial", "the cause the options step foresees is named from the trial's log")
        #expect(v.kind == "mtu-too-large")
        #expect(v.status("options") == "failed", "Podman accepts it and slirp4netns refuses it for certain: the options step fails")
        #expect(v.log.contains("MTU must be a positive integer (< 65522)"))
        #expect(v.fix.contains("mtu=65520"))
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("--no-trial with mtu=65530 or a cidr slirp4netns refuses is not healthy: the options step fails with the trial's cause")
    func refusedOptionsWithoutTrial() throws {
        let s = try DoctorScratch("notrial")
        for (options, kind) in [("mtu=65530", "mtu-too-large"), ("cidr=10.0.2.0/30", "cidr-prefix-length"),
                                ("cidr=10.0.2.1/24", "cidr-not-network-address")] {
            let (out, json) = s.doctor(["--no-trial", "--options", options])
            let v = DoctorVerdict(json: json)
            #expect(out.status == 1, "\(options): \(out.stdout.suffix(400))")
            #expect(json["healthy"] as? Bool == false, "\(options)")
            #expect(v.step == "options" && v.kind == kind, "\(options): \(v.step ?? "-") \(v.kind ?? "-")")
            #expect(v.status("trial") == "skipped", "\(options)")
        }
    }

    @Test("cidr=10.0.2.0/30: the prefix length must be 1-25")
    func cidrPrefix() throws {
        let s = try DoctorScratch("cidr")
        let (out, json) = s.doctor(["--options", "cidr=10.0.2.0/30"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.kind == "cidr-prefix-length")
        #expect(v.log.contains("prefix length needs to be 1-25"))
        #expect(v.fix.contains("cidr=10.0.2.0/24"))
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("cidr=10.0.2.5/24: slirp4netns wants the network address, and the fix names it")
    func cidrHostBits() throws {
        let s = try DoctorScratch("hostbits")
        let (out, json) = s.doctor(["--options", "cidr=10.0.2.5/24"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.kind == "cidr-not-network-address")
        #expect(v.log.contains("CIDR needs to be a network address like 10.0.2.0/24, not like 10.0.2.100/24"))
        #expect(v.fix == "use cidr=10.0.2.0/24")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("frob=1: Podman's own check refuses it before slirp4netns runs")
    func unknownOption() throws {
        let s = try DoctorScratch("frob")
        let (out, json) = s.doctor(["--options", "frob=1"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.step == "options")
        #expect(v.kind == "unknown-option")
        #expect((v.cause?["evidence"] as? String) == #"unknown option for slirp4netns: "frob=1""#)
        #expect(v.status("trial") == "skipped")
    }

    @Test("network_cmd_path names a missing file: slirp4netns missing")
    func binaryMissing() throws {
        let s = try DoctorScratch("missing")
        try s.writeConf(["network_cmd_path = \"\(s.dir)/no-such-slirp4netns\""])
        let (out, json) = s.doctor([])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.step == "binary")
        #expect(v.kind == "slirp4netns-missing")
        #expect((v.cause?["cause"] as? String)?.contains("no-such-slirp4netns") == true)
        #expect(v.status("trial") == "skipped")
    }

    @Test("an old slirp4netns without --enable-ipv6: Podman's 'enable_ipv6 not supported'; enable_ipv6=false gets past it")
    func oldBinary() throws {
        let s = try DoctorScratch("old")
        let real = try #require(Executables.find("slirp4netns"))
        let old = try s.script("slirp4netns-0.4", """
        #!/bin/sh
        # A stand-in for slirp4netns 0.4: an old --help and --version; otherwise the real binary.
        case "$1" in
          --help|-h) \(real) --help | grep -v -e enable-ipv6 -e outbound-addr6; exit 0 ;;
          --version|-v) echo "slirp4netns version 0.4.3"; exit 0 ;;
        esac
        exec \(real) "$@"
        """)
        try s.writeConf(["network_cmd_path = \"\(old)\""])
        let (out, json) = s.doctor([])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.step == "features")
        #expect(v.kind == "feature-missing")
        #expect((v.cause?["evidence"] as? String) == "enable_ipv6 not supported")
        #expect(v.fix.contains("enable_ipv6=false"))
        #expect((v.cause?["cause"] as? String)?.contains("0.4.3") == true)

        let (fixed, fixedJSON) = s.doctor(["--options", "enable_ipv6=false"])
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(DoctorVerdict(json: fixedJSON).status("trial") == "passed")
    }

    @Test("a user with /dev/net/tun 0600: open(\"/dev/net/tun\"): Permission denied, and chmod 0666 is the fix")
    func tunDenied() throws {
        let s = try DoctorScratch("tun")
        let user = try testUser()
        // The 0600 device exists only in a private mount namespace: the host's tun keeps its mode on every path.
        let modeBefore = try Files.status("/dev/net/tun").st_mode
        let inner = """
        set -e
        mount -t tmpfs -o mode=0755 none \(s.dir)/run
        mknod -m 0600 \(s.dir)/run/tun c 10 200
        mount --bind \(s.dir)/run/tun /dev/net/tun
        exec runuser -u \(user) -- env CONTAINERS_CONF=\(s.conf) \(slirpmonBinary) doctor --json
        """
        try s.writeConf(tmpDir: "\(s.dir)/user-run")
        let out = sh("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", inner], timeout: 60)
        #expect(try Files.status("/dev/net/tun").st_mode == modeBefore, "the host's /dev/net/tun is untouched")
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1, "\(out.stdout) \(out.stderr)")
        #expect((json["subject"] as? [String: Any])?["mode"] as? String == "rootless")
        #expect(v.step == "trial")
        #expect(v.kind == "tun-permission-denied")
        #expect(v.log.contains("open(\"/dev/net/tun\"): Permission denied"))
        #expect(v.fix.contains("chmod 0666 /dev/net/tun"))
        #expect(v.status("host") == "failed")
        #expect(v.details("host").contains { $0.contains("mode 0600") })
        #expect(eventually(3) { doctorLeftovers().isEmpty }, "\(doctorLeftovers())")
    }

    @Test("outbound_addr not on this host: slirp4netns starts, the host check explains why nothing gets out")
    func outboundNotLocal() throws {
        let s = try DoctorScratch("outbound")
        let local = ObservedAddresses.localAddresses(fibTrie: (try? Files.readText("/proc/net/fib_trie")) ?? "")
        let address = try #require((1...254).map { IPv4Address(192, 0, 2, UInt8($0)) }.first { !local.contains($0) })
        let (out, json) = s.doctor(["--options", "outbound_addr=\(address)"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.status("trial") == "passed", "slirp4netns only binds the address per connection")
        #expect(v.step == "host")
        #expect(v.kind == "outbound-address-not-local")
        #expect(v.log.contains("outbound-addr"))
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("a long tmp_dir: the API socket path is over 107 bytes; slirp4netns really refuses it")
    func longSocketPath() throws {
        let s = try DoctorScratch("long")
        let tmp = s.dir + "/" + String(repeating: "t", count: 60)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try s.writeConf(tmpDir: tmp)
        let (out, json) = s.doctor(["--options", "port_handler=slirp4netns"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.step == "trial")
        #expect(v.kind == "api-socket-path-too-long")
        #expect(v.log.contains("the specified API socket path is too long"))
        #expect(v.fix.contains("tmp_dir"))
        #expect(v.status("host") == "failed")
        #expect((try? Files.directoryEntries(tmp))?.isEmpty == true, "no log or socket left in tmp_dir")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("root's doctor in a shared tmp_dir removes its own API socket, never a user's file put at that name after slirp4netns exits")
    func sharedTmpDirKeepsAUsersFile() throws {
        let s = try DoctorScratch("shared")
        let user = try testUser()
        // getpwnam's entry is shared by every thread (tests run in parallel): copied at once.
        let (uid, gid) = try #require(getpwnam(user).map { ($0.pointee.pw_uid, $0.pointee.pw_gid) })
        // tmp_dir as users share it (/tmp's mode): anyone creates, only the owner removes, root removes anything.
        // Short: Podman's socket path is tmp_dir + 69 bytes, at most 107.
        let shared = "/tmp/smt-sh-\(UInt32.random(in: 0..<1_000_000))"
        mkdir(shared, 0o755)
        chmod(shared, 0o1777)
        defer { try? FileManager.default.removeItem(atPath: shared) }
        let setpriv = try #require(Executables.find("setpriv"), "setpriv (util-linux) is missing")
        let real = try #require(Executables.find("slirp4netns"))
        let record = s.dir + "/user-file"
        // slirp4netns runs as Podman runs it (exec: the doctor's own child). When the doctor asks it
        // to exit (EOF on the exit pipe, fd 3), a watcher holds it stopped, takes the name away
        // (as slirp4netns's own exit or a crash would free it) and the user puts a file there,
        // before the doctor cleans up.
        let wrapper = try s.script("slirp4netns-then-user", """
        #!/bin/sh
        sock=""; prev=""
        for a in "$@"; do [ "$prev" = "--api-socket" ] && sock="$a"; prev="$a"; done
        if [ -n "$sock" ]; then
          me=$$
          (
            cat <&3 >/dev/null
            kill -STOP $me
            rm -f "$sock"
            \(setpriv) --reuid=\(uid) --regid=\(gid) --clear-groups sh -c "echo the-users-own > '$sock'"
            echo "$sock" > \(record)
          ) 4>&- &
        fi
        exec \(real) "$@"
        """)
        try s.writeConf(["network_cmd_path = \"\(wrapper)\""], tmpDir: shared)
        let (out, json) = s.doctor(["--options", "port_handler=slirp4netns"])
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        #expect(DoctorVerdict(json: json).details("trial").contains { $0.contains("answers list_hostfwd") }, "\(json)")
        let path = try #require((try? Files.readText(record))?.trimmingCharacters(in: .whitespacesAndNewlines), "the wrapper never saw --api-socket")
        let after = try? Files.linkStatus(path)
        #expect(after?.st_uid == uid, "root's doctor deleted the user's file at \(path)")
        #expect((try? Files.readText(path)) == "the-users-own\n")
        unlink(path)
        #expect((try? Files.directoryEntries(shared))?.isEmpty == true, "nothing else left in tmp_dir: \((try? Files.directoryEntries(shared)) ?? [])")

        // Without the user: the doctor's own socket is removed.
        try s.writeConf(tmpDir: shared)
        let (plain, _) = s.doctor(["--options", "port_handler=slirp4netns"])
        #expect(plain.status == 0, "\(plain.stdout) \(plain.stderr)")
        #expect((try? Files.directoryEntries(shared))?.isEmpty == true, "the doctor left \((try? Files.directoryEntries(shared)) ?? []) in tmp_dir")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("a slirp4netns that never reports ready: the doctor stops at its deadline and kills it")
    func readyTimeout() throws {
        let s = try DoctorScratch("hang")
        let marker = "standin-\(s.tag)"
        let real = try #require(Executables.find("slirp4netns"))
        let hang = try s.script("slirp4netns-hang", """
        #!/bin/bash
        # Answers --help and --version like slirp4netns, then never writes to the ready fd.
        case "$1" in --help|-h|--version|-v) exec \(real) "$1" ;; esac
        echo "stand-in: pretending to start" >&2
        exec -a \(marker) sleep 600
        """)
        try s.writeConf(["network_cmd_path = \"\(hang)\""])
        let started = Deadline.now
        let (out, json) = s.doctor(["--timeout", "1.5"])
        let v = DoctorVerdict(json: json)
        #expect(Deadline.now.seconds(since: started) < 20)
        #expect(out.status == 1)
        #expect(v.step == "trial")
        #expect(v.kind == "ready-timeout")
        #expect(v.log.contains("stand-in: pretending to start"))
        #expect(doctorLeftovers(marker: marker).isEmpty, "\(doctorLeftovers(marker: marker))")
    }

    @Test("Ctrl-C, SIGTERM or SIGHUP during the trial removes the namespace, stops slirp4netns and exits 128 + the signal",
          arguments: [SIGINT, SIGTERM, SIGHUP])
    func interrupted(signal: Int32) throws {
        let s = try DoctorScratch("intr")
        let marker = "standin-\(s.tag)"
        let real = try #require(Executables.find("slirp4netns"))
        let hang = try s.script("slirp4netns-hang", """
        #!/bin/bash
        case "$1" in --help|-h|--version|-v) exec \(real) "$1" ;; esac
        exec -a \(marker) sleep 600
        """)
        try s.writeConf(["network_cmd_path = \"\(hang)\""])
        let env = ContainersConf.processEnvironment.merging(["CONTAINERS_CONF": s.conf]) { $1 }.map { "\($0.key)=\($0.value)" }
        let pid = try Executables.spawn(slirpmonBinary, ["doctor", "--timeout", "60"], environment: env).get()
        let started = eventually(10) { doctorLeftovers(marker: marker).contains { $0.contains(marker) } }
        #expect(started, "the stand-in slirp4netns should be running")
        #expect(((try? Files.directoryEntries("/run/netns")) ?? []).contains { $0.hasPrefix("\(TrialRun.namePrefix)\(pid)-") }, "the running doctor's namespace")
        kill(pid, signal)
        let status = Executables.waitFor(pid)
        #expect(status == 128 + signal)
        #expect(eventually(3) { doctorLeftovers(marker: marker).isEmpty }, "\(doctorLeftovers(marker: marker))")
    }

    @Test("doctor CONTAINER: a container created with mtu=65530 fails to start; the doctor names the MTU and the fix")
    func container() throws {
        guard Executables.find("podman") != nil else { Issue.record("podman is not installed (bash assets/setup.sh)"); return }
        let s = try DoctorScratch("ctr")
        let setup = sh("bash", [packageRoot + "/assets/podman-test-setup.sh", s.dir + "/podman"], timeout: 120)
        try #require(setup.status == 0, "\(setup.stderr)")
        let conf = setup.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let env = ContainersConf.processEnvironment.merging(["CONTAINERS_CONF": conf]) { $1 }.map { "\($0.key)=\($0.value)" }
        let podman = try #require(Executables.find("podman"))
        let name = s.tag
        let port = try DemoFleet.freeTCPPort()
        defer { _ = Executables.run(podman, ["rm", "-f", name], timeout: 60, environment: env) }
        let run = try Executables.run(podman, ["run", "-d", "--name", name, "--network", "slirp4netns:mtu=65530",
                                               "-p", "127.0.0.1:\(port.value):80", "localhost/slirpmon-doctor-bb", "httpd", "-f", "-p", "80"],
                                      timeout: 120, environment: env).get()
        #expect(run.status != 0, "podman cannot start it")
        #expect(run.stderr.contains("MTU must be a positive integer"))

        let out = try Executables.run(slirpmonBinary, ["doctor", name, "--json"], timeout: 120, environment: env).get()
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1, "\(out.stderr)")
        let subject = json["subject"] as? [String: Any] ?? [:]
        #expect(subject["container"] as? String == name)
        #expect(subject["options"] as? [String] == ["mtu=65530"])
        #expect(subject["port_mappings"] as? Int == 1)
        #expect((subject["container_id"] as? String)?.count == 64)
        #expect(v.kind == "mtu-too-large")
        #expect(v.fix.contains("mtu=65520"))

        let text = try Executables.run(slirpmonBinary, ["doctor", name], timeout: 120, environment: env).get()
        #expect(text.stdout.contains("VERDICT: the trial step fails: mtu-too-large"))
        let missing = try Executables.run(slirpmonBinary, ["doctor", "\(name)-nope"], timeout: 60, environment: env).get()
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("slirpmon: podman container inspect"))
    }

    @Test("usage errors exit 2")
    func usage() {
        #expect(slirpmon(["doctor", "--timeout", "0"]).status == 2)
        #expect(slirpmon(["doctor", "ctr", "--options", "mtu=1500"]).status == 2)
    }

    /// A system user for the rootless tests (created once, kept: it owns nothing).
    func testUser() throws -> String {
        let name = "slirpmon-doctor"
        if getpwnam(name) == nil {
            let out = sh("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            try #require(out.status == 0 || getpwnam(name) != nil, "useradd failed: \(out.stderr)")
        }
        return name
    }

    func slirpmonWithConf(_ s: DoctorScratch, _ args: [String]) -> Executables.Output {
        let env = ContainersConf.processEnvironment.merging(["CONTAINERS_CONF": s.conf]) { $1 }.map { "\($0.key)=\($0.value)" }
        return (try? Executables.run(slirpmonBinary, args, timeout: 60, environment: env).get())
            ?? Executables.Output(status: -1, stdout: "", stderr: "could not run")
    }
}

@Suite("Passive checks on running instances", .enabled(if: isRoot, "needs root for ip netns"))
struct PassiveCheckTests {
    @Test("a healthy instance has no findings; a removed API socket is a failure in show and show --json")
    func socketRemoved() throws {
        let lab = try TestLab("pass")
        let instance = try lab.start(.init(name: "p"))
        let before = slirpmon(["show", String(instance.pid), "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [String: Any])
        #expect((json["findings"] as? [Any])?.isEmpty == true)
        #expect(json["pid"] as? Int == Int(instance.pid), "the instance keys are still there")

        unlink(try #require(instance.apiSocket))
        let after = slirpmon(["show", String(instance.pid), "--json"])
        let afterJSON = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        let findings = try #require(afterJSON["findings"] as? [[String: Any]])
        #expect(findings.first?["check"] as? String == "api-socket")
        #expect(findings.first?["severity"] as? String == "failure")
        let text = slirpmon(["show", String(instance.pid)])
        #expect(text.stdout.contains("FAIL api-socket: API socket"))
    }
}

@Suite("Passive checks on a defunct slirp4netns")
struct DefunctCheckTests {
    @Test("a slirp4netns that exited and was not reaped is a failure finding")
    func defunct() throws {
        let real = try #require(Executables.find("slirp4netns"))
        // A failed start, not reaped yet: the `[slirp4netns] <defunct>` Podman can leave behind.
        let pid = try Executables.spawn(real, ["--mtu=65530", "1", "tap0"]).get()
        defer { Executables.waitFor(pid) }
        #expect(eventually(5) { (try? Files.readText("/proc/\(pid)/stat"))?.contains(") Z ") == true })
        let process = try #require(try ProcessScanner().scan().first { $0.pid == pid })
        let findings = PassiveChecks.run(on: Inventory(options: .init(purpose: .show)).inspect(process))
        #expect(findings.first?.check == "process")
        #expect(findings.first?.severity == .failure)
        #expect(findings.first?.message.contains("defunct") == true)
    }
}

/// The package directory (for assets/), from the test binary's location.
var packageRoot: String {
    var dir = (slirpmonBinary as NSString).deletingLastPathComponent
    while !dir.isEmpty && dir != "/" && !Files.exists(dir + "/Package.swift") { dir = (dir as NSString).deletingLastPathComponent }
    return dir
}
