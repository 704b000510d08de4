import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// slirpmon's `fwd` on a real RootlessKit instance beside `rootlessctl`, the tool RootlessKit
/// ships: listing 100 ports (`list-ports --json`) and adding 100 in one call (`add-ports`).
///
/// rootlesskit refuses to run as root, so it runs as the user `slirpmon-bench`, created when
/// missing (useradd gives it the /etc/subuid range rootlesskit's user namespace needs); the
/// instance and its state directory are removed at the end, on errors and on Ctrl-C.
struct RootlessKitBench {
    static let userName = "slirpmon-bench"
    let bench: Bench
    let count: Int
    let firstPort: Int

    struct Instance {
        let pid: pid_t
        let slirpPID: pid_t
        let stateDir: String
        var socket: String { stateDir + "/api.sock" }
    }

    func run() throws {
        guard let rootlessctl = Executables.find("rootlessctl"), let rootlesskit = Executables.find("rootlesskit"),
              let setpriv = Executables.find("setpriv") else {
            throw BenchError("rootlesskit, rootlessctl and setpriv are needed: run assets/setup.sh")
        }
        let user = try prepareUser()
        let instance = try start(rootlesskit: rootlesskit, setpriv: setpriv, user: user)
        Cleanup.shared.add("rootlesskit") { Self.stop(instance) }
        defer {
            Self.stop(instance)
            Cleanup.shared.remove("rootlesskit")
        }
        let api = RootlessKitAPI(socketPath: instance.socket, expectedPID: instance.pid)
        let target = "pid:\(instance.slirpPID)"
        let last = firstPort + count - 1
        func removeAll() throws {
            for port in try api.ports() { try api.remove(id: port.id) }
        }
        func expectPorts() throws {
            let listed = try api.ports().count
            guard listed == count else { throw BenchError("after the run RootlessKit lists \(listed) ports, expected \(count)") }
        }
        bench.log("RootlessKit (builtin port driver, user \(user.name)): adding \(count) ports, \(bench.options.fwdRuns) runs")
        var ours: [Double] = [], theirs: [Double] = []
        let arguments = (firstPort...last).map { "127.0.0.1:\($0):\($0)/tcp" }
        for _ in 0..<bench.options.fwdRuns {
            try removeAll()
            ours.append(try Measure.wall(bench.slirpmon, ["fwd", "add", target, "127.0.0.1:\(firstPort)-\(last):\(firstPort)-\(last)"]))
            try expectPorts()
            try removeAll()
            theirs.append(try Measure.wall(rootlessctl, ["--socket", instance.socket, "add-ports"] + arguments))
            try expectPorts()
        }
        bench.figures.append(Figure(key: "rootlesskit_fwd_add", title: "RootlessKit: \(count) ports added in one call (wall)", n: 1, unit: "s",
                                    slirpmon: Stats(samples: ours), baselines: [.init(name: "rootlessctl add-ports", stats: Stats(samples: theirs))],
                                    target: "no slower than rootlessctl", met: Stats(samples: ours).median <= Stats(samples: theirs).median))
        bench.log("RootlessKit: listing \(count) ports, \(bench.options.runs) runs")
        let list = try Measure.repeated(bench.options.runs) { try Measure.wall(bench.slirpmon, ["fwd", "list", target, "--json"]) }
        let baseline = try Measure.repeated(bench.options.runs) { try Measure.wall(rootlessctl, ["--socket", instance.socket, "list-ports", "--json"]) }
        bench.figures.append(Figure(key: "rootlesskit_fwd_list", title: "RootlessKit: fwd list --json of \(count) ports (wall)", n: 1, unit: "s",
                                    slirpmon: list, baselines: [.init(name: "rootlessctl list-ports --json", stats: baseline)],
                                    target: "no slower than rootlessctl", met: list.median <= baseline.median))
        try removeAll()
    }

