import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// The test user of the Docker rootless doctor, `slirpmon-dd` (never DockerRootlessFixture's
/// `slirpmon-dk`, whose lock and daemon other suites hold): subordinate ids, a runtime dir, and
/// the host's /dev/net/tun as it is (never changed here: other tests need it 0666).
struct DoctorUser {
    static let name = "slirpmon-dd"
    let account: UntrustedProgram.Account
    var runtime: String { "/run/user/\(account.uid)" }
    var unitDirectory: String { "\(account.home)/.config/systemd/user" }

    init() throws {
        guard isRoot else { throw LabSetupError("the Docker rootless doctor tests need root (they create the user \(Self.name))") }
        for file in ["/usr/bin/rootlesskit", "/usr/bin/slirp4netns", "/usr/bin/newuidmap", DockerRootlessDoctor.debianScript] where access(file, X_OK) != 0 {
            throw LabSetupError("\(file) is missing: run assets/setup.sh (rootlesskit, slirp4netns, uidmap, docker.io)")
        }
        if getpwnam(Self.name) == nil {
            let out = sh("useradd", ["-m", "-s", "/bin/sh", Self.name])
            guard out.status == 0 || getpwnam(Self.name) != nil else { throw LabSetupError("useradd failed: \(out.stderr)") }
        }
        guard let account = UntrustedProgram.Account.named(Self.name) else { throw LabSetupError("no user \(Self.name)") }
        self.account = account
        for file in ["/etc/subuid", "/etc/subgid"] {
            let text = (try? Files.readText(file)) ?? ""
            if !text.split(separator: "\n").contains(where: { $0.hasPrefix("\(Self.name):") }) {
                let out = sh("usermod", [file.hasSuffix("uid") ? "--add-subuids" : "--add-subgids", "800000-865535", Self.name])
                guard out.status == 0 else { throw LabSetupError("usermod failed: \(out.stderr)") }
            }
        }
        mkdir("/run/user", 0o755)
        mkdir(runtime, 0o700)
        chown(runtime, account.uid, account.gid)
        chmod(runtime, 0o700)
        guard let tun = try? Files.status("/dev/net/tun"), tun.st_mode & 0o666 == 0o666 else {
            throw LabSetupError("/dev/net/tun is not 0666 on this host: assets/setup.sh makes it so (rootless slirp4netns needs it); these tests never change it")
        }
        openToOtherUsers(slirpmonBinary)
        removeUnit()
    }

    /// Writes the user's `docker.service` (and drop-ins) as the user would, owned by them.
    func writeUnit(_ text: String, dropIns: [String: String] = [:]) throws {
        removeUnit()
        for dir in ["\(account.home)/.config", "\(account.home)/.config/systemd", unitDirectory, "\(unitDirectory)/docker.service.d"] {
            mkdir(dir, 0o755)
            chown(dir, account.uid, account.gid)
        }
        try Files.write(text, to: "\(unitDirectory)/docker.service")
        chown("\(unitDirectory)/docker.service", account.uid, account.gid)
        for (name, body) in dropIns {
            try Files.write(body, to: "\(unitDirectory)/docker.service.d/\(name)")
            chown("\(unitDirectory)/docker.service.d/\(name)", account.uid, account.gid)
        }
    }

    func removeUnit() { sh("rm", ["-rf", "\(account.home)/.config/systemd"]) }

    /// What the doctor left: the user's live processes (zombies are PID 1's to reap) and trial directories.
    func leftovers() -> [String] {
        let processes = ((try? Files.processIDs()) ?? []).filter { pid in
            guard HostileUser.isAlive(pid), let st = try? Files.status("/proc/\(pid)") else { return false }
            let state = (try? Files.readText("/proc/\(pid)/stat")).flatMap { $0.split(separator: ")").last?.split(separator: " ").first } ?? ""
            return st.st_uid == account.uid && state != "Z"
        }
        let dirs = ((try? Files.directoryEntries(runtime)) ?? []).filter { $0.hasPrefix("slirpmon-dd-trial") }
        return processes.map { "process \(HostileUser.describe($0))" } + dirs.map { "directory \(runtime)/\($0)" }
    }

