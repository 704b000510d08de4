#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Finds slirp4netns processes in `/proc`, zombies included.
///
/// A process that vanishes mid-scan is skipped; a field that cannot be read
/// (permission, race) is reported in `SlirpProcess.problems`, never thrown.
public struct ProcessScanner: Sendable {
    public let procRoot: String
    /// The command names that count as slirp4netns (`comm`, at most 15 bytes).
    public let commandNames: Set<String>

    public init(procRoot: String = "/proc", commandNames: Set<String> = ["slirp4netns"]) {
        self.procRoot = procRoot
        self.commandNames = commandNames
    }

    /// Clock ticks per second, for the tick counts of `/proc/PID/stat`.
    public static let ticksPerSecond: Double = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// All slirp4netns processes visible now, by PID.
    public func scan() throws(SystemError) -> [SlirpProcess] {
        try scanAll().slirp
    }

    /// slirp4netns processes and the rootlessport processes beside them, in one pass over `/proc`.
    public func scanAll() throws(SystemError) -> (slirp: [SlirpProcess], rootlessPorts: [RootlessPortProcess]) {
        let clock = BootClock(procRoot: procRoot)
        var found: [SlirpProcess] = []
        var ports: [RootlessPortProcess] = []
        for pid in try Files.processIDs(procRoot: procRoot) {
            guard let text = try? Files.readText("\(procRoot)/\(pid)/stat"), let stat = ProcessStat(text) else { continue }
            if commandNames.contains(stat.command) {
                found.append(inspect(stat, clock: clock))
            } else if stat.command == "rootlessport" || stat.command == "exe",
                      let port = RootlessPortProcess.read(pid: pid, stat: stat, procRoot: procRoot) {
                ports.append(port)
            }
        }
        return (found.sorted { $0.pid < $1.pid }, ports.sorted { $0.pid < $1.pid })
    }

    /// Reads one process, if it is a slirp4netns process (any command name when `anyCommand`).
    public func process(pid: Int32, anyCommand: Bool = false) -> SlirpProcess? {
        guard let text = try? Files.readText("\(procRoot)/\(pid)/stat"),
              let stat = ProcessStat(text), anyCommand || commandNames.contains(stat.command)
        else { return nil }
        return inspect(stat, clock: BootClock(procRoot: procRoot))
    }

    /// True while the process named by `identity` still runs (the PID was not reused).
    public func isAlive(_ identity: ProcessIdentity) -> Bool {
        guard let text = try? Files.readText("\(procRoot)/\(identity.pid)/stat"),
              let stat = ProcessStat(text) else { return false }
        return stat.startTicks == identity.startTicks && !stat.isZombie
    }

    private func inspect(_ stat: ProcessStat, clock: BootClock) -> SlirpProcess {
        let base = "\(procRoot)/\(stat.pid)"
        var problems: [String: String] = [:]
        func note(_ field: String, _ error: SystemError) {
            problems[field] = ProcessScanner.explain(error, pid: stat.pid)
        }

        var uid: UInt32?
        do {
            uid = try Files.status(base).st_uid
            if let text = try? Files.readText("\(base)/status"),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
               let real = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first,
               let value = UInt32(real) {
                uid = value
            }
        } catch { note("uid", error) }

        var arguments: [String] = []
        do {
            let bytes = try Files.readBytes("\(base)/cmdline")
            arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if arguments.last == "" { arguments.removeLast() }
            if arguments.isEmpty && stat.isZombie { problems["arguments"] = "a zombie keeps no command line" }
        } catch { note("arguments", error) }

        var stdoutTarget: String?
        var stderrTarget: String?
        var socketInodes: Set<UInt64>?
        if !stat.isZombie {
            do { stdoutTarget = try Files.readLink("\(base)/fd/1") } catch { note("stdout", error) }
            do { stderrTarget = try Files.readLink("\(base)/fd/2") } catch { note("stderr", error) }
            do {
                var inodes = Set<UInt64>()
                for name in try Files.directoryEntries("\(base)/fd") {
                    guard let link = try? Files.readLink("\(base)/fd/\(name)"),
                          link.hasPrefix("socket:["), link.hasSuffix("]"),
                          let inode = UInt64(link.dropFirst(8).dropLast()) else { continue }
                    inodes.insert(inode)
                }
                socketInodes = inodes
            } catch { note("fds", error) }
        }

        let configuration = SlirpCommandLine.decode(arguments)
        let containerID = configuration.apiSocket.flatMap(ContainerID.fromAPISocket)
            ?? stdoutTarget.flatMap(ContainerID.fromLogPath)
            ?? stderrTarget.flatMap(ContainerID.fromLogPath)

        let started = Double(stat.startTicks) / Self.ticksPerSecond
        return SlirpProcess(
            identity: ProcessIdentity(pid: stat.pid, startTicks: stat.startTicks),
            parentPID: stat.parentPID,
            state: stat.state,
            uid: uid,
            user: uid.flatMap(UserNames.name(of:)),
            startTime: clock.bootTime + started,
            uptimeSeconds: max(0, clock.uptime - started),
            residentBytes: stat.residentPages * Self.pageSize,
            cpuSeconds: Double(stat.userTicks + stat.systemTicks) / Self.ticksPerSecond,
            arguments: arguments,
            configuration: configuration,
            containerID: containerID,
            stdoutTarget: stdoutTarget,
            stderrTarget: stderrTarget,
            socketInodes: socketInodes,
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
        var boot = 0.0
        if let text = try? Files.readText("\(procRoot)/stat"),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
           let value = Double(line.dropFirst(6).trimmingSpaces) {
            boot = value
        }
        var up = 0.0
        if let text = try? Files.readText("\(procRoot)/uptime"),
           let first = text.split(separator: " ").first, let value = Double(first) {
            up = value
        }
        bootTime = boot
        uptime = up
    }
}

/// uid -> user name through the system's passwd database.
public enum UserNames {
    public static func name(of uid: UInt32) -> String? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, result != nil, let name = pwd.pw_name else {
            return nil
        }
        return String(cString: name)
    }
}
