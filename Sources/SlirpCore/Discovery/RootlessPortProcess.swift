/// A `rootlessport` or `rootlessport-child` process: Podman's default port handler
/// (`port_handler=rootlesskit`), which forwards the configured ports without an API socket.
public struct RootlessPortProcess: Sendable, Equatable, Codable {
    public let pid: Int32
    public let parentPID: Int32
    public let uid: UInt32?
    /// True for `rootlessport-child` (inside the container's namespace).
    public let isChild: Bool
    /// Network namespaces it holds open: the parent holds the container's netns file (a path), or
    /// `net:[inode]` when Podman gave it `/proc/PID/ns/net` (a PID target: `--uidmap`, `--userns`).
    public let netnsPaths: [String]
    /// `net:[inode]` of its own network namespace.
    public let netNamespace: String?
    /// Its start (`/proc/PID/stat` field 22) as the scan read it, before its fds: with the PID, it names the process.
    public var startTicks: UInt64? = nil

    /// Reads a process if it is rootlessport; nil otherwise.
    static func read(pid: Int32, stat: ProcessStat, procRoot: String) -> RootlessPortProcess? {
        let base = "\(procRoot)/\(pid)"
        var isChild = false
        if stat.command == "exe" {
            // rootlessport-child re-executes /proc/self/exe: only its argv says what it is.
            // argv[0] only (64 bytes): any user can run a process named exe with a huge command line.
            guard let argv = try? Files.readProcessFile("\(base)/cmdline", limit: 64),
                  String(decoding: argv.prefix(while: { $0 != 0 }), as: UTF8.self) == "rootlessport-child" else { return nil }
            isChild = true
        } else if stat.command != "rootlessport" {
            return nil
        }
        var paths: [String] = []
        // The lowest fds only (its namespace is among them): any user can run a process named rootlessport with 20000 fds.
        if let fds = try? Files.directoryEntries("\(base)/fd", limit: ProcessScanner.descriptorLimit) {
            for fd in fds {
                if let link = try? Files.readLink("\(base)/fd/\(fd)"), link.contains("/netns/") || link.hasPrefix("net:[") { paths.append(link) }
            }
        }
        let uid = (try? Files.status(base)).map { $0.st_uid }
        return RootlessPortProcess(pid: pid, parentPID: stat.parentPID, uid: uid, isChild: isChild, netnsPaths: paths,
                                   netNamespace: try? Files.readLink("\(base)/ns/net"), startTicks: stat.startTicks)
    }
}
