import Foundation
import Glibc
import SlirpCore

/// A real Docker rootless daemon for tests, started as the test user `slirpmon-dk` exactly as
/// an operator starts it on Debian (`/usr/share/docker.io/contrib/dockerd-rootless.sh` with
/// `DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns`), with a busybox image made by `docker import`
/// (no registry). One daemon at a time (the user has one socket): `start` takes a lock that
/// `stop` gives back. The user's data-root (`~/.local/share/docker`, with the image) is kept
/// between tests, so a start imports nothing; no process, state dir or runtime file is kept.
public final class DockerRootlessFixture: @unchecked Sendable {
    public static let userName = "slirpmon-dk"
    public static let image = "slirpmon-dk-bb:fixture"
    public static let script = "/usr/share/docker.io/contrib/dockerd-rootless.sh"
    /// The distribution's CLI: `/usr/local/bin/docker`, first in PATH here, is another one.
    public static let docker = "/usr/bin/docker"

    public let account: UntrustedProgram.Account
    /// `builtin` or `slirp4netns` (`DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER`).
    public let portDriver: String
    public var runtimeDirectory: String { "/run/user/\(account.uid)" }
    public var socket: String { "\(runtimeDirectory)/docker.sock" }
    /// The daemon's host PID, from its pidfile (`$XDG_RUNTIME_DIR/docker.pid`); nil while it does not run.
    public var dockerdPID: Int32? {
        (try? Files.readText("\(runtimeDirectory)/docker.pid")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
    /// The daemon's output (rootlesskit, dockerd, containerd), for failure messages.
    public let logPath: String
    /// The rootlesskit parent, once started.
    public private(set) var rootlessKitPID: Int32?
    /// How long the last `start` waited for `docker info` to answer, in seconds.
    public private(set) var startSeconds: Double = 0
    private var runuserPID: pid_t?
    private var lockFD: Int32 = -1

    public init(portDriver: String = "builtin") throws {
        guard isRoot else { throw LabSetupError("Docker rootless tests need root (they create the user \(Self.userName))") }
        for file in [Self.script, Self.docker, "/usr/bin/rootlesskit", "/usr/bin/rootlesskit-docker-proxy", "/usr/bin/slirp4netns", "/bin/busybox"] where access(file, X_OK) != 0 {
            throw LabSetupError("\(file) is missing: run assets/setup.sh (docker.io, rootlesskit, slirp4netns, busybox-static)")
        }
        self.portDriver = portDriver
        account = try Self.prepareUser()
        logPath = "/tmp/slirpmon-dk-\(getpid())-\(UInt32.random(in: 0..<100000)).log"
    }

    deinit { _ = try? stop() }

    /// The user with subordinate ids, a runtime dir, and /dev/net/tun usable by users (0666).
    static func prepareUser() throws -> UntrustedProgram.Account {
        let name = userName
        if getpwnam(name) == nil {
            let out = sh("useradd", ["-m", "-s", "/bin/sh", name])
            guard out.status == 0 || getpwnam(name) != nil else { throw LabSetupError("useradd failed: \(out.stderr)") }
        }
        guard let account = UntrustedProgram.Account.named(name) else { throw LabSetupError("no user \(name)") }
        // useradd adds a range itself (SUB_UID_MIN..); a user made otherwise gets one of its own.
        for file in ["/etc/subuid", "/etc/subgid"] {
            let text = (try? Files.readText(file)) ?? ""
            if !text.split(separator: "\n").contains(where: { $0.hasPrefix("\(name):") }) {
                let out = sh("usermod", [file.hasSuffix("uid") ? "--add-subuids" : "--add-subgids", "700000-765535", name])
                guard out.status == 0 else { throw LabSetupError("usermod failed: \(out.stderr)") }
            }
        }
        let runtime = "/run/user/\(account.uid)"
        mkdir("/run/user", 0o755)
        mkdir(runtime, 0o700)
        chown(runtime, account.uid, account.gid)
        chmod(runtime, 0o700)
        chmod("/dev/net/tun", 0o666)
        return account
    }

    /// Starts the daemon and waits until `docker info` answers on its socket (`timeout` seconds
    /// at most), then imports the image if the data-root lacks it. Returns the start time.
    @discardableResult
    public func start(timeout: Double = 60) throws -> Double {
        guard rootlessKitPID == nil else { throw LabSetupError("the daemon already runs") }
        lockFD = open("/tmp/slirpmon-docker-fixture.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0, flock(lockFD, LOCK_EX) == 0 else { throw LabSetupError("cannot lock /tmp/slirpmon-docker-fixture.lock") }
        // A test process that died left its daemon: those are the fixture user's, ended here by PID.
        let stale = userProcesses()
        if !stale.isEmpty {
            stale.forEach { kill($0, SIGKILL) }
            waitUntil(seconds: 5) { self.userProcesses().isEmpty }
        }
        removeRuntimeFiles()
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw LabSetupError("cannot create \(logPath)") }
        defer { close(log) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let home = account.home
        let begin = Deadline.now
        let spawned = Executables.spawn("/usr/sbin/runuser", ["-u", account.name, "--", "env",
            "XDG_RUNTIME_DIR=\(runtimeDirectory)", "HOME=\(home)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "DOCKER_HOST=unix://\(socket)", "DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns",
            "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=\(portDriver)", Self.script],
            descriptors: [0: null, 1: log, 2: log], environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"])
        guard case .success(let pid) = spawned else { throw LabSetupError("cannot start runuser: \(spawned)") }
        runuserPID = pid
        let deadline = Deadline.after(seconds: timeout)
        var ready = false
        while !deadline.hasPassed {
            if rootlessKitPID == nil { rootlessKitPID = findRootlessKit() }
            if rootlessKitPID != nil, dockerCLI(["info", "--format", "{{.ServerVersion}}"], timeout: 5).status == 0 { ready = true; break }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { runuserPID = nil; break }
            usleep(50_000)
        }
        startSeconds = Deadline.now.seconds(since: begin)
        guard ready else {
            let text = (try? Files.readText(logPath)) ?? ""
            _ = try? stop()
            throw LabSetupError("Docker rootless did not answer within \(timeout) s; its log:\n\(text.suffix(3000))")
        }
        try importImage()
        return startSeconds
    }

    /// The rootlesskit parent: the fixture user's `/usr/bin/rootlesskit` whose parent is our runuser.
    private func findRootlessKit() -> Int32? {
        guard let runuserPID, let pids = try? Files.processIDs() else { return nil }
        for pid in pids {
            guard let bytes = try? Files.readProcessFile("/proc/\(pid)/stat", limit: 4096), let stat = ProcessStat(bytes: bytes),
                  stat.parentPID == runuserPID, (try? Files.readLink("/proc/\(pid)/exe")) == "/usr/bin/rootlesskit" else { continue }
            return pid
        }
        return nil
    }

    /// The busybox image, imported once into the user's data-root.
    private func importImage() throws {
        if dockerCLI(["image", "inspect", "--format", "{{.Id}}", Self.image]).status == 0 { return }
        let root = "/tmp/slirpmon-dk-rootfs-\(getpid())"
        sh("rm", ["-rf", root, root + ".tar"])
        defer { sh("rm", ["-rf", root, root + ".tar"]) }
        for dir in [root, "\(root)/bin", "\(root)/www", "\(root)/tmp"] { mkdir(dir, 0o755) }
        guard sh("cp", ["/bin/busybox", "\(root)/bin/busybox"]).status == 0 else { throw LabSetupError("cannot copy /bin/busybox") }
        for applet in ["sh", "httpd", "sleep", "cat", "echo"] { symlink("busybox", "\(root)/bin/\(applet)") }
        try Files.write("slirpmon-docker-fixture\n", to: "\(root)/www/index.html")
        guard sh("tar", ["-C", root, "-cf", root + ".tar", "."]).status == 0 else { throw LabSetupError("tar failed") }
        chmod(root + ".tar", 0o644)
        let out = dockerCLI(["import", root + ".tar", Self.image], timeout: 60)
        guard out.status == 0 else { throw LabSetupError("docker import failed: \(out.stderr)") }
    }

    /// Runs `/usr/bin/docker` as the user against the daemon's socket.
    @discardableResult
    public func dockerCLI(_ args: [String], timeout: Double = 30) -> Executables.Output {
        sh("/usr/sbin/runuser", ["-u", account.name, "--", "env", "HOME=\(account.home)", "XDG_RUNTIME_DIR=\(runtimeDirectory)",
                                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DOCKER_HOST=unix://\(socket)", Self.docker] + args, timeout: timeout)
    }

    /// `docker run -d --name NAME -p P... IMAGE COMMAND...`; returns the container's ID.
    @discardableResult
    public func run(name: String, publish: [String], command: [String]) throws -> String {
        let out = dockerCLI(["run", "-d", "--name", name] + publish.flatMap { ["-p", $0] } + [Self.image] + command, timeout: 60)
        guard out.status == 0 else { throw LabSetupError("docker run \(name) failed: \(out.stderr)") }
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// busybox httpd serving `/www` on port 80 of the container.
    public static let httpd = ["httpd", "-f", "-p", "80", "-h", "/www"]

    /// Removes the containers, stops the daemon (SIGTERM to the rootlesskit parent) and returns
    /// what of the user is left (processes, state dirs, runtime files): empty when clean.
    @discardableResult
    public func stop() throws -> [String] {
        defer {
            if lockFD >= 0 { flock(lockFD, LOCK_UN); close(lockFD); lockFD = -1 }
        }
        guard lockFD >= 0 else { return [] }
        if let pid = rootlessKitPID {
            let ids = dockerCLI(["ps", "-aq"]).stdout.split(separator: "\n").map(String.init)
            if !ids.isEmpty { dockerCLI(["rm", "-f"] + ids, timeout: 60) }
            kill(pid, SIGTERM)
            waitUntil(seconds: 20) { !HostileUser.isAlive(pid) }
        }
        if let runuserPID {
            waitUntil(seconds: 5) { var s: Int32 = 0; return waitpid(runuserPID, &s, WNOHANG) == runuserPID }
            self.runuserPID = nil
        }
        rootlessKitPID = nil
        // Containerd's shims live under PID 1: they go when their containers are removed, a moment later.
        waitUntil(seconds: 10) { self.userProcesses().isEmpty && self.stateDirectories().isEmpty }
        var left = userProcesses().map { "process \(HostileUser.describe($0))" } + stateDirectories().map { "state dir \($0)" }
        // dockerd leaves its exec-root ($XDG_RUNTIME_DIR/docker) behind on a clean shutdown: removed here.
        if left.isEmpty { removeRuntimeFiles() }
        left += runtimeFiles().map { "runtime file \($0)" }
        unlink(logPath)
        return left
    }

    /// The user's live processes, and those of its subordinate ids (a container's processes).
    public func userProcesses() -> [Int32] {
        let ranges = Self.subordinateRanges(of: account.name)
        guard let pids = try? Files.processIDs() else { return [] }
        return pids.filter { pid in
            guard HostileUser.isAlive(pid), let st = try? Files.status("/proc/\(pid)") else { return false }
            return st.st_uid == account.uid || ranges.contains { $0.contains(Int(st.st_uid)) }
        }
    }

    /// RootlessKit state dirs of the user (`/tmp/rootlesskitNNN`: the 20.10 script gives no --state-dir).
    public func stateDirectories() -> [String] {
        ((try? Files.directoryEntries("/tmp")) ?? []).filter { $0.hasPrefix("rootlesskit") }.map { "/tmp/\($0)" }
            .filter { (try? Files.status($0))?.st_uid == account.uid }
    }

    /// `$XDG_RUNTIME_DIR/docker*` (socket, pidfile, exec-root).
    public func runtimeFiles() -> [String] {
        ((try? Files.directoryEntries(runtimeDirectory)) ?? []).filter { $0.hasPrefix("docker") }.map { "\(runtimeDirectory)/\($0)" }
    }

    private func removeRuntimeFiles() {
        for path in runtimeFiles() { sh("rm", ["-rf", "--one-file-system", path]) }
    }

    static func subordinateRanges(of name: String) -> [Range<Int>] {
        ((try? Files.readText("/etc/subuid")) ?? "").split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":")
            guard f.count == 3, f[0] == name, let start = Int(f[1]), let count = Int(f[2]) else { return nil }
            return start..<(start + count)
        }
    }

    private func waitUntil(seconds: Double, _ done: () -> Bool) {
        let deadline = Deadline.after(seconds: seconds)
        while !done() && !deadline.hasPassed { usleep(50_000) }
    }
}