    /// The benchmark's user, created when missing, with its runtime directory.
    func prepareUser() throws -> (name: String, uid: UInt32, gid: UInt32) {
        if getpwnam(Self.userName) == nil {
            bench.log("creating the user \(Self.userName) (rootlesskit runs only as a user with a /etc/subuid range)")
            _ = try bench.runOK("/usr/sbin/useradd", ["-m", "-s", "/usr/sbin/nologin", Self.userName])
        }
        guard let entry = getpwnam(Self.userName) else { throw BenchError("no user \(Self.userName)") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        guard ((try? Files.readText("/etc/subuid")) ?? "").split(separator: "\n").contains(where: { $0.hasPrefix("\(Self.userName):") }) else {
            throw BenchError("\(Self.userName) has no range in /etc/subuid: usermod --add-subuids 800000-865535 --add-subgids 800000-865535 \(Self.userName)")
        }
        guard let tun = try? Files.status("/dev/net/tun"), tun.st_mode & 0o006 == 0o006 else {
            throw BenchError("/dev/net/tun is not usable by users (slirp4netns runs as \(Self.userName)): chmod 666 /dev/net/tun")
        }
        mkdir("/run/user", 0o755)
        mkdir("/run/user/\(uid)", 0o700)
        chown("/run/user/\(uid)", uid, gid)
        return (Self.userName, uid, gid)
    }

    /// `rootlesskit --net=slirp4netns --port-driver=builtin` running `sleep`, as the user; returns
    /// once its API socket exists and its slirp4netns child runs.
    func start(rootlesskit: String, setpriv: String, user: (name: String, uid: UInt32, gid: UInt32)) throws -> Instance {
        let stateDir = "/run/user/\(user.uid)/\(bench.prefix)-rk"
        let environment = ["HOME=/", "USER=\(user.name)", "XDG_RUNTIME_DIR=/run/user/\(user.uid)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        let arguments = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--", rootlesskit,
                         "--net=slirp4netns", "--port-driver=builtin", "--state-dir=\(stateDir)", "sleep", "3600"]
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        guard case .success(let pid) = Executables.spawn(setpriv, arguments, descriptors: [1: null, 2: null], environment: environment) else {
            throw BenchError("cannot start rootlesskit as \(user.name)")
        }
        let deadline = Deadline.after(seconds: 20)
        while !deadline.hasPassed {
            // Every thread's children: Go forks slirp4netns from whichever thread runs the goroutine.
            let tasks = (try? Files.directoryEntries("/proc/\(pid)/task")) ?? []
            let children = tasks.flatMap { ((try? Files.readText("/proc/\(pid)/task/\($0)/children")) ?? "").split(separator: " ").compactMap { pid_t($0) } }
            if Files.exists(stateDir + "/api.sock"),
               let slirp = children.first(where: { (try? Files.readText("/proc/\($0)/comm")) == "slirp4netns\n" }) {
                return Instance(pid: pid, slirpPID: slirp, stateDir: stateDir)
            }
            usleep(20_000)
        }
        Self.stop(Instance(pid: pid, slirpPID: 0, stateDir: stateDir))
        throw BenchError("rootlesskit did not come up within 20 s (no \(stateDir)/api.sock)")
    }

    /// SIGTERM, then SIGKILL after 10 s; rootlesskit removes its state directory itself on exit.
    static func stop(_ instance: Instance) {
        guard kill(instance.pid, 0) == 0 else { return }
        kill(instance.pid, SIGTERM)
        let deadline = Deadline.after(seconds: 10)
        var status: Int32 = 0
        while waitpid(instance.pid, &status, WNOHANG) == 0 && !deadline.hasPassed { usleep(20_000) }
        if waitpid(instance.pid, &status, WNOHANG) == 0 {
            kill(instance.pid, SIGKILL)
            _ = waitpid(instance.pid, &status, 0)
        }
        if Files.exists(instance.stateDir) { _ = Executables.run("/bin/rm", ["-rf", "--one-file-system", instance.stateDir], timeout: 10) }
    }
}
