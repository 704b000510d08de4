#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The RootlessKit that started a slirp4netns (`rootlesskit --net=slirp4netns ...`: Docker
/// rootless, containerd rootless, or any command): its parent process, what it runs, its state
/// directory and API socket, and where slirp4netns's output goes.
///
/// Everything here but the parent's executable is the user's to choose (command lines,
/// environments, fds): it is read bounded, shown as found, and never followed as root (fd links
/// are read as strings through `/proc`).
public struct RootlessKitParent: Sendable, Equatable {
    /// Where the state directory was read: the parent's `--state-dir`, the child's
    /// `ROOTLESSKIT_STATE_DIR`, or the directory of the `lock` file the parent holds open.
    public enum StateDirSource: String, Sendable, Equatable {
        case commandLine = "command_line"
        case childEnvironment = "child_environment"
        case openFiles = "open_files"
    }

    /// What runs under it: Docker rootless (`dockerd`), containerd rootless, or another command.
    public enum ChildKind: String, Sendable, Equatable {
        case docker, containerd, command
    }

    /// The rootlesskit child (`/proc/self/exe` in the new namespaces) and the command it runs.
    public struct Child: Sendable, Equatable {
        public let pid: Int32
        /// The command's argv (the child's own child); empty when the child runs none (yet).
        public let command: [String]
        public let kind: ChildKind
        /// The process running `command` (dockerd for Docker rootless); nil when there is none.
        public let commandPID: Int32?
    }

    public let pid: Int32
    public let uid: UInt32?
    public let user: String?
    /// `builtin`, `slirp4netns` or `none` (rootlesskit 1.1's default), as its command line says.
    public let portDriver: String
    public let stateDir: String?
    public let stateDirSource: StateDirSource?
    /// `$STATE/api.sock`.
    public let apiSocket: String?
    /// True when a socket is listening on `apiSocket` and the rootlesskit parent holds it.
    public let apiSocketListening: Bool
    public let child: Child?
    /// Docker rootless's API socket: dockerd's `-H unix://PATH` (`--host`), else `$XDG_RUNTIME_DIR/docker.sock`
    /// of dockerd's environment (dockerd-rootless.sh's default); nil for anything else.
    public let dockerSocket: String?
    /// Where slirp4netns's stdout and stderr go, in words (a pipe read by rootlesskit: rootlesskit's stderr).
    public let log: String
    /// Field -> why it could not be read.
    public let problems: [String: String]
    /// The sockets its fds held when read (for `endpoint(justRead:)`); nil when made by hand.
    var heldSockets: HeldSockets? = nil

    /// Why `apiSocketListening` is false when the answer is not known: the parent's file
    /// descriptors could not be read (another user's, to a caller other than root), so whether it
    /// holds the socket cannot be checked; nil when false means not listening or not held.
    public var apiSocketUncheckable: String? { apiSocketListening ? nil : problems["fds"] }

    /// The Docker daemon under it (Docker rootless), if any.
    public var dockerdPID: Int32? { child?.kind == .docker ? child?.commandPID : nil }

    /// The most of a command line or environment read: rootlesskit's own are under 4 KiB.
    static let textLimit = 64 << 10
    /// The directories a real rootlesskit is installed in (Debian: /usr/bin).
    static let installedPaths = ["/usr/bin/rootlesskit", "/usr/local/bin/rootlesskit", "/usr/sbin/rootlesskit", "/bin/rootlesskit"]

    /// Whether the process `pid` runs an installed rootlesskit: its executable (the inode the
    /// kernel ran, through `/proc/PID/exe`) is one of the installed files, owned by root. Its
    /// name (`comm`, argv[0]) is the user's to choose and proves nothing; so does a copy.
    /// One `readlink` for any other process (root's and other users' alike).
    static func runsRootlessKit(_ pid: Int32, procRoot: String) -> Bool {
        guard pid > 1, let link = try? Files.readLink("\(procRoot)/\(pid)/exe"), installedPaths.contains(link),
              let running = try? Files.status("\(procRoot)/\(pid)/exe"), let installed = try? Files.status(link) else { return false }
        return running.st_dev == installed.st_dev && running.st_ino == installed.st_ino && installed.st_uid == 0
            && installed.st_mode & 0o022 == 0
    }

