#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem
import Synchronization

/// A real start of slirp4netns the way Podman's `setupSlirp4netns` does it, in a
/// scratch network namespace, with everything removed afterwards.
///
/// The exit pipe goes to fd 3 and the ready pipe to fd 4 (`-e 3 -r 4`); stdout and
/// stderr go to `slirp4netns-<ID>.log`, created and unlinked at once, and read back
/// through the descriptor this process keeps. Waiting follows Podman's `waitForSync`:
/// every second it looks whether slirp4netns exited (then the log is the error) or
/// was killed by a signal; unlike Podman it gives up at a deadline.
public enum TrialRun {
    /// Prefix of the namespaces (`ip netns`) and scratch directories the doctor creates.
    public static let namePrefix = "slirpmon-doctor-"

    /// What to run.
    public struct Plan: Sendable {
        public var binary: String
        /// Options from `createBasicSlirp4netnsCmdArgs`.
        public var basicArguments: [String]
        /// Whether Podman would pass `--api-socket`.
        public var apiSocket: Bool
        /// Podman's tmp_dir: used for the log and socket when it exists and is writable, as Podman would.
        public var tmpDir: String
        /// The ID in the file names; a random 64-hex one, like a container's.
        public var containerID: String
        public var readyTimeout: Double
        /// Root: an `ip netns` namespace and `--netns-type=path`; a user: `unshare --user --net` and its PID.
        public var asRoot: Bool
        /// The container's `-p` mappings, set up after the start as Podman would (`PortTrial`).
        public var ports: [PodmanPort] = []
        /// port_handler=slirp4netns: the mappings go through the API socket; else rootlessport binds them.
        public var slirpHostForward = false
        /// The container's own processes: a port they hold is no conflict.
        public var own = PortTrial.OwnProcesses(containerID: nil)

        public init(binary: String, basicArguments: [String], apiSocket: Bool, tmpDir: String,
                    containerID: String = TrialRun.randomContainerID(), readyTimeout: Double = 10, asRoot: Bool = geteuid() == 0) {
            self.binary = binary
            self.basicArguments = basicArguments
            self.apiSocket = apiSocket
            self.tmpDir = tmpDir
            self.containerID = containerID
            self.readyTimeout = readyTimeout
            self.asRoot = asRoot
        }
    }

    /// How the start ended.
    public enum Ending: Sendable, Equatable {
        /// A byte arrived on the ready pipe.
        case ready(seconds: Double)
        /// slirp4netns exited before it was ready.
        case exited(status: Int32)
        case killed(signal: Int32)
        /// Still running, never ready, at the deadline.
        case timedOut(seconds: Double)
        /// The trial could not be set up (namespace, files, spawn): not slirp4netns's fault.
        case setupFailed(String)
    }

    /// What the trial saw.
    public struct Outcome: Sendable {
        public var ending: Ending
        /// The full command line run (program first).
        public var commandLine: [String]
        public var log: String
        /// Where the log and socket went (tmp_dir, or a scratch directory when tmp_dir is not usable).
        public var directory: String
        public var namespace: String
        public var addressChecks: [AddressCheck] = []
        public var observeError: String?
        /// The API socket's answer to `list_hostfwd`, or why it did not answer.
        public var apiResult: String?
        public var apiFailed = false
        /// True when slirp4netns ran in a private mount namespace (root with --enable-sandbox, as Podman).
        public var privateMountNamespace = false
        /// The container's mappings, each tried as Podman would set it up (`PortTrial`).
        public var portChecks: [PortTrial.Check] = []
    }

