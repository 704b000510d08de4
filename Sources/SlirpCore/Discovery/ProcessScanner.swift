#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch

/// Finds slirp4netns processes in `/proc`, zombies included.
///
/// A process that vanishes mid-scan is skipped; a field that cannot be read
/// (permission, race) is reported in `SlirpProcess.problems`, never thrown.
public struct ProcessScanner: Sendable {
    public let procRoot: String
    /// The command names that count as slirp4netns (`comm`, at most 15 bytes).
    public let commandNames: Set<String>
    /// Keeps what cannot change while a process runs, for the next scan (nil: read everything).
    public let cache: InventoryCache?

    public init(procRoot: String = "/proc", commandNames: Set<String> = ["slirp4netns"], cache: InventoryCache? = nil) {
        self.procRoot = procRoot
        self.commandNames = commandNames
        self.cache = cache
    }

    /// Clock ticks per second, for the tick counts of `/proc/PID/stat`.
    public static let ticksPerSecond: Double = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
    /// The most of a command line read: Podman's longest slirp4netns line is under 1 KiB.
    public static let commandLineLimit = 64 << 10
    /// The most open fds of one process looked at (the lowest numbers): slirp4netns has its
    /// stdout, stderr and API socket among its first ten, one more per forward; any user can
    /// hold 20000 fds in a process named slirp4netns (root's `list` spent 0.1 s on each).
    public static let descriptorLimit = 1024

    /// All slirp4netns processes visible now, by PID.
    public func scan(listeners: ListeningSockets? = nil) throws(SystemError) -> [SlirpProcess] {
        try scanAll(listeners: listeners).slirp
    }

