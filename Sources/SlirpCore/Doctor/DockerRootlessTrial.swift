#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The Docker rootless doctor's real start: rootlesskit with exactly the arguments the script
/// would exec, a private state directory, and a tiny shell command in place of dockerd (it
/// reports whether tap0 is up). RootlessKit brings the network up before it runs the command,
/// so a slirp4netns that cannot start fails here as it fails the daemon.
///
/// The state directory is never the daemon's: `--state-dir` is given last (rootlesskit takes
/// the last one), after any the variables add, inside a new directory (mkdtemp, mode 0700) in
/// XDG_RUNTIME_DIR; rootlesskit wipes a state dir at start, and the daemon's must not be.
/// Everything is registered in `cleanup` when it exists and removed before `run` returns
/// (rootlesskit leaves its state dir behind when it fails early).
public enum DockerRootlessTrial {
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        case killed(Int32)
        case timedOut(Double)
        case setupFailed(String)
    }

    public struct Outcome: Sendable {
        public var ending: Ending
        public var commandLine: [String] = []
        public var log = ""
        public var stateDirectory = ""
        public var seconds: Double = 0
    }

    public static func run(rootlesskit: String, arguments: [String], settings: DockerRootlessSettings, timeout: Double,
                           cleanup: TrialCleanup) -> Outcome {
        let mark = cleanup.count
        defer { cleanup.run(since: mark) }
        var outcome = Outcome(ending: .setupFailed("not started"))
        let runtime = settings["XDG_RUNTIME_DIR"] ?? "/tmp"
        let directory: String
        do { directory = try SafeFiles.makePrivateDirectory(in: runtime, prefix: "slirpmon-dd-trial") } catch {
            outcome.ending = .setupFailed("cannot create a directory in \(runtime): \(error.reason)")
            return outcome
        }
        let state = "\(directory)/state"
        outcome.stateDirectory = state
        cleanup.add("trial directory \(directory)") { removeTrialDirectory(directory) }

        let logPath = "\(directory)/log"
        let logFD: FileDescriptor
        do { logFD = try TrialRun.unlinkedLog(logPath, cleanup: cleanup) } catch {
            outcome.ending = .setupFailed("cannot create \(logPath): \(error.reason)")
            return outcome
        }

        let command = ["/bin/sh", "-c", DockerRootlessDoctor.probe]
        let args = arguments + ["--state-dir=\(state)"] + command
        outcome.commandLine = [rootlesskit] + args
        // The daemon's environment as the script passes it on: its PATH, HOME, XDG_RUNTIME_DIR, who it is.
        var environment: [String] = []
        for name in ["PATH", "HOME", "XDG_RUNTIME_DIR"] { if let value = settings[name] { environment.append("\(name)=\(value)") } }
        if let user = getpwuid(getuid()).map({ String(cString: $0.pointee.pw_name) }) { environment += ["USER=\(user)", "LOGNAME=\(user)"] }

        let start = Deadline.now
        let spawned = Executables.spawn(rootlesskit, args, descriptors: [1: logFD.rawValue, 2: logFD.rawValue], environment: environment)
        guard case .success(let pid) = spawned else {
            outcome.ending = .setupFailed("cannot start \(rootlesskit): \(spawned)")
            return outcome
        }
        let reaped = TrialRun.ReapState()
        // SIGTERM lets rootlesskit stop slirp4netns and remove its state dir; its process group is killed after 2 s.
        cleanup.add("rootlesskit \(pid)") {
            guard !reaped.isReaped else { return }
            kill(pid, SIGTERM)
            var status: Int32 = 0
            let deadline = Deadline.after(seconds: 2)
            while waitpid(pid, &status, WNOHANG) == 0 {
                if deadline.hasPassed { kill(-pid, SIGKILL); kill(pid, SIGKILL); waitpid(pid, &status, 0); break }
                usleep(5_000)
            }
            kill(-pid, SIGKILL)
        }
        let deadline = Deadline.after(seconds: timeout)
        var status: Int32 = 0
        while true {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped.isReaped = true
                let signal = status & 0x7F
                outcome.ending = signal == 0 ? .exited((status >> 8) & 0xFF) : .killed(signal)
                // Its children (slirp4netns, the namespace's init) go with it; none may outlive the trial.
                kill(-pid, SIGKILL)
                break
            }
            if deadline.hasPassed { outcome.ending = .timedOut(timeout); break }
            usleep(5_000)
        }
        outcome.seconds = Deadline.now.seconds(since: start)
        outcome.log = TrialRun.read(log: logFD)
        return outcome
    }

    /// Removes the trial's directory: the log name, rootlesskit's state dir (what it left: its
    /// sockets, lock, child_pid, copies) and the directory itself. Made by us, mode 0700: no one
    /// else's file is in it; links are removed, never followed.
    static func removeTrialDirectory(_ directory: String) {
        let state = "\(directory)/state"
        for entry in (try? Files.directoryEntries(state, limit: 1000)) ?? [] {
            let path = "\(state)/\(entry)"
            if unlink(path) != 0 { rmdir(path) }
        }
        rmdir(state)
        unlink("\(directory)/log")
        rmdir(directory)
    }
}
