#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

/// Starting other programs: finding them, running them with a deadline, and
/// spawning long-lived ones with chosen descriptors.
public enum Executables {
    /// The first executable `name` in `PATH` (or `name` itself when it contains a slash).
    public static func find(_ name: String, path: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let search = path ?? (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        for dir in search.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        for dir in ["/usr/sbin", "/sbin"] where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }

    /// What a finished program printed and how it ended.
    public struct Output: Sendable, Equatable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public var combined: String { stdout + stderr }

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// The most of each of a program's outputs kept (`run`, `UntrustedProgram.run`): no answer
    /// slirpmon asks for comes near it (`podman ps -a` with 1000 containers: about 3 MiB), and a
    /// program that prints without end cannot grow slirpmon without end.
    public static let outputLimit = 64 << 20

    /// Runs `program` with `arguments`, stdin from /dev/null, and collects its output (at most
    /// `limit` bytes of each stream: past it the program's process group is killed and the run
    /// fails with `EFBIG`). Past `timeout` the program's process group is killed and the run
    /// fails with `ETIMEDOUT`. For programs slirpmon trusts (its own tools, root's own Podman);
    /// anything another user controls runs as an `UntrustedProgram`.
    public static func run(_ program: String, _ arguments: [String], timeout: Double = 10,
                           environment: [String]? = nil, limit: Int = outputLimit) -> Result<Output, SystemError> {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard cslirp_pipe_cloexec(&outPipe) == 0 else { return .failure(SystemError("pipe2")) }
        guard cslirp_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return .failure(SystemError("pipe2"))
        }
        let spawned = spawn(program, arguments, descriptors: [1: outPipe[1], 2: errPipe[1]], environment: environment)
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        let pid: pid_t
        switch spawned {
        case .success(let p): pid = p
        case .failure(let e): return .failure(e)
        }
        let deadline = Deadline.after(seconds: timeout)
        var out: [UInt8] = [], err: [UInt8] = []
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 16384)
        var timedOut = false, tooMuch = false
        while !open.isEmpty && !tooMuch {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if deadline.hasPassed { timedOut = true; break }
            let rc = FileDescriptor.poll(&fds, until: deadline)
            if rc <= 0 { timedOut = rc == 0; break }
            for p in fds where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { (try? FileDescriptor(rawValue: p.fd).read(into: $0)) ?? -1 }
                if n > 0 {
                    if p.fd == outPipe[0] { out.append(contentsOf: buffer[0..<n]) } else { err.append(contentsOf: buffer[0..<n]) }
                    if out.count > limit || err.count > limit { tooMuch = true; break }
                } else { // the end, or a failed read
                    open.removeAll { $0 == p.fd }
                }
            }
        }
        // The program leads its own process group (see `spawn`): what it started goes with it.
        if timedOut || tooMuch { kill(-pid, SIGKILL) }
        let status = waitFor(pid)
        if timedOut { return .failure(SystemError("run", program, errno: .timedOut)) }
        if tooMuch { return .failure(SystemError("read", "output of \(program)", errno: .fileTooLarge, detail: "over \(limit >> 20) MiB (stopped it)")) }
        return .success(Output(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self)))
    }

    /// Starts `program` with the given descriptors (child fd -> parent fd; the rest of
    /// the child's fds 0-2 go to /dev/null), in a new process group. The corresponding
    /// C function is `posix_spawn`.
    public static func spawn(_ program: String, _ arguments: [String], descriptors: [Int32: Int32] = [:],
                             environment: [String]? = nil, newProcessGroup: Bool = true) -> Result<pid_t, SystemError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        // Move every source fd out of the way first, so mappings like 3->4, 4->3 cannot clash.
        var staged: [(Int32, Int32)] = []
        for (child, parent) in descriptors {
            let temp = fcntl(parent, F_DUPFD_CLOEXEC, 100)
            if temp < 0 { staged.forEach { close($0.1) }; return .failure(SystemError("fcntl(F_DUPFD)")) }
            staged.append((child, temp))
        }
        defer { staged.forEach { close($0.1) } }
        for fd: Int32 in [0, 1, 2] where descriptors[fd] == nil {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        for (child, temp) in staged { posix_spawn_file_actions_adddup2(&actions, temp, child) }
        // Nothing else is inherited: a descriptor a library opened without close-on-exec (NIO's
        // accepted connections in slirpmon serve) would otherwise stay open in every child.
        let past = max(3, (descriptors.keys.max() ?? 2) + 1)
        for fd in 3..<past where descriptors[fd] == nil { posix_spawn_file_actions_addclose(&actions, fd) }
        let closing = cslirp_spawn_close_from(&actions, past)
        if closing != 0 { return .failure(SystemError("posix_spawn_file_actions_addclosefrom_np", program, code: closing)) }

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envStrings = environment ?? currentEnvironment()
        let envp = envStrings.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        if rc != 0 { return .failure(SystemError("posix_spawn", program, code: rc)) } // posix_spawn returns the errno value
        return .success(pid)
    }

    /// Waits for `pid` and returns its exit status (128+signal when killed).
    @discardableResult
    public static func waitFor(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        if retryingOnInterrupt({ waitpid(pid, &status, 0) }) < 0 { return -1 }
        return exitCode(status)
    }

    /// Decodes a `waitpid` status: the exit code, or 128+signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    static func currentEnvironment() -> [String] {
        var result: [String] = []
        var p = environ
        while let entry = p.pointee {
            result.append(String(cString: entry))
            p += 1
        }
        return result
    }
}
