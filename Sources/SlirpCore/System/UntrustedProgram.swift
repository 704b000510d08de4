#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

/// A program slirpmon does not trust, run so that it cannot reach the terminal, the
/// environment or the descriptors of whoever runs slirpmon (root, usually): a user's Podman
/// (which runs the user's `conmon_path`, hooks and helpers), or slirpmon itself re-run as a user.
///
/// The rules, each against something a user's program did or could do to root:
/// - a new session (`setsid`) and so no controlling terminal: `/dev/tty` cannot be opened
///   and TIOCSTI cannot type into root's shell; stdin is /dev/null, stdout and stderr are
///   pipes, every other descriptor is closed;
/// - as another user through `setpriv` (util-linux), which changes uid, gid and groups and
///   execs the program: no PAM, no fork, no environment of its own. `runuser` forks and waits
///   (killing it left the user's program running) and keeps the caller's environment unless
///   told otherwise;
/// - an environment built from the user's passwd entry only (HOME, USER, LOGNAME, PATH,
///   XDG_RUNTIME_DIR): never the caller's variables (AWS_*, tokens, SSH_AUTH_SOCK);
/// - a deadline, past which the whole session is killed (the process group, then any
///   process still in the session) and the program reaped; what it prints is capped.
///
/// A process that makes a session of its own (a daemon: conmon, Podman's pause process)
/// leaves this one on purpose and is not killed; it has no terminal of root's either.
public struct UntrustedProgram: Sendable {
    /// A user to run as, from the passwd entry.
    public struct Account: Sendable, Equatable {
        public let name: String
        public let uid: UInt32
        public let gid: UInt32
        public let home: String

        public init(name: String, uid: UInt32, gid: UInt32, home: String) {
            self.name = name
            self.uid = uid
            self.gid = gid
            self.home = home
        }

        /// The user with this uid, or nil when no passwd entry (file or directory) has it.
        public static func of(uid: UInt32) -> Account? {
            UserNames.user(uid: uid).map { Account(name: $0.name, uid: $0.uid, gid: $0.gid, home: $0.home) }
        }

        /// The user with this name, or nil.
        public static func named(_ name: String) -> Account? {
            UserNames.user(named: name).map { Account(name: $0.name, uid: $0.uid, gid: $0.gid, home: $0.home) }
        }

        /// The whole environment the program gets: from the passwd entry, nothing of the caller's.
        public var environment: [String] {
            ["HOME=\(home)", "USER=\(name)", "LOGNAME=\(name)", "PATH=\(UntrustedProgram.path)", "XDG_RUNTIME_DIR=/run/user/\(uid)"]
        }
    }

    /// The search path every untrusted program gets.
    public static let path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"

    /// Which of the program's outputs a chunk came from.
    public enum Stream: Sendable { case output, errors }

    public let program: String
    public let arguments: [String]
    /// The user to run as; nil: as the caller's user (still in a session of its own).
    public let account: Account?
    /// The program's whole environment (by default the account's, see `Account.environment`).
    public var environment: [String]

    public init(_ program: String, _ arguments: [String], as account: Account?, environment: [String]? = nil) {
        self.program = program
        self.arguments = arguments
        self.account = account
        self.environment = environment ?? account?.environment ?? ["PATH=\(Self.path)"]
    }