    /// slirp4netns processes and the rootlessport processes beside them, in one pass over `/proc`.
    ///
    /// `listeners`: the host's listening sockets, when known. A process's fds are then read in
    /// order only until the socket listening on its API socket path (slirp4netns opens it before
    /// any forward's socket), not all of them; without an API socket, only fds 1 and 2.
    public func scanAll(listeners: ListeningSockets? = nil) throws(SystemError) -> (slirp: [SlirpProcess], rootlessPorts: [RootlessPortProcess]) {
        let clock = BootClock(procRoot: procRoot)
        var matches: [ProcessStat] = []
        var ports: [RootlessPortProcess] = []
        // Most processes are not wanted: their command name is looked at, not their whole line.
        let wanted = Set(commandNames.map { Array($0.utf8) } + [Array("rootlessport".utf8), Array("exe".utf8)])
        for pid in try Files.processIDs(procRoot: procRoot) {
            guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/stat"), let command = ProcessStat.command(in: bytes),
                  wanted.contains(Array(command)), let stat = ProcessStat(bytes: bytes) else { continue }
            if commandNames.contains(stat.command) {
                matches.append(stat)
            } else if stat.command == "rootlessport" || stat.command == "exe",
                      let port = RootlessPortProcess.read(pid: pid, stat: stat, procRoot: procRoot) {
                ports.append(port)
            }
        }
        // A process seen before needs only its stat line (read above); the cache has the rest. A
        // defunct one's facts are what was read while it ran: shown as last seen, never re-read.
        var found: [SlirpProcess] = []
        var unknown: [ProcessStat] = []
        for stat in matches {
            if let facts = cache?.facts(stat.identity) {
                found.append(stat.isZombie ? defunct(stat, facts: facts, clock: clock)
                             : process(stat, facts: facts, clock: clock, problems: [:], source: .commandLine(readAt: facts.readAt)))
            } else {
                unknown.append(stat)
            }
        }
        // Each new instance costs several /proc reads (status, cmdline, its first fds): spread over the cores.
        let slots = ResultSlots<Reading>(count: unknown.count)
        let chunks = max(1, min(unknown.count, 8))
        let all = unknown
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var apiFD: Int32? // where the last instance's API socket was: instances started alike have it at the same fd
            for i in stride(from: c, to: all.count, by: chunks) { slots.set(i, read(all[i], listeners: listeners, apiFD: &apiFD)) }
        }
        // User names after: one look-up per user, not per instance or thread.
        var names = UserNameCache()
        found += zip(unknown, slots.values).map { stat, reading in finish(stat, reading, clock: clock, names: &names) }
        // A zombie's facts are kept while it is there (its PID and start time still name it): the
        // next run shows them again, last seen, instead of nothing.
        cache?.retain(only: Set(found.map(\.identity)))
        return (found.sorted { $0.pid < $1.pid }, ports.sorted { $0.pid < $1.pid })
    }

    /// Reads one process, if it is a slirp4netns process (any command name when `anyCommand`).
    /// A running process is read whole; a defunct one's kept facts, if any, are its last seen.
    public func process(pid: Int32, anyCommand: Bool = false) -> SlirpProcess? {
        guard let text = try? Files.readText("\(procRoot)/\(pid)/stat"),
              let stat = ProcessStat(text), anyCommand || commandNames.contains(stat.command)
        else { return nil }
        if stat.isZombie, let facts = cache?.facts(stat.identity) {
            return defunct(stat, facts: facts, clock: BootClock(procRoot: procRoot))
        }
        var names = UserNameCache()
        var apiFD: Int32?
        return finish(stat, read(stat, apiFD: &apiFD), clock: BootClock(procRoot: procRoot), names: &names)
    }

    /// True while the process named by `identity` still runs (the PID was not reused).
    public func isAlive(_ identity: ProcessIdentity) -> Bool {
        guard let text = try? Files.readText("\(procRoot)/\(identity.pid)/stat"),
              let stat = ProcessStat(text) else { return false }
        return stat.startTicks == identity.startTicks && !stat.isZombie
    }

    /// What is read of a new process, before its user's name is looked up.
    private struct Reading: Sendable {
        var facts: InventoryCache.ProcessFacts
        var problems: [String: String]
    }

    /// The process from its reading, with its user's name; its facts are kept when read whole.
    private func finish(_ stat: ProcessStat, _ reading: Reading, clock: BootClock, names: inout UserNameCache) -> SlirpProcess {
        var facts = reading.facts
        facts.user = facts.uid.flatMap { names.name(of: $0) }
        // Only a complete reading of a live process is kept (a problem may be passing: read again next time).
        if let cache, reading.problems.isEmpty, !stat.isZombie, !facts.arguments.isEmpty { cache.keep(facts, for: stat.identity) }
        // No command line (a zombie's is gone; one that exits mid-read leaves none): its
        // configuration is unknown, not slirp4netns's defaults.
        let source: ConfigurationSource = facts.arguments.isEmpty
            ? .unknown(reason: stat.isZombie
                ? "slirp4netns \(stat.pid) is defunct: a zombie keeps no command line, and none read while it ran is kept"
                : "no command line read: \(reading.problems["arguments"] ?? "it is empty")")
            : .commandLine(readAt: facts.readAt)
        return process(stat, facts: facts, clock: clock, problems: reading.problems, source: source)
    }

    /// A defunct process from what was read of it while it ran: its command line, owner and
    /// container ID, last seen; not its fds (closed with it).
    private func defunct(_ stat: ProcessStat, facts: InventoryCache.ProcessFacts, clock: BootClock) -> SlirpProcess {
        let kept = InventoryCache.ProcessFacts(uid: facts.uid, user: facts.user, arguments: facts.arguments, configuration: facts.configuration,
                                               containerID: facts.containerID, stdoutTarget: nil, stderrTarget: nil, socketInodes: nil,
                                               readAt: facts.readAt)
        return process(stat, facts: kept, clock: clock, problems: [:], source: .lastSeen(readAt: facts.readAt))
    }

    /// `apiFD`: the fd of the API socket in the last instance read (tried first), updated.
    private func read(_ stat: ProcessStat, listeners: ListeningSockets? = nil, apiFD: inout Int32?) -> Reading {
        let base = "\(procRoot)/\(stat.pid)"
        var problems: [String: String] = [:]
        func note(_ field: String, _ error: SystemError) {
            problems[field] = ProcessScanner.explain(error, pid: stat.pid)
        }

        // The real uid from status; the owner of /proc/PID when status cannot be read.
        var uid: UInt32?
        if let text = try? String(decoding: Files.readProcessFile("\(base)/status"), as: UTF8.self),
           let line = text.firstLine(startingWith: "Uid:"),
           let real = line.byteFields.dropFirst().first,
           let value = UInt32(real) {
            uid = value
        } else {
            do { uid = try Files.status(base).st_uid } catch { note("uid", error) }
        }

        var arguments: [String] = []
        do {
            var bytes = try Files.readProcessFile("\(base)/cmdline", limit: Self.commandLineLimit + 1)
            if bytes.count > Self.commandLineLimit {
                // Anyone can run a process named slirp4netns with megabytes of arguments: what is
                // read and kept is capped, and the facts are never kept (a problem is noted).
                bytes.removeLast(bytes.count - Self.commandLineLimit)
                problems["arguments"] = "command line longer than \(Self.commandLineLimit >> 10) KiB (no real slirp4netns has one): shown truncated"
            }
            arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if arguments.last == "" { arguments.removeLast() }
            if arguments.isEmpty && stat.isZombie { problems["arguments"] = "a zombie keeps no command line" }
        } catch { note("arguments", error) }

        let configuration = SlirpCommandLine.decode(arguments)
        // What the fds are read for: fds 1 and 2 (the log), and the socket listening on the API
        // socket path (its owner). With the host's listeners known, reading stops once both are seen.
        var wanted: Set<UInt64>?
        if let listeners {
            wanted = []
            if let path = configuration.apiSocket {
                let bound = path.hasPrefix("/") ? Set(listeners.sockets(boundTo: path)) : []
                wanted = bound.isEmpty ? nil : bound // not (yet) listening or a relative path: read them all
            }
        }

        var stdoutTarget: String?
        var stderrTarget: String?
        var socketInodes: Set<UInt64>?
        if !stat.isZombie, let wanted, let probed = probeDescriptors(base, until: wanted, tryingFirst: &apiFD) {
            (stdoutTarget, stderrTarget, socketInodes) = probed
        } else if !stat.isZombie {
            // One readlink per fd, in numeric order: stdout and stderr are taken from the same pass.
            do {
                var inodes = Set<UInt64>()
                let entries = try Files.directoryEntries("\(base)/fd", limit: Self.descriptorLimit + 1)
                if entries.count > Self.descriptorLimit {
                    problems["fds"] = "more than \(Self.descriptorLimit) open fds (no real slirp4netns has so many): only the first \(Self.descriptorLimit) looked at"
                }
                for fd in entries.prefix(Self.descriptorLimit).compactMap({ Int($0) }).sorted() {
                    if let wanted, fd > 2, inodes.contains(where: wanted.contains) || wanted.isEmpty { break }
                    guard let link = try? Files.readLink("\(base)/fd/\(fd)") else { continue }
                    if fd == 1 { stdoutTarget = link } else if fd == 2 { stderrTarget = link }
                    if let inode = Self.socketInode(link) { inodes.insert(inode) }
                }
                socketInodes = inodes
            } catch { note("fds", error) }
        }
        if !stat.isZombie {
            if stdoutTarget == nil {
                do { stdoutTarget = try Files.readLink("\(base)/fd/1") } catch { note("stdout", error) }
            }
            if stderrTarget == nil {
                do { stderrTarget = try Files.readLink("\(base)/fd/2") } catch { note("stderr", error) }
            }
        }

        let containerID = configuration.apiSocket.flatMap(ContainerID.fromAPISocket)
            ?? stdoutTarget.flatMap(ContainerID.fromLogPath)
            ?? stderrTarget.flatMap(ContainerID.fromLogPath)
        let facts = InventoryCache.ProcessFacts(
            uid: uid, user: nil, arguments: arguments, configuration: configuration,
            containerID: containerID, stdoutTarget: stdoutTarget, stderrTarget: stderrTarget, socketInodes: socketInodes,
            readAt: InventoryCache.wallNow())
        return Reading(facts: facts, problems: problems)
    }

    /// fds 1, 2, 3... read by number until the socket listening on the API socket path is among
    /// them (only 1 and 2 when no API socket is wanted), without listing the fd directory: its
    /// listing makes the kernel build a dentry per fd, a large part of `list`'s kernel time.
    /// nil when the listener is not among the first 32 numbers, or fds may not be read: the
    /// listing then reads them all (or says why it cannot).
    /// `hint`: the fd to try right after 1 and 2 (where the last instance had its API socket);
    /// set to where this one's was found.
    private func probeDescriptors(_ base: String, until wanted: Set<UInt64>, tryingFirst hint: inout Int32?)
        -> (stdout: String?, stderr: String?, sockets: Set<UInt64>)? {
        var stdout: String?
        var stderr: String?
        var sockets = Set<UInt64>()
        let guess: [Int32] = hint.flatMap { (3...32).contains($0) ? [$0] : nil } ?? []
        for fd in [1, 2] + guess + (3...32).filter({ !guess.contains($0) }) {
            if wanted.isEmpty && fd > 2 { return (stdout, stderr, sockets) }
            let link: String
            do { link = try Files.readLink("\(base)/fd/\(fd)") } catch {
                if error.isPermissionDenied { return nil } // the listing reports it
                continue // a number not open
            }
            if fd == 1 { stdout = link } else if fd == 2 { stderr = link }
            guard let inode = Self.socketInode(link) else { continue }
            sockets.insert(inode)
            if wanted.contains(inode) {
                hint = fd
                return (stdout, stderr, sockets)
            }
        }
        return nil
    }

    /// The inode of an fd link `socket:[12345]`.
    static func socketInode(_ link: String) -> UInt64? {
        let utf8 = Substring(link).utf8
        guard utf8.starts(with: "socket:[".utf8), utf8.last == UInt8(ascii: "]") else { return nil }
        return UInt64(Substring(utf8.dropFirst(8).dropLast()))
    }

    private func process(_ stat: ProcessStat, facts: InventoryCache.ProcessFacts, clock: BootClock,
                         problems: [String: String], source: ConfigurationSource) -> SlirpProcess {
        let started = Double(stat.startTicks) / Self.ticksPerSecond
        return SlirpProcess(
            identity: stat.identity,
            parentPID: stat.parentPID,
            state: stat.state,
            uid: facts.uid,
            user: facts.user,
            startTime: clock.wallTime(ofTicks: stat.startTicks),
            uptimeSeconds: max(0, clock.uptime - started),
            residentBytes: stat.residentPages * Self.pageSize,
            cpuSeconds: Double(stat.userTicks + stat.systemTicks) / Self.ticksPerSecond,
            arguments: facts.arguments,
            configuration: facts.configuration,
            configurationSource: source,
            containerID: facts.containerID,
            stdoutTarget: facts.stdoutTarget,
            stderrTarget: facts.stderrTarget,
            socketInodes: facts.socketInodes,
            problems: problems
        )
    }

    /// A per-field reason an operator can act on.
    static func explain(_ error: SystemError, pid: Int32) -> String {
        if error.isPermissionDenied {
            return "permission denied (\(error.subject ?? "/proc/\(pid)")): run slirpmon as root or as the process's user"
        }
        if error.isGone { return "process \(pid) exited during the scan" }
        return error.description
    }
}