    /// Why the parent of `slirp` may be a RootlessKit slirpmon does not trust, or nil: a process
    /// named `rootlesskit` whose executable is not an installed, root-owned rootlesskit (Docker's
    /// rootless bundle puts one in `~/bin`). Its ports would be RootlessKit's, but slirpmon does
    /// not take a user's program for RootlessKit (its name and file prove nothing).
    public static func untrusted(parentOf slirp: SlirpProcess, procRoot: String = "/proc") -> String? {
        let pid = slirp.parentPID
        guard pid > 1, !runsRootlessKit(pid, procRoot: procRoot),
              (try? Files.readText("\(procRoot)/\(pid)/comm")) == "rootlesskit\n" else { return nil }
        let exe = (try? Files.readLink("\(procRoot)/\(pid)/exe")).map { " (" + $0 + ")" } ?? ""
        return "its parent, pid \(pid), is named rootlesskit but does not run an installed, root-owned rootlesskit\(exe)"
    }

    /// The RootlessKit that started `slirp`, or nil when its parent is not rootlesskit.
    /// `listeners`: the host's listening sockets, to tell whether the API socket listens.
    public static func of(_ slirp: SlirpProcess, procRoot: String = "/proc", listeners: ListeningSockets? = nil) -> RootlessKitParent? {
        guard !slirp.isZombie, runsRootlessKit(slirp.parentPID, procRoot: procRoot) else { return nil }
        let pid = slirp.parentPID
        let base = "\(procRoot)/\(pid)"
        var problems: [String: String] = [:]
        let uid = (try? Files.status(base))?.st_uid
        // The parent runs as the slirp4netns's user: a rootlesskit of another user did not start it.
        guard uid == slirp.uid else { return nil }

        let arguments = argv(of: pid, procRoot: procRoot, problems: &problems, field: "command_line")
        let flags = Flags(arguments.dropFirst())

        // The child: slirp4netns's target PID, a child of this rootlesskit.
        var child: Child?
        if let target = slirp.configuration.targetPID, parent(of: target, procRoot: procRoot) == pid {
            child = readChild(target, procRoot: procRoot, problems: &problems)
        } else {
            problems["child"] = "slirp4netns's target \(slirp.configuration.targetPID.map(String.init) ?? "(none)") is not a child of rootlesskit \(pid)"
        }

        let (descriptors, held) = fdLinks(pid, procRoot: procRoot, problems: &problems)
        var stateDir: String?
        var source: StateDirSource?
        if let dir = flags.stateDir, dir.hasPrefix("/") {
            (stateDir, source) = (dir, .commandLine)
        } else if let child, let dir = environmentValue("ROOTLESSKIT_STATE_DIR", of: child.pid, procRoot: procRoot), dir.hasPrefix("/") {
            (stateDir, source) = (dir, .childEnvironment)
        } else if let lock = descriptors.values.first(where: { $0.hasPrefix("/") && $0.hasSuffix("/lock") && !$0.hasSuffix(" (deleted)") }) {
            (stateDir, source) = (String(lock.dropLast("/lock".count)), .openFiles)
        } else {
            problems["state_dir"] = "not in its command line, the child's environment or its open files"
        }
        let apiSocket = stateDir.map { $0 + "/api.sock" }
        var listening = false
        if let apiSocket, let listeners, let inodes = held.inodes {
            listening = listeners.sockets(boundTo: apiSocket).contains(where: inodes.contains)
        }
        let dockerSocket = child.flatMap { $0.kind == .docker ? $0.commandPID : nil }.flatMap { dockerd in
            Self.dockerSocket(of: dockerd, procRoot: procRoot, problems: &problems)
        }
        return RootlessKitParent(pid: pid, uid: uid, user: slirp.user ?? uid.flatMap(UserNames.name(of:)), portDriver: flags.portDriver,
                                 stateDir: stateDir, stateDirSource: source, apiSocket: apiSocket, apiSocketListening: listening,
                                 child: child, dockerSocket: dockerSocket, log: logWords(slirp, rootlesskit: pid, debug: flags.debug, descriptors: descriptors),
                                 problems: problems, heldSockets: held)
    }