    /// A directory for PATH holding links to the programs named (nothing else), readable by the user.
    func pathDirectory(_ tag: String, with programs: [String], extra: [String: String] = [:]) throws -> String {
        let dir = "/tmp/slirpmon-dd-path-\(tag)-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        guard mkdir(dir, 0o755) == 0 else { throw LabSetupError("mkdir \(dir) failed") }
        chmod(dir, 0o755)
        for program in programs {
            guard let found = Executables.find(program) else { throw LabSetupError("\(program) is not installed") }
            symlink(found, "\(dir)/\(program)")
        }
        for (name, body) in extra { try Files.write(body, to: "\(dir)/\(name)", mode: 0o755) }
        return dir
    }

    /// `slirpmon doctor --docker-rootless slirpmon-dd ARGS --json` as root, its report parsed.
    func doctor(_ args: [String] = [], timeout: Double = 90) -> (Executables.Output, DoctorVerdict) {
        let out = slirpmon(["doctor", "--docker-rootless", Self.name] + args + ["--json"], timeout: timeout)
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        return (out, DoctorVerdict(json: json))
    }
}

extension DoctorVerdict {
    var evidence: String { cause?["evidence"] as? String ?? "" }
    var causeText: String { cause?["cause"] as? String ?? "" }
    var problems: [String] { (json["subject"] as? [String: Any])?["problems"] as? [String] ?? [] }
}

@Suite("doctor --docker-rootless: a Docker rootless start that fails because of slirp4netns is explained with the variable to change", .serialized)
struct DockerRootlessDoctorTests {
    let user: DoctorUser
    init() throws { user = try DoctorUser() }