    /// A random 64-character hex ID, the shape of a Podman container ID.
    public static func randomContainerID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Runs the trial; every namespace, process and file it creates is registered in
    /// `cleanup` the moment it exists, and removed before this returns.
    public static func run(_ plan: Plan, cleanup: TrialCleanup) -> Outcome {
        let mark = cleanup.count
        defer { cleanup.run(since: mark) }
        let tag = "\(namePrefix)\(getpid())-\(UInt32.random(in: 0..<UInt32.max) % 1_000_000)"
        var outcome = Outcome(ending: .setupFailed("not started"), commandLine: [], log: "", directory: plan.tmpDir, namespace: "")

        // Where the log and socket go: tmp_dir as Podman, else a scratch directory.
        var directory = plan.tmpDir
        if !(Files.exists(directory) && access(directory, W_OK | X_OK) == 0) {
            // A new private directory (mkdtemp), never a name someone could have made first.
            do { directory = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: tag) } catch {
                outcome.ending = .setupFailed("cannot create a scratch directory in /tmp: \(error.reason)")
                return outcome
            }
            let scratch = directory
            cleanup.add("scratch directory \(scratch)") { rmdir(scratch) }
        }
        outcome.directory = directory

        // The namespace.
        var target: [String]
        var holder: pid_t?
        if plan.asRoot {
            guard let ip = Executables.find("ip") else { outcome.ending = .setupFailed("ip is not installed: apt-get install iproute2"); return outcome }
            switch Executables.run(ip, ["netns", "add", tag], timeout: 10) {
            case .success(let out) where out.status == 0: break
            case .success(let out): outcome.ending = .setupFailed("ip netns add \(tag) failed: \(out.combined.trimmingSpaces)"); return outcome
            case .failure(let e): outcome.ending = .setupFailed("ip netns add \(tag) failed: \(e)"); return outcome
            }
            cleanup.add("network namespace \(tag)") { _ = Executables.run(ip, ["netns", "delete", tag], timeout: 10) }
            outcome.namespace = "/run/netns/\(tag)"
            target = ["--netns-type=path", outcome.namespace, "tap0"]
        } else {
            guard let unshare = Executables.find("unshare") else { outcome.ending = .setupFailed("unshare is not installed: apt-get install util-linux"); return outcome }
            // `sh` keeps the tag in its command line; the whole process group is killed afterwards.
            let spawned = Executables.spawn(unshare, ["--user", "--map-root-user", "--net", "sh", "-c", "while :; do sleep 3600; done", tag])
            guard case .success(let pid) = spawned else {
                outcome.ending = .setupFailed("cannot start unshare --user --net: user namespaces may be disabled")
                return outcome
            }
            holder = pid
            cleanup.add("namespace holder \(pid)") { kill(-pid, SIGKILL); kill(pid, SIGKILL); Executables.waitFor(pid) }
            let deadline = Deadline.after(seconds: 5)
            let own = try? Files.readLink("/proc/self/ns/net")
            while (try? Files.readLink("/proc/\(pid)/ns/net")) == own && !deadline.hasPassed {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    outcome.ending = .setupFailed("unshare --user --map-root-user --net failed (exit \(Executables.exitCode(status))): unprivileged user namespaces are disabled?")
                    return outcome
                }
                usleep(5_000)
            }
            outcome.namespace = "/proc/\(pid)/ns/net"
            target = [String(pid), "tap0"]
        }

        // The command line, as Podman builds it.
        var args = plan.basicArguments + ["-c", "-e", "3", "-r", "4"]
        var socketPath: String?
        let boundSocket = BoundSocket()
        if plan.apiSocket {
            let path = SlirpCommandBuilder.apiSocketPath(tmpDir: directory, containerID: plan.containerID)
            socketPath = path
            args += ["--api-socket", path]
            // Only the socket file slirp4netns bound (seen while it ran), never a file someone put
            // at its name after it exited: tmp_dir may be a directory users share.
            cleanup.add("API socket \(path)") { boundSocket.identity.map { SafeFiles.remove(path, ifStill: $0) } }
        }
        args += target
        outcome.commandLine = [plan.binary] + args

        // The log: created and unlinked at once, as Podman does; we keep a read descriptor.
        let logPath = SlirpCommandBuilder.logPath(tmpDir: directory, containerID: plan.containerID)
        // A new file, never a link or a file left at the name (tmp_dir may be shared): read back
        // through the same descriptor.
        let logFD: FileDescriptor
        do { logFD = try unlinkedLog(logPath, cleanup: cleanup) } catch {
            outcome.ending = .setupFailed("cannot create the log \(logPath): \(error.reason)")
            return outcome
        }
        func readLog() -> String { read(log: logFD) }

        var exitPipe: [Int32] = [0, 0], readyPipe: [Int32] = [0, 0]
        guard cslirp_pipe_cloexec(&exitPipe) == 0 else { outcome.ending = .setupFailed("pipe2: \(SystemError("pipe2").reason)"); return outcome }
        guard cslirp_pipe_cloexec(&readyPipe) == 0 else {
            close(exitPipe[0]); close(exitPipe[1])
            outcome.ending = .setupFailed("pipe2: \(SystemError("pipe2").reason)")
            return outcome
        }
        let exitWrite = exitPipe[1], readyRead = readyPipe[0]
        cleanup.add("ready pipe") { close(readyRead) }
        // As Podman does for --enable-sandbox: a new mount namespace with a private `/`. Without
        // it, the sandbox's pivot_root and unmount of the old root propagate through shared
        // mounts (/run/netns) and unmount every `ip netns` namespace on the host (slirp4netns#153).
        var program = plan.binary
        var programArgs = args
        if plan.asRoot && args.contains("--enable-sandbox") {
            guard let unshare = Executables.find("unshare") else {
                close(exitPipe[0]); close(exitPipe[1]); close(readyPipe[1])
                outcome.ending = .setupFailed("unshare is not installed (needed to give the sandbox a private mount namespace): apt-get install util-linux")
                return outcome
            }
            program = unshare
            programArgs = ["--mount", "--propagation", "private", "--", plan.binary] + args
            outcome.privateMountNamespace = true
        }
        let spawned = Executables.spawn(program, programArgs, descriptors: [1: logFD.rawValue, 2: logFD.rawValue, 3: exitPipe[0], 4: readyPipe[1]])
        close(exitPipe[0])
        close(readyPipe[1])
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let e):
            close(exitWrite)
            outcome.ending = .setupFailed("cannot start \(plan.binary): \(e)")
            return outcome
        }
        // Closing the exit pipe asks slirp4netns to exit; it is killed if it does not within 2 s.
        let reaped = ReapState()
        cleanup.add("slirp4netns \(pid)") { [socketPath] in
            if let socketPath, !reaped.isReaped { boundSocket.note(socketPath) }
            close(exitWrite)
            guard !reaped.isReaped else { return }
            var status: Int32 = 0
            let deadline = Deadline.after(seconds: 2)
            while waitpid(pid, &status, WNOHANG) == 0 {
                if deadline.hasPassed { kill(pid, SIGKILL); waitpid(pid, &status, 0); break }
                usleep(5_000)
            }
        }

        let start = Deadline.now
        outcome.ending = waitForReady(pid: pid, readyFD: readyRead, timeout: plan.readyTimeout, start: start, reaped: reaped)
        outcome.log = readLog()
        guard case .ready = outcome.ending else { return outcome }

        var own = plan.own
        // Addresses inside the namespace, and the API socket.
        let configuration = SlirpCommandLine.decode(outcome.commandLine)
        let deadline = Deadline.after(seconds: 2)
        while true {
            do {
                let observed: ObservedAddresses
                if let holder { observed = try NamespaceReader.read(viaProcess: holder, interface: "tap0") }
                else { observed = try NamespaceReader.read(netnsPath: outcome.namespace, interface: "tap0") }
                outcome.addressChecks = AddressCheck.compare(configuration, observed: observed)
                outcome.observeError = nil
            } catch {
                outcome.observeError = error.description
                outcome.addressChecks = AddressCheck.compare(configuration, observed: nil, reason: error.description)
            }
            // IPv6 comes from a router advertisement: give it a moment.
            let waiting = outcome.addressChecks.contains { $0.role == "guest6" && $0.status == .notObserved } && outcome.observeError == nil
            if !waiting || deadline.hasPassed { break }
            usleep(100_000)
        }
        if let socketPath {
            let socketDeadline = Deadline.after(seconds: 2)
            while !Files.exists(socketPath) && !socketDeadline.hasPassed { usleep(5_000) }
            boundSocket.note(socketPath)
            let client = APIClient(socketPath: socketPath, expectedPID: pid, timeout: 2)
            do {
                let forwards = try client.list()
                outcome.apiResult = "API socket \(socketPath) answers list_hostfwd (\(forwards.count) forwards)"
            } catch {
                outcome.apiFailed = true
                outcome.apiResult = "API socket \(socketPath) does not answer: \(error)"
            }
            // Podman's next step: each -p through the API socket (removed again before this returns).
            if plan.slirpHostForward && !outcome.apiFailed {
                outcome.portChecks = PortTrial.viaAPI(plan.ports, client: client, slirpPID: pid, own: &own)
            }
        }
        // With rootlesskit, rootlessport binds each host port once slirp4netns is ready.
        if !plan.slirpHostForward {
            outcome.portChecks = PortTrial.viaRootlessport(plan.ports, own: &own)
        }
        outcome.log = readLog()
        return outcome
    }

    /// A new file at `path` for a trial's output, unlinked at once (as Podman does with
    /// slirp4netns's log): never a link or a file left at the name, read back through the
    /// read-write descriptor returned, which `cleanup` closes.
    static func unlinkedLog(_ path: String, cleanup: TrialCleanup) throws(SystemError) -> FileDescriptor {
        let fd = try SafeFiles.createExclusive(path, readable: true)
        unlink(path)
        cleanup.add("log descriptor") { fd.close() }
        return fd
    }

    /// What a trial's log holds (its first 256 KiB).
    static func read(log fd: FileDescriptor) -> String {
        String(decoding: (try? fd.read(fromAbsoluteOffset: 0, count: 256 << 10)) ?? [], as: UTF8.self)
    }

    /// Podman's `waitForSync` with a deadline: a byte on the ready pipe means ready; each
    /// second (and at EOF) the process is checked for an exit or a signal.
    static func waitForReady(pid: pid_t, readyFD: Int32, timeout: Double, start: Deadline, reaped: ReapState) -> Ending {
        let deadline = Deadline.after(seconds: timeout)
        var pipeOpen = true
        while true {
            let slice = min(1000, deadline.remainingMilliseconds)
            if pipeOpen && slice > 0 {
                var pfd = pollfd(fd: readyFD, events: Int16(POLLIN), revents: 0)
                if FileDescriptor.poll(&pfd, until: deadline, atMost: 1000) > 0 {
                    var buffer = [UInt8](repeating: 0, count: 16)
                    let n = buffer.withUnsafeMutableBytes { (try? FileDescriptor(rawValue: readyFD).read(into: $0)) ?? -1 }
                    if n > 0 { return .ready(seconds: Deadline.now.seconds(since: start)) }
                    pipeOpen = false // EOF: slirp4netns exited or closed the ready fd
                }
            } else if slice > 0 {
                usleep(UInt32(min(slice, 50)) * 1000)
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped.isReaped = true
                let signal = status & 0x7F
                return signal == 0 ? .exited(status: (status >> 8) & 0xFF) : .killed(signal: signal)
            }
            if deadline.hasPassed { return .timedOut(seconds: timeout) }
        }
    }

    /// The API socket file the trial's slirp4netns bound: a socket of ours at the path, seen
    /// while slirp4netns runs (a user cannot put a file of root's there; a file a user made first
    /// would have made the bind fail).
    final class BoundSocket: Sendable {
        private let seen = Mutex<SafeFiles.Identity?>(nil)
        var identity: SafeFiles.Identity? { seen.withLock { $0 } }

        func note(_ path: String) {
            seen.withLock { seen in
                if seen == nil { seen = SafeFiles.identity(of: path, type: S_IFSOCK, owner: geteuid()) }
            }
        }
    }

    /// Whether the trial's slirp4netns was already reaped (then cleanup must not wait for it).
    /// Set by the trial, read by a cleanup that a signal may run on another thread.
    final class ReapState: Sendable {
        private let reaped = Atomic<Bool>(false)
        var isReaped: Bool {
            get { reaped.load(ordering: .acquiring) }
            set { reaped.store(newValue, ordering: .releasing) }
        }
    }
}