/// Boot time and uptime, to turn start ticks into wall-clock times.
struct BootClock {
    let bootTime: Double
    let uptime: Double

    init(procRoot: String) {
        let boot = procRoot == "/proc" ? Self.hostBootTime : Self.bootTime(procRoot: procRoot)
        var up = 0.0
        if let text = try? Files.readText("\(procRoot)/uptime"),
           let first = text.split(separator: " ").first, let value = Double(first) {
            up = value
        }
        bootTime = boot
        uptime = up
    }

    /// Seconds since the epoch of a process start given in clock ticks since boot.
    func wallTime(ofTicks ticks: UInt64) -> Double { bootTime + Double(ticks) / ProcessScanner.ticksPerSecond }

    /// The host's boot time never changes: `/proc/stat` (long: a count per interrupt) is read once.
    static let hostBootTime = bootTime(procRoot: "/proc")

    static func bootTime(procRoot: String) -> Double {
        guard let text = try? Files.readText("\(procRoot)/stat"),
              let line = text.firstLine(startingWith: "btime "),
              let value = Double(line.dropFirst(6).trimmingSpaces) else { return 0 }
        return value
    }
}

/// User names looked up once per scan (every instance of one user asks the same question).
struct UserNameCache {
    private var names: [UInt32: String?] = [:]
    mutating func name(of uid: UInt32) -> String? {
        if let known = names[uid] { return known }
        let name = UserNames.name(of: uid)
        names[uid] = .some(name)
        return name
    }
}