    /// Where slirp4netns's output goes: rootlesskit 1.1 reads it from a pipe and logs it as
    /// `level=debug` lines to its own stderr (said with where that goes) only with `--debug`;
    /// without, it is read and dropped (checked: an API request's `api_handler: got request` line
    /// shows in rootlesskit's stderr with --debug, nowhere without). Else the file or terminal its fd 2 is.
    static func logWords(_ slirp: SlirpProcess, rootlesskit pid: Int32, debug: Bool, descriptors: [Int: String]) -> String {
        guard let target = slirp.stderrTarget ?? slirp.stdoutTarget else { return "unknown (its fds 1 and 2 could not be read)" }
        guard target.hasPrefix("pipe:[") else { return target }
        // The parent holds the pipe's read end (rootlesskit 1.1: fd 14) when it reads it.
        guard descriptors.contains(where: { $0.key > 2 && $0.value == target }) else {
            return "a pipe (\(target)) rootlesskit \(pid) does not hold"
        }
        guard debug else {
            return "a pipe read by rootlesskit (pid \(pid)), which drops it: rootlesskit logs slirp4netns's output only with --debug"
        }
        let destination = descriptors[2].map { $0.hasPrefix("pipe:[") || $0.hasPrefix("socket:[") ? "\($0), its reader's log (e.g. a journal)" : $0 } ?? "closed"
        return "rootlesskit's stderr (pid \(pid), --debug: level=debug lines): \(destination)"
    }

    /// dockerd's unix socket: its `-H`/`--host unix://PATH` (the first), else its environment's
    /// `$XDG_RUNTIME_DIR/docker.sock` (dockerd-rootless.sh's default).
    static func dockerSocket(of dockerd: Int32, procRoot: String, problems: inout [String: String]) -> String? {
        var words = argv(of: dockerd, procRoot: procRoot, problems: &problems, field: "dockerd").dropFirst()
        while let word = words.popFirst() {
            var value: String?
            for flag in ["-H", "--host"] {
                if word == flag { value = words.popFirst() } else if word.hasPrefix(flag + "=") { value = String(word.dropFirst(flag.count + 1)) }
            }
            if let value, value.hasPrefix("unix://") { return String(value.dropFirst("unix://".count)) }
        }
        guard let runtime = environmentValue("XDG_RUNTIME_DIR", of: dockerd, procRoot: procRoot), runtime.hasPrefix("/") else { return nil }
        return runtime + "/docker.sock"
    }

    /// The open fds of `pid` (the first `HeldSockets.descriptorLimit`), as link strings, and the sockets among them.
    static func fdLinks(_ pid: Int32, procRoot: String, problems: inout [String: String]) -> ([Int: String], HeldSockets) {
        var links: [Int: String] = [:]
        do {
            for name in try Files.directoryEntries("\(procRoot)/\(pid)/fd", limit: HeldSockets.descriptorLimit) {
                if let fd = Int(name), let link = try? Files.readLink("\(procRoot)/\(pid)/fd/\(name)") { links[fd] = link }
            }
        } catch {
            problems["fds"] = ProcessScanner.explain(error, pid: pid)
            return (links, HeldSockets(error))
        }
        return (links, HeldSockets(links: links.values))
    }

    static func argv(of pid: Int32, procRoot: String, problems: inout [String: String], field: String) -> [String] {
        do {
            var bytes = try Files.readProcessFile("\(procRoot)/\(pid)/cmdline", limit: textLimit + 1)
            if bytes.count > textLimit {
                bytes.removeLast(bytes.count - textLimit)
                problems[field] = "command line of \(pid) longer than \(textLimit >> 10) KiB: read truncated"
            }
            var words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if words.last == "" { words.removeLast() }
            return words
        } catch {
            problems[field] = ProcessScanner.explain(error, pid: pid)
            return []
        }
    }