    /// Runs the program to its end and collects its output (at most `limit` bytes of each
    /// stream: more is an `EFBIG` failure). Past `timeout` the session is killed and the run
    /// fails with `ETIMEDOUT`.
    public func run(timeout: Double, limit: Int = Executables.outputLimit) -> Result<Executables.Output, SystemError> {
        var out: [UInt8] = [], err: [UInt8] = []
        var tooMuch = false
        let result = stream(deadline: .after(seconds: timeout)) { stream, bytes in
            if stream == .output { out += bytes } else { err += bytes }
            if out.count > limit || err.count > limit { tooMuch = true; return false }
            return true
        }
        switch result {
        case .failure(let error): return .failure(error)
        case .success(let status):
            if tooMuch { return .failure(SystemError("read", "output of \(program)", errno: .fileTooLarge, detail: "over \(limit >> 20) MiB (stopped it)")) }
            return .success(Executables.Output(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self)))
        }
    }

    /// Runs the program and hands over its output as it comes (`body` returns false to stop it:
    /// the session is then killed). Each of `forwarding`'s signals, when this process receives
    /// it, is sent to the program's process group instead (Ctrl-C reaches the program, which may
    /// clean up; it is not in the terminal's foreground group); they stay blocked in the calling
    /// thread afterwards. Returns the exit status (128+signal
    /// when killed); past `deadline` the session is killed and the result is `ETIMEDOUT`.
    public func stream(deadline: Deadline, forwarding signals: [Int32] = [],
                       _ body: (Stream, ArraySlice<UInt8>) -> Bool) -> Result<Int32, SystemError> {
        var fullProgram = program
        var argv = [program] + arguments
        if let account {
            guard let setpriv = Executables.find("setpriv", path: Self.path) else {
                return .failure(SystemError("run as \(account.name)", "setpriv (util-linux) is not installed", errno: .noSuchFileOrDirectory))
            }
            fullProgram = setpriv
            argv = [setpriv, "--reuid=\(account.uid)", "--regid=\(account.gid)", "--init-groups", "--", program] + arguments
        }

        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard cslirp_pipe_cloexec(&outPipe) == 0 else { return .failure(SystemError("pipe2")) }
        guard cslirp_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return .failure(SystemError("pipe2"))
        }
        var readEnds = [outPipe[0], errPipe[0]]
        defer { readEnds.forEach { close($0) } }
        let null = (try? FileDescriptor.open("/dev/null", .readOnly, options: .closeOnExec))?.rawValue ?? -1
        // Each of the child's stdio sources at fd >= 3, so that no dup2 onto 0-2 clobbers another.
        var stdio = [null, outPipe[1], errPipe[1]].map { $0 >= 0 ? fcntl($0, F_DUPFD_CLOEXEC, 3) : -1 }
        close(null); close(outPipe[1]); close(errPipe[1])
        // Closed once: by this defer only if the spawn below was not reached (it closes them and
        // forgets them). Closing a number twice closes whatever another thread opened under it since.
        defer { stdio.forEach { if $0 >= 0 { close($0) } } }
        guard !stdio.contains(where: { $0 < 0 }) else { return .failure(SystemError("open", "/dev/null")) }

        // Signals to forward are blocked before the child exists (it gets an empty mask) and read from a signalfd.
        let signalFD = signals.isEmpty ? -1 : signals.withUnsafeBufferPointer { cslirp_signalfd($0.baseAddress, Int32($0.count)) }
        defer { if signalFD >= 0 { close(signalFD) } }

        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let cEnv = environment.map { strdup($0) } + [nil]
        defer { cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = stdio.withUnsafeBufferPointer { fds in cslirp_spawn_isolated(&pid, fullProgram, cArgs, cEnv, fds.baseAddress, "/") }
        stdio.forEach { close($0) }
        stdio = [-1, -1, -1]
        if rc != 0 { return .failure(SystemError("posix_spawn", fullProgram, code: rc)) } // posix_spawn returns the errno value
        let session = pid // setsid: the session and process group take the child's PID
        let exited = cslirp_pidfd_open(pid)
        defer { if exited >= 0 { close(exited) } }

        var buffer = [UInt8](repeating: 0, count: 65536)
        var timedOut = false, stopped = false, childGone = false
        var drainBy: Deadline?
        while !readEnds.isEmpty || !childGone {
            let until = min(deadline, drainBy ?? deadline)
            var fds = readEnds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if exited >= 0 && !childGone { fds.append(pollfd(fd: exited, events: Int16(POLLIN), revents: 0)) }
            if signalFD >= 0 { fds.append(pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)) }
            if until.hasPassed { timedOut = drainBy == nil || deadline.hasPassed; break }
            // Without a pidfd the child's end is noticed when both pipes close (checked every 100 ms after).
            let rc = FileDescriptor.poll(&fds, until: until, atMost: exited >= 0 || !readEnds.isEmpty ? .max : 100)
            if rc < 0 { break }
            for p in fds where p.revents != 0 {
                if p.fd == signalFD {
                    while true {
                        let signal = cslirp_signalfd_next(signalFD)
                        if signal < 0 { break }
                        kill(-session, signal)
                    }
                } else if p.fd == exited {
                    childGone = true
                } else {
                    let read = buffer.withUnsafeMutableBytes { raw in
                        Result { () throws(SystemError) in try FileDescriptor(rawValue: p.fd).read(into: raw) }
                    }
                    switch read {
                    case .success(let n) where n > 0:
                        if !body(p.fd == outPipe[0] ? .output : .errors, buffer[0..<n]) { stopped = true }
                    case .failure(let error) where error.errno == .wouldBlock:
                        break // nothing yet after all
                    default: // the end, or a failed read
                        close(p.fd)
                        readEnds.removeAll { $0 == p.fd }
                    }
                }
            }
            if stopped { break }
            if exited < 0 && readEnds.isEmpty {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { return .success(Executables.exitCode(status)) }
            }
            // The program ended but something it started still holds the pipes: a short grace, then the session goes.
            if childGone && !readEnds.isEmpty && drainBy == nil { drainBy = .after(seconds: 0.5) }
        }
        let finishedNormally = !timedOut && !stopped && readEnds.isEmpty && childGone
        if !finishedNormally { Self.killSession(session) }
        let status = Executables.waitFor(pid)
        if timedOut { return .failure(SystemError("run", program, errno: .timedOut)) }
        return .success(status)
    }

    /// Kills the process group `session` (the program and its ordinary children), then every
    /// process still in that session (a child that made a process group of its own).
    static func killSession(_ session: pid_t) {
        kill(-session, SIGKILL)
        for pid in sessionMembers(session) { kill(pid, SIGKILL) }
    }

    /// The processes whose session is `session` (field 6 of `/proc/PID/stat`).
    public static func sessionMembers(_ session: pid_t) -> [pid_t] {
        guard let names = try? Files.directoryEntries("/proc") else { return [] }
        return names.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let bytes = try? Files.readBytes("/proc/\(name)/stat"),
                  let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            // After the command: state, ppid, pgrp, session.
            let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
            guard fields.count > 3, let sid = pid_t(String(decoding: fields[3], as: UTF8.self)), sid == session else { return nil }
            return pid
        }
    }
}
