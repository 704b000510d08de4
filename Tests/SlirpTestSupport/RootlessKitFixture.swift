import Foundation
import Glibc
import SlirpCore

/// Real RootlessKit for tests: `rootlesskit --net=slirp4netns --port-driver=DRIVER
/// --state-dir=DIR --copy-up=/etc COMMAND` run as the test user `slirpmon-rk` (created with
/// subordinate ids and a runtime dir, like Podman's test users; /dev/net/tun 0666, which
/// slirp4netns needs as a user and which is 0600 on a fresh machine of this kind).
///
/// `start` returns once RootlessKit's API socket and its slirp4netns child exist; `stop` sends
/// SIGTERM to the rootlesskit parent, waits for it, and checks that nothing of the run is left
/// (no process of its tree, no state directory). rootlesskit's stderr (where slirp4netns's
/// output also goes, through rootlesskit) is written to `logPath`.
public final class RootlessKitFixture {
    public static let userName = "slirpmon-rk"

    public enum PortDriver: String, Sendable { case builtin, slirp4netns }

    public let user: (name: String, uid: UInt32, gid: UInt32)
    public let portDriver: PortDriver
    /// Its state directory: the one passed, or (`passStateDir: false`) the random `/tmp/rootlesskitNNN` it made, from its child's environment.
    public private(set) var stateDir: String
    /// The private directory of this run (rootlesskit's stderr goes to `logPath` inside).
    public let directory: String
    public let logPath: String
    /// The rootlesskit parent (setpriv execs it: the PID spawned is rootlesskit's).
    public let pid: pid_t
    /// The rootlesskit child (`/proc/self/exe`, in the new namespaces) and the slirp4netns it started.
    public private(set) var childPID: pid_t = 0
    public private(set) var slirpPID: pid_t = 0
    private var stopped = false