    static func parent(of pid: Int32, procRoot: String) -> Int32? {
        guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/stat"), let stat = ProcessStat(bytes: bytes) else { return nil }
        return stat.parentPID
    }

    /// `NAME=` in the environment of `pid` (readable by root and its user), bounded.
    static func environmentValue(_ name: String, of pid: Int32, procRoot: String) -> String? {
        guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/environ", limit: textLimit) else { return nil }
        let prefix = Array((name + "=").utf8)
        for entry in bytes.split(separator: 0) where entry.starts(with: prefix) {
            return String(decoding: entry.dropFirst(prefix.count), as: UTF8.self)
        }
        return nil
    }

    /// The children of `pid` (all its threads'), at most 64.
    static func children(of pid: Int32, procRoot: String) -> [Int32] {
        var found: [Int32] = []
        for task in (try? Files.directoryEntries("\(procRoot)/\(pid)/task", limit: 256)) ?? [] {
            guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/task/\(task)/children", limit: 4096) else { continue }
            found += bytes.split(separator: UInt8(ascii: " ")).compactMap { Int32(String(decoding: $0, as: UTF8.self)) }
            if found.count >= 64 { break }
        }
        return Array(found.prefix(64))
    }

    /// The child and the command it runs: its first child that is not a zombie.
    static func readChild(_ pid: Int32, procRoot: String, problems: inout [String: String]) -> Child {
        let commandPID = children(of: pid, procRoot: procRoot).sorted().first { p in
            guard let bytes = try? Files.readProcessFile("\(procRoot)/\(p)/stat"), let stat = ProcessStat(bytes: bytes) else { return false }
            return !stat.isZombie
        }
        // None yet while the child sets up the namespaces (or once the command exited): empty, not the child's own argv.
        let command = commandPID.map { argv(of: $0, procRoot: procRoot, problems: &problems, field: "command") } ?? []
        var kind = ChildKind.command
        if let commandPID, let link = try? Files.readLink("\(procRoot)/\(commandPID)/exe") {
            // Informational (the user's own instance): the program the kernel runs, by its file name.
            switch String(link.split(separator: "/").last ?? "") {
            case "dockerd": kind = .docker
            case "containerd": kind = .containerd
            default: break
            }
        }
        return Child(pid: pid, command: command, kind: kind, commandPID: commandPID)
    }

    /// The parts of rootlesskit's own flags slirpmon shows: they come before its command (the
    /// first word that is not a flag), as urfave/cli reads them (`--name=value`, `--name value`,
    /// `-name value`; booleans take no separate value).
    struct Flags {
        var portDriver = "none"
        var stateDir: String?
        var debug = false

        /// rootlesskit 1.1.0's boolean flags (`rootlesskit --help`).
        static let booleans: Set<String> = ["debug", "disable-host-loopback", "ipv6", "pidns", "cgroupns", "utsns", "ipcns",
                                            "help", "h", "version", "v"]

        init(_ words: ArraySlice<String>) {
            var rest = words
            while let word = rest.first, word.hasPrefix("-"), word != "-" {
                rest = rest.dropFirst()
                if word == "--" { break }
                let body = word.drop { $0 == "-" }
                let name: Substring
                var value: String?
                if let eq = body.firstIndex(of: "=") {
                    name = body[..<eq]
                    value = String(body[body.index(after: eq)...])
                } else {
                    name = body
                    if !Self.booleans.contains(String(name)), let next = rest.first {
                        value = next
                        rest = rest.dropFirst()
                    }
                }
                switch name {
                case "port-driver": if let value { portDriver = value }
                case "state-dir": stateDir = value
                case "debug": debug = value.map { $0 == "true" || $0 == "1" } ?? true
                default: break
                }
            }
        }
    }
}