    @Test("an operator's healthy Docker rootless passes: the real trial starts rootlesskit with slirp4netns, tap0 comes up, and nothing is left behind")
    func goodConfigurationPasses() throws {
        let (out, report) = user.doctor()
        #expect(out.status == 0, "\(out.stderr)\n\(out.stdout.prefix(3000))")
        #expect(report.json["healthy"] as? Bool == true && report.verdict == nil, "\(out.stdout.prefix(3000))")
        #expect(report.status("trial") == "passed")
        // The probe waits for rootlesskit's API socket (served once the port driver is up): a command that exits
        // before that makes rootlesskit fail now and then (`read unix ... .bp.sock: connection reset by peer`).
        #expect(report.details("trial").contains { $0.contains("tap0 is up, the port driver and the API socket are served") }, "\(report.details("trial"))")
        // The 20.10 script picks slirp4netns itself (in PATH, --help lists --netns-type) and then uses MTU 65520.
        let arguments = report.json["arguments"] as? [String] ?? []
        #expect(Array(arguments.prefix(2)) == ["--net=slirp4netns", "--mtu=65520"] && arguments.contains("--port-driver=builtin"), "\(arguments)")
        #expect(report.json["binary"] as? String == "/usr/bin/rootlesskit")
        let validator = try SchemaValidator()
        try validator.expectValid(out, as: "doctor_docker_rootless", "doctor --docker-rootless USER --json")
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("MTU 70000 in the user's systemd unit: rootlesskit's own refusal, and the fix names DOCKERD_ROOTLESS_ROOTLESSKIT_MTU in that file")
    func tooLargeMTUInTheUnit() throws {
        defer { user.removeUnit() }
        try user.writeUnit("""
            [Unit]
            Description=Docker Application Container Engine (Rootless)
            [Service]
            Environment=PATH=/usr/bin:/sbin:/usr/sbin:/bin
            Environment="DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns" DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=70000
            ExecStart=\(DockerRootlessDoctor.debianScript)

            """)
        let (out, report) = user.doctor()
        #expect(out.status == 1, "\(out.stderr)\n\(out.stdout.prefix(3000))")
        #expect(report.step == "trial" && report.kind == "mtu-too-large", "\(out.stdout.prefix(3000))")
        #expect(report.evidence.contains("mtu must be <= 65521, got 70000"), "rootlesskit's own words: \(report.evidence)")
        #expect(report.fix.contains("DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=65520") && report.fix.contains("\(user.unitDirectory)/docker.service"), "\(report.fix)")
        #expect(try SchemaValidator().problems(out.stdout, as: "doctor_docker_rootless").isEmpty, "a failed report has the written shape too")
        #expect(report.status("settings") == "failed", "foreseen before the trial")
        #expect(report.details("settings").contains { $0.hasPrefix("DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=\"70000\" (\(user.unitDirectory)/docker.service)") })
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("an MTU that is not a number, or below 68, is named with the variable to change", arguments: [
        ("abc", "invalid-option", "invalid value \"abc\" for flag -mtu"),
        ("60", "mtu-too-small", "slirp4netns failed"),
    ])
    func badMTU(value: String, kind: String, evidence: String) throws {
        let (out, report) = user.doctor(["--env", "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=\(value)"])
        #expect(out.status == 1, "\(out.stderr)\n\(out.stdout.prefix(3000))")
        #expect(report.step == "trial" && report.kind == kind, "\(out.stdout.prefix(3000))")
        #expect(report.evidence.contains(evidence), "\(report.evidence)")
        #expect(report.fix.hasPrefix("set DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=65520 (now \"\(value)\", from --env)"), "\(report.fix)")
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("a port driver rootlesskit does not know, or an option it does not know in DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS, is named as written", arguments: [
        ("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=foo", "invalid-option", "unknown port driver: foo", "set DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=builtin (now \"foo\", from --env)"),
        ("DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--debug --bogus=1", "unknown-option", "flag provided but not defined: -bogus", "remove --bogus=1 from DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS (from --env)"),
    ])
    func refusedValue(assignment: String, kind: String, evidence: String, fix: String) throws {
        let (out, report) = user.doctor(["--env", assignment])
        #expect(out.status == 1 && report.step == "trial" && report.kind == kind, "\(out.stdout.prefix(3000))")
        #expect(report.evidence.contains(evidence), "\(report.evidence)")
        #expect(report.fix.hasPrefix(fix), "\(report.fix)")
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("slirp4netns missing from the daemon's PATH: the script's own message when it picks the driver, rootlesskit's when DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns")
    func slirp4netnsMissing() throws {
        let dir = try user.pathDirectory("noslirp", with: ["rootlesskit", "newuidmap", "newgidmap", "nsenter", "ip", "sh", "sleep"])
        defer { sh("rm", ["-rf", dir]) }
        let (auto, picked) = user.doctor(["--env", "PATH=\(dir)"])
        #expect(auto.status == 1 && picked.step == "script" && picked.kind == "slirp4netns-missing", "\(auto.stdout.prefix(3000))")
        #expect(picked.evidence == "Either slirp4netns (>= v0.4.0) or vpnkit needs to be installed", "\(picked.evidence)")
        #expect(picked.status("trial") == "skipped")

        let (explicit, named) = user.doctor(["--env", "PATH=\(dir)", "--env", "DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns"])
        #expect(explicit.status == 1 && named.step == "trial" && named.kind == "slirp4netns-missing", "\(explicit.stdout.prefix(3000))")
        #expect(named.evidence.contains("exec: \"slirp4netns\": executable file not found in $PATH"), "\(named.evidence)")
        #expect(named.fix.contains("apt-get install slirp4netns"), "\(named.fix)")
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("/dev/net/tun 0600 (a private mount namespace's, the host's untouched): the trial's ip tuntap refusal, the mode, and chmod 666 as the fix")
    func tunNotOpenToUsers() throws {
        let hostMode = try Files.status("/dev/net/tun").st_mode & 0o7777
        // mknod in a private tmpfs, bound over /dev/net/tun inside a mount namespace of this test only.
        let script = """
            set -e; d=$(mktemp -d /tmp/slirpmon-dd-tun.XXXXXX); mount -t tmpfs -o mode=700 none "$d"; \
            mknod -m 600 "$d/tun" c 10 200; mount --bind "$d/tun" /dev/net/tun; \
            set +e; "$0" doctor --docker-rootless \(DoctorUser.name) --env DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns --json; rc=$?; \
            umount /dev/net/tun; umount "$d"; rmdir "$d"; exit $rc
            """
        let out = sh("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, slirpmonBinary], timeout: 90)
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        let report = DoctorVerdict(json: json)
        #expect(out.status == 1, "\(out.stderr)\n\(out.stdout.prefix(3000))")
        #expect(report.step == "trial" && report.kind == "tun-permission-denied", "\(out.stdout.prefix(3000))")
        #expect(report.causeText.contains("mode 0600"), "\(report.causeText)")
        #expect(report.evidence.hasPrefix("open: Permission denied") && report.evidence.contains("ip tuntap add"), "\(report.evidence)")
        #expect(report.fix.hasPrefix("chmod 0666 /dev/net/tun") && report.fix.contains("udev"), "\(report.fix)")
        #expect(report.status("host") == "failed")
        #expect(try Files.status("/dev/net/tun").st_mode & 0o7777 == hostMode, "the host's /dev/net/tun is unchanged")
        #expect(((try? Files.directoryEntries("/tmp")) ?? []).filter { $0.hasPrefix("slirpmon-dd-tun.") }.isEmpty)
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("root examines a user's unit as the user: a drop-in linked to /etc/shadow is not read, a FIFO is never opened, and the report still comes")
    func hostileUnitIsReadAsTheUser() throws {
        defer { user.removeUnit() }
        try user.writeUnit("[Service]\nEnvironment=DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=slirp4netns\n",
                           dropIns: ["10-flags.conf": "[Service]\nEnvironment=\"DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--cidr=10.0.5.0/24\"\n"])
        let dropIns = "\(user.unitDirectory)/docker.service.d"
        symlink("/etc/shadow", "\(dropIns)/20-shadow.conf")
        mkfifo("\(dropIns)/30-fifo.conf", 0o644)
        chown("\(dropIns)/30-fifo.conf", user.account.uid, user.account.gid)
        let (out, report) = user.doctor(timeout: 60)
        #expect(out.status == 0, "\(out.stderr)\n\(out.stdout.prefix(3000))")
        #expect(report.problems.contains("\(dropIns)/20-shadow.conf: skipped: Permission denied"), "\(report.problems)")
        #expect(report.problems.contains { $0.hasPrefix("\(dropIns)/30-fifo.conf: skipped:") && $0.contains("FIFO") }, "\(report.problems)")
        let arguments = report.json["arguments"] as? [String] ?? []
        #expect(arguments.contains("--port-driver=slirp4netns") && arguments.last == "--cidr=10.0.5.0/24", "\(arguments)")
        #expect(report.status("trial") == "passed", "the slirp4netns port driver with --cidr starts for real")
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("a --state-dir in DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS (the daemon's own) is never the trial's: rootlesskit wipes a state dir at start, and the daemon's files stay")
    func daemonStateDirectoryIsLeftAlone() throws {
        let daemonState = "\(user.runtime)/dockerd-rootless"
        sh("rm", ["-rf", daemonState])
        mkdir(daemonState, 0o700)
        chown(daemonState, user.account.uid, user.account.gid)
        try Files.write("the daemon's\n", to: "\(daemonState)/marker")
        defer { sh("rm", ["-rf", daemonState]) }
        let (out, report) = user.doctor(["--env", "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--state-dir=\(daemonState)"])
        #expect(out.status == 0, "\(out.stderr)\n\(out.stdout.prefix(3000))")
        #expect(report.status("trial") == "passed")
        #expect((try? Files.readText("\(daemonState)/marker")) == "the daemon's\n", "the daemon's state dir was wiped")
        #expect(eventually(5) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("Ctrl-C while rootlesskit waits for a slirp4netns that never gets ready: exit 130, rootlesskit stopped, the trial directory removed")
    func interruptCleansUp() throws {
        // A slirp4netns that answers --help as the real one and then never reports ready.
        let stuck = "#!/bin/sh\ncase \"$1\" in --help) exec /usr/bin/slirp4netns --help;; esac\nexec /bin/sleep 600\n"
        let dir = try user.pathDirectory("stuck", with: ["rootlesskit", "newuidmap", "newgidmap", "nsenter", "ip", "sh", "sleep"], extra: ["slirp4netns": stuck])
        defer { sh("rm", ["-rf", dir]) }
        var outPipe: [Int32] = [0, 0]
        pipe(&outPipe)
        let spawned = Executables.spawn(slirpmonBinary, ["doctor", "--docker-rootless", DoctorUser.name, "--env", "PATH=\(dir)", "--timeout", "60"],
                                        descriptors: [1: outPipe[1], 2: outPipe[1]])
        close(outPipe[1])
        defer { close(outPipe[0]) }
        guard case .success(let pid) = spawned else { Issue.record("cannot start slirpmon: \(spawned)"); return }
        let started = eventually(20) {
            ((try? Files.processIDs()) ?? []).contains { p in
                (try? Files.readText("/proc/\(p)/cmdline"))?.hasPrefix("\(dir)/slirp4netns") == true
                    || (try? Files.readText("/proc/\(p)/cmdline"))?.hasPrefix("/bin/sleep\u{0}600") == true
            }
        }
        #expect(started, "the stuck slirp4netns never ran")
        kill(pid, SIGINT)
        let status = Executables.waitFor(pid)
        var output = [UInt8](repeating: 0, count: 65536)
        let n = read(outPipe[0], &output, output.count)
        let text = String(decoding: output.prefix(max(n, 0)), as: UTF8.self)
        #expect(status == 130, "\(text)")
        #expect(text.contains("interrupted; removed rootlesskit"), "\(text)")
        #expect(eventually(10) { user.leftovers().isEmpty }, "left behind: \(user.leftovers())")
    }

    @Test("the rootlesskit arguments the doctor computes are the ones Debian's dockerd-rootless.sh execs (a rootlesskit stand-in prints them)", arguments: [
        [String](),
        ["DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns"],
        ["DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns", "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=9000", "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=slirp4netns"],
        ["DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SANDBOX=false", "DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SECCOMP=true",
         "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--cidr=10.0.5.0/24  --debug", "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER="],
    ])
    func argumentsMatchTheScript(variables: [String]) throws {
        // First in PATH: a `rootlesskit` that prints its arguments, one per line, and exits.
        let dir = try user.pathDirectory("args", with: [], extra: ["rootlesskit": "#!/bin/sh\nfor a in \"$@\"; do echo \"ARG:$a\"; done\n"])
        defer { sh("rm", ["-rf", dir]) }
        let path = "\(dir):/usr/sbin:/usr/bin:/sbin:/bin"
        let script = sh("/usr/sbin/runuser", ["-u", DoctorUser.name, "--", "env", "-i", "XDG_RUNTIME_DIR=\(user.runtime)", "HOME=\(user.account.home)",
                                              "PATH=\(path)"] + variables + [DockerRootlessDoctor.debianScript], timeout: 30)
        var execed = script.stdout.split(separator: "\n").filter { $0.hasPrefix("ARG:") }.map { String($0.dropFirst(4)) }
        #expect(execed.last == DockerRootlessDoctor.debianScript, "\(script.stdout) \(script.stderr.suffix(1500))")
        execed = execed.dropLast()
        let (out, report) = user.doctor(["--no-trial", "--env", "PATH=\(path)"] + variables.flatMap { ["--env", $0] })
        #expect(out.status == 0, "\(out.stderr) \(out.stdout.prefix(2000))")
        #expect(report.json["arguments"] as? [String] == execed, "the script execs \(execed)")
    }

    @Test("a slirp4netns that died under a running Docker rootless: the finding restarts the user's daemon and names the doctor, never 'start it again by hand'")
    func defunctUnderRootlessKit() throws {
        // A stand-in for the script (a file named dockerd-rootless.sh that sleeps) run by the real rootlesskit and slirp4netns.
        let dir = try user.pathDirectory("defunct", with: [], extra: ["dockerd-rootless.sh": "#!/bin/sh\nexec sleep 600\n"])
        defer { sh("rm", ["-rf", dir]) }
        let spawned = Executables.spawn("/usr/sbin/runuser", ["-u", DoctorUser.name, "--", "env", "XDG_RUNTIME_DIR=\(user.runtime)", "HOME=\(user.account.home)",
                                                             "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "/usr/bin/rootlesskit", "--net=slirp4netns",
                                                             "--disable-host-loopback", "--port-driver=builtin", "--state-dir=\(user.runtime)/slirpmon-dd-defunct",
                                                             "\(dir)/dockerd-rootless.sh"], environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"])
        guard case .success(let runuser) = spawned else { Issue.record("cannot start rootlesskit: \(spawned)"); return }
        var rootlesskit: Int32?
        defer {
            if let rootlesskit { kill(rootlesskit, SIGTERM) }
            _ = eventually(10) { var s: Int32 = 0; return waitpid(runuser, &s, WNOHANG) == runuser }
            sh("rm", ["-rf", "\(user.runtime)/slirpmon-dd-defunct"])
        }
        // This test's rootlesskit (runuser's child, through env's exec) and its live slirp4netns; never
        // another one of the user's (an earlier trial's defunct slirp4netns waits for PID 1 to reap it).
        func child(of parent: Int32, named name: String) -> Int32? {
            ((try? Files.processIDs()) ?? []).first { pid in
                guard let stat = (try? Files.readText("/proc/\(pid)/stat")).flatMap(ProcessStat.init) else { return false }
                return stat.parentPID == parent && !stat.isZombie && (try? Files.readText("/proc/\(pid)/comm")) == name + "\n"
            }
        }
        #expect(eventually(10) { child(of: runuser, named: "rootlesskit").flatMap { child(of: $0, named: "slirp4netns") } != nil },
                "rootlesskit started no slirp4netns")
        guard let parent = child(of: runuser, named: "rootlesskit"), let pid = child(of: parent, named: "slirp4netns") else { return }
        rootlesskit = parent
        kill(pid, SIGKILL)
        #expect(eventually(5) { (try? Files.readText("/proc/\(pid)/stat")).flatMap { ProcessStat($0) }?.isZombie == true }, "rootlesskit reaped it")
        let out = slirpmon(["show", "pid:\(pid)", "--json"])
        let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
        let finding = (json["findings"] as? [[String: Any]])?.first
        let message = finding?["message"] as? String ?? ""
        let fix = (finding?["cause"] as? [String: Any])?["fix"] as? String ?? ""
        #expect(message.contains("rootlesskit \(parent) runs on without it") && message.contains("Docker rootless has no network"), "\(out.stdout.prefix(2000)) \(out.stderr)")
        #expect(fix.contains("systemctl --user restart docker") && fix.contains("slirpmon doctor --docker-rootless \(DoctorUser.name)"), "\(fix)")
        #expect(!fix.contains("start it again as it was started"), "\(fix)")
    }

    @Test("called as root for a user, the core doctor runs none of the user's programs (their slirp4netns --help would run as root)")
    func coreNeverRunsTheUsersProgramsAsRoot() throws {
        let dir = try user.pathDirectory("asroot", with: ["rootlesskit", "newuidmap", "newgidmap", "nsenter", "ip"],
                                        extra: ["slirp4netns": "#!/bin/sh\ntouch \"$(dirname \"$0\")/ran-as-$(id -u)\"\nexec /usr/bin/slirp4netns \"$@\"\n"])
        defer { sh("rm", ["-rf", dir]) }
        let request = DockerRootlessDoctor.Request(account: user.account, environment: ["XDG_RUNTIME_DIR": user.runtime, "HOME": user.account.home],
                                                   overrides: [("PATH", dir)])
        let report = DockerRootlessDoctor.run(request)
        #expect(!report.healthy && report.steps.count == 1 && report.steps.first?.status == .failed, "\(report.steps)")
        #expect(((try? Files.directoryEntries(dir)) ?? []).filter { $0.hasPrefix("ran-as-") }.isEmpty, "a program of the user's ran")
    }

    @Test("the unit's Environment= lines are read as systemd reads them: quotes, several per line, continuation, an empty one resets, %h")
    func unitLinesAsSystemdReadsThem() {
        let text = """
            [Unit]
            Environment=DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=1
            [Service]
            Environment=DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=2
            Environment=
            Environment="DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--cidr=10.0.5.0/24 --debug" 'PATH=%h/bin:/usr/bin' \\
              DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns
            Environment=not-a-name=1 "unbalanced
            ExecStart=-/usr/share/docker.io/contrib/dockerd-rootless.sh --debug
            """
        let unit = DockerRootlessSettings.parseUnit(text, specifiers: ["h": "/home/u"])
        let pairs = unit.environment.map { $0.map { "\($0.0)=\($0.1)" } ?? "<reset>" }
        #expect(pairs == ["DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=2", "<reset>", "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS=--cidr=10.0.5.0/24 --debug",
                          "PATH=/home/u/bin:/usr/bin", "DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns"], "\(pairs)")
        #expect(unit.execStart == "/usr/share/docker.io/contrib/dockerd-rootless.sh")
        #expect(unit.problems.count == 1 && unit.problems[0].contains("unbalanced quotes"), "\(unit.problems)")
    }
}