    /// The test user (`name`: another one for a suite that runs beside those that expect `userName`
    /// to themselves), created when missing (useradd adds its /etc/subuid and /etc/subgid ranges).
    public static func prepareUser(_ userName: String = RootlessKitFixture.userName) throws -> (name: String, uid: UInt32, gid: UInt32) {
        guard isRoot else { throw LabSetupError("RootlessKit tests run as root (they create the user \(userName))") }
        guard Executables.find("rootlesskit") != nil else {
            throw LabSetupError("rootlesskit is not installed: run assets/setup.sh (it installs rootlesskit)")
        }
        guard Executables.find("setpriv") != nil else { throw LabSetupError("setpriv is not installed: apt-get install util-linux") }
        let fd = open("/tmp/slirpmon-rootlesskit-fixture.lock", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        if getpwnam(userName) == nil {
            let out = sh("useradd", ["-m", "-s", "/bin/sh", userName])
            guard out.status == 0 else { throw LabSetupError("useradd \(userName) failed: \(out.stderr)") }
        }
        guard let entry = getpwnam(userName) else { throw LabSetupError("no user \(userName)") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        let ranges = ((try? Files.readText("/etc/subuid")) ?? "").split(separator: "\n")
        guard ranges.contains(where: { $0.hasPrefix("\(userName):") }) else {
            throw LabSetupError("\(userName) has no range in /etc/subuid (useradd adds one when SUB_UID_COUNT is set in /etc/login.defs)")
        }
        mkdir("/run/user", 0o755)
        mkdir("/run/user/\(uid)", 0o700)
        chown("/run/user/\(uid)", uid, gid)
        chmod("/dev/net/tun", 0o666)
        return (userName, uid, gid)
    }

    /// Starts `rootlesskit ... command` as the test user, with the state directory
    /// `$XDG_RUNTIME_DIR/<unique>` (or `stateDir` when given: its parent must be the user's).
    public init(portDriver: PortDriver, stateDir: String? = nil, command: [String] = ["sleep", "600"],
                extraFlags: [String] = [], passStateDir: Bool = true, userName: String = RootlessKitFixture.userName,
                rootlesskit binary: String? = nil) throws {
        user = try Self.prepareUser(userName)
        self.portDriver = portDriver
        let unique = "smt-rk-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        self.stateDir = stateDir ?? "/run/user/\(user.uid)/\(unique)"
        directory = try SafeFiles.makePrivateDirectory(prefix: unique)
        logPath = "\(directory)/rootlesskit.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw LabSetupError("cannot create \(logPath)") }
        defer { close(log) }
        guard let setpriv = Executables.find("setpriv"), let rootlesskit = binary ?? Executables.find("rootlesskit") else {
            throw LabSetupError("setpriv or rootlesskit missing")
        }
        let flags = ["--net=slirp4netns", "--port-driver=\(portDriver.rawValue)"] + (passStateDir ? ["--state-dir=\(self.stateDir)"] : [])
            + ["--copy-up=/etc"] + extraFlags
        let environment = ["HOME=/home/\(user.name)", "USER=\(user.name)", "XDG_RUNTIME_DIR=/run/user/\(user.uid)",
                           "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        let args = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--", rootlesskit] + flags + command
        guard case .success(let pid) = Executables.spawn(setpriv, args, descriptors: [1: log, 2: log], environment: environment) else {
            throw LabSetupError("cannot start rootlesskit as \(user.name)")
        }
        self.pid = pid
        let ready = eventually(20) {
            guard let children = try? Self.children(of: pid) else { return false }
            for child in children {
                let comm = (try? Files.readText("/proc/\(child)/comm")) ?? ""
                if comm == "slirp4netns\n" { slirpPID = child } else if comm == "exe\n" { childPID = child }
            }
            // The child runs the command once the namespaces are set up (helpers it runs before are not it): ready when it does.
            let argv = command.map { $0 + "\u{0}" }.joined()
            guard slirpPID > 0, childPID > 0,
                  ((try? Self.children(of: childPID)) ?? []).contains(where: { (try? Files.readText("/proc/\($0)/cmdline")) == argv }) else { return false }
            if !passStateDir, let environ = try? Files.readBytes("/proc/\(childPID)/environ"),
               let entry = environ.split(separator: 0).first(where: { $0.starts(with: Array("ROOTLESSKIT_STATE_DIR=".utf8)) }) {
                self.stateDir = String(decoding: entry.dropFirst("ROOTLESSKIT_STATE_DIR=".count), as: UTF8.self)
            }
            // The API socket is made last, once the network and port drivers are up.
            return Files.exists("\(self.stateDir)/api.sock")
        }
        guard ready else {
            let text = (try? Files.readText(logPath)) ?? ""
            stop()
            throw LabSetupError("rootlesskit \(pid) did not come up (API socket \(self.stateDir)/api.sock, slirp4netns child); its log:\n\(text)")
        }
    }

    deinit { stop() }

    /// The PIDs whose parent is `pid` (all its threads' children).
    public static func children(of pid: pid_t) throws -> [pid_t] {
        var found: [pid_t] = []
        for task in try Files.directoryEntries("/proc/\(pid)/task") {
            let text = (try? Files.readText("/proc/\(pid)/task/\(task)/children")) ?? ""
            found += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return found
    }

    /// rootlesskit's stderr so far (slirp4netns's output included).
    public var log: String { (try? Files.readText(logPath)) ?? "" }

    /// SIGTERM to the rootlesskit parent, waits; then checks that nothing is left of its run and
    /// returns what was (each removed: processes killed, the state directory deleted).
    @discardableResult
    public func stop() -> [String] {
        guard !stopped else { return [] }
        stopped = true
        let tree = [pid, childPID, slirpPID].filter { $0 > 0 } + ((try? Self.children(of: childPID)) ?? [])
        kill(pid, SIGTERM)
        var left: [String] = []
        let deadline = Deadline.after(seconds: 10)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 && !deadline.hasPassed { usleep(20_000) }
        if waitpid(pid, &status, WNOHANG) == 0 {
            left.append("rootlesskit \(pid) did not exit within 10 s of SIGTERM")
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
        // The rest of its tree is reparented when rootlesskit exits: it must be gone too.
        _ = eventually(5) { tree.allSatisfy { !HostileUser.isAlive($0) } }
        for p in tree where HostileUser.isAlive(p) {
            left.append("process \(HostileUser.describe(p)) outlived rootlesskit")
            kill(p, SIGKILL)
        }
        if Files.exists(stateDir) {
            left.append("state directory \(stateDir) left behind")
            sh("rm", ["-rf", "--one-file-system", stateDir])
        }
        try? FileManager.default.removeItem(atPath: directory)
        return left
    }

    /// The PIDs of the test user's processes now (none once every run stopped).
    public static func userProcesses(uid: UInt32) -> [pid_t] {
        ((try? Files.processIDs()) ?? []).filter { (try? Files.status("/proc/\($0)").st_uid) == uid && HostileUser.isAlive($0) }
    }
}
