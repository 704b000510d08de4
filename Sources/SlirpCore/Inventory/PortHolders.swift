import Dispatch

/// Every host port held by slirp4netns, rootlessport or RootlessKit, with the container, pod and
/// user it belongs to, and the holders left behind by a container that is no longer running
/// ("address already in use" after a container stopped: Podman #9587, #14276, #17977, #20434).
///
/// A holder is proven by the socket, never by a name: the listening TCP and bound UDP sockets of
/// the host's network namespace (`/proc/self/net/{tcp,tcp6,udp,udp6}`: slirpmon's own, the host's
/// when run as root) are matched by inode against the open fds of each slirp4netns, rootlessport
/// parent and RootlessKit parent the inventory found. What names its container is a claim read
/// from files of the holder's user, shown as found:
/// - slirp4netns: the container its inventory row was joined to (`ContainerJoin`: owner and
///   namespace), or the ID in its file names when Podman no longer has that container;
/// - rootlessport: the conmon of its user holding the other end of its exit pipe (fd 3, which
///   Podman gives conmon: rootlessport exits when conmon closes it), whose `-c ID` and `-n NAME`
///   name the container; else the container whose namespace file it holds open.
public enum PortHolders {
    /// The holders of host ports in `snapshot` (sorted by port, protocol, address, PID); with
    /// `only`, the fds of those processes only are read.
    public static func find(in snapshot: InventorySnapshot, procRoot: String = "/proc", only: Set<Int32>? = nil) -> [PortHolder] {
        func wanted(_ pid: Int32) -> Bool { only?.contains(pid) ?? true }
        let sockets = HostSockets.read(procRoot: procRoot)
        guard !sockets.isEmpty else { return [] }
        /// Whether Podman's list can prove a container gone: it answered, for every user asked.
        /// (A user whose Podman failed is not told apart: then no container is called gone.)
        func answered(for uid: UInt32?) -> Bool { snapshot.podmanInstalled && snapshot.podmanFailures.isEmpty && uid != nil }
        // Every candidate's fds (a readlink each: most of the cost at N=100), read across the cores.
        var candidates: [Int32] = []
        for instance in snapshot.instances where !instance.process.isZombie {
            candidates += [instance.rootlessKit?.pid, instance.process.pid].compactMap { $0 }.filter(wanted)
        }
        candidates += snapshot.rootlessPorts.filter { !$0.isChild && wanted($0.pid) }.map(\.pid)
        let unique = Array(Set(candidates))
        // A RootlessKit parent's start is not in the snapshot: read before its fds, so a PID reused
        // in between has other fds (no socket found) or an older start than the one given.
        let kits = Set(snapshot.instances.compactMap { $0.rootlessKit?.pid })
        let slots = ResultSlots<(Int32, (ticks: UInt64?, bound: [HostSockets.Bound]))>(count: unique.count)
        let chunks = max(1, min(unique.count, Inventory.cores * 2))
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for i in stride(from: c, to: unique.count, by: chunks) {
                let pid = unique[i]
                let ticks = kits.contains(pid) ? ProcessStat.startTicks(of: pid, procRoot: procRoot) : nil
                slots.set(i, (pid, (ticks, sockets.bound(by: pid, procRoot: procRoot))))
            }
        }
        let boundBy = Dictionary(slots.values, uniquingKeysWith: { first, _ in first })
        func bound(_ pid: Int32) -> [HostSockets.Bound] { boundBy[pid]?.bound ?? [] }
        let clock = BootClock(procRoot: procRoot)
        /// The holder rows of one process, with its start (`ticks`) as the scan read it before its fds:
        /// the stop command's guard names that process, never one that took its PID later.
        func rows(_ rows: [PortHolder], ticks: UInt64?) -> [PortHolder] {
            rows.map { row in
                var h = row
                h.startTicks = ticks
                h.startTime = ticks.map { clock.wallTime(ofTicks: $0) }
                return h
            }
        }

        var holders: [PortHolder] = []
        var seen = Set<Int32>()
        // Conmons are looked for (one pass over /proc) only for a container missing from its user's list.
        var conmons: [ConmonProcess]?

        for instance in snapshot.instances where !instance.process.isZombie {
            let process = instance.process
            if let kit = instance.rootlessKit, wanted(kit.pid), seen.insert(kit.pid).inserted {
                let bound = bound(kit.pid)
                let what = kit.child?.kind == .docker ? "Docker rootless" : "RootlessKit"
                holders += rows(bound.map {
                    PortHolder(socket: $0, pid: kit.pid, program: .rootlesskit, uid: kit.uid, user: kit.user, container: nil,
                               claimedContainerID: nil, verdict: .unknown("\(what) of user \(kit.user ?? "?"): its containers are not matched to ports"))
                }, ticks: boundBy[kit.pid]?.ticks)
            }
            guard wanted(process.pid), seen.insert(process.pid).inserted else { continue }
            let bound = bound(process.pid)
            guard !bound.isEmpty else { continue }
            let verdict: PortHolder.Verdict
            if let container = instance.container {
                verdict = .of(container)
            } else if let id = process.containerID, process.problems["container"] == nil, answered(for: process.uid) {
                if conmons == nil { conmons = ConmonProcess.all(procRoot: procRoot) }
                // Only a conmon of the holder's own user speaks for its container: any user can run a
                // process named conmon whose command line claims another user's container ID and storage.
                let claiming = conmons?.filter { $0.uid == process.uid && $0.containerID == id } ?? []
                if claiming.count > 1 {
                    verdict = .unknown("\(claiming.count) conmons of its user (pids \(claiming.map { String($0.pid) }.joined(separator: ", "))) claim its container \(Format.shortID(id)): not proven gone")
                } else if claiming.isEmpty, Self.namespaceFileRemoved(process.configuration) {
                    // No conmon runs for it (it exited, Podman #9587) and Podman removed the namespace
                    // file it was started on: its container stopped or was removed.
                    verdict = .namespaceGone
                } else {
                    verdict = .absent(id, uid: process.uid, conmon: claiming.first)
                }
            } else if instance.rootlessNetwork != nil {
                verdict = .unknown("serves its user's Podman networks")
            } else {
                verdict = .unknown("not a Podman container's (started by hand, or by another tool)")
            }
            holders += rows(bound.map {
                PortHolder(socket: $0, pid: process.pid, program: .slirp4netns, uid: process.uid, user: process.user,
                           container: instance.container, claimedContainerID: process.containerID, verdict: verdict)
            }, ticks: process.identity.startTicks)
        }

        let parents = snapshot.rootlessPorts.filter { !$0.isChild && !seen.contains($0.pid) && wanted($0.pid) }
        guard !parents.isEmpty else { return sorted(holders) }
        // A rootlessport the inventory already joined to a container's instance (its namespace) is
        // that container's: no pass over /proc for conmons is needed for it.
        var carriedBy: [Int32: PodmanContainer] = [:]
        for instance in snapshot.instances where !instance.process.isZombie {
            guard let container = instance.container else { continue }
            for port in instance.rootlessPorts where !port.isChild { carriedBy[port.pid] = container }
        }
        for port in parents {
            let bound = bound(port.pid)
            guard !bound.isEmpty else { continue }
            if let container = carriedBy[port.pid] {
                let user = port.uid.flatMap { UserNames.name(of: $0) ?? "uid \($0)" }
                holders += rows(bound.map {
                    PortHolder(socket: $0, pid: port.pid, program: .rootlessport, uid: port.uid, user: user, container: container,
                               claimedContainerID: container.id, verdict: .of(container))
                }, ticks: port.startTicks)
                continue
            }
            // The exit pipe: rootlessport's fd 3, whose write end Podman hands to conmon.
            let exitPipe = try? Files.readLink("\(procRoot)/\(port.pid)/fd/3")
            var conmon: ConmonProcess?
            if let exitPipe, exitPipe.hasPrefix("pipe:[") {
                if conmons == nil { conmons = ConmonProcess.all(procRoot: procRoot) }
                conmon = conmons?.first { $0.uid == port.uid && $0.holds(exitPipe, procRoot: procRoot) }
            }
            let ownContainers = snapshot.podmanContainers.filter { $0.ownerUID == port.uid }
            var container: PodmanContainer?
            if let id = conmon?.containerID { container = ownContainers.first { $0.id == id } }
            if container == nil {
                container = ownContainers.first { c in c.sandboxKey.map { !$0.isEmpty && port.netnsPaths.contains($0) } == true }
            }
            let verdict: PortHolder.Verdict
            if let container {
                verdict = .of(container)
            } else if let id = conmon?.containerID, answered(for: port.uid) {
                verdict = .absent(id, uid: port.uid, conmon: conmon)
            } else if port.netnsPaths.isEmpty {
                // Podman unmounts and removes the namespace file when the container stops or is
                // removed: an fd on it then reads `/`. A rootlessport serving a live container holds it.
                verdict = .namespaceGone
            } else {
                verdict = .unknown("no container of its user has the namespace it holds (\(port.netnsPaths[0]))")
            }
            let user = port.uid.flatMap { UserNames.name(of: $0) ?? "uid \($0)" }
            holders += rows(bound.map {
                PortHolder(socket: $0, pid: port.pid, program: .rootlessport, uid: port.uid, user: user, container: container,
                           claimedContainerID: conmon?.containerID, claimedName: conmon?.name, conmon: conmon, verdict: verdict)
            }, ticks: port.startTicks)
        }
        return sorted(holders)
    }

    /// True when slirp4netns was started on a namespace file (`--netns-type=path`, an absolute path)
    /// that no longer exists: Podman unmounts and deletes it when the container stops or is removed.
    /// Only a missing file counts (a rootless user's mount is not seen from the host's mount
    /// namespace, so "not a mount" proves nothing); the path is the holder's own user's word, and
    /// deleting it can only make that user's own slirp4netns look left over.
    static func namespaceFileRemoved(_ configuration: SlirpConfiguration) -> Bool {
        guard configuration.netnsType == .path, let path = configuration.netnsPath, path.hasPrefix("/") else { return false }
        do throws(SystemError) {
            _ = try Files.linkStatus(path)
            return false
        } catch {
            return error.errno == .noSuchFileOrDirectory
        }
    }

    /// The programs whose ports `find` names (their `comm`).
    static let programs: Set<String> = ["slirp4netns", "rootlessport", "rootlesskit"]

    /// The holder of socket `inode` when process `pid` (named `command`) is a slirp4netns,
    /// rootlessport or RootlessKit parent, from a fresh inventory with Podman asked (kept for 5 s,
    /// as `list` keeps it): for explaining a bind that failed, not for every refresh. Nil otherwise.
    public static func holder(pid: Int32, command: String?, inode: UInt64, procRoot: String = "/proc") -> PortHolder? {
        guard let command, programs.contains(command) else { return nil }
        var options = Inventory.Options(purpose: .scriptedList(forwards: false, cache: nil))
        options.readAddresses = false
        options.readLogs = false
        options.procRoot = procRoot
        options.podman = PodmanCatalog(persistent: true)
        guard let snapshot = try? Inventory(options: options).snapshot() else { return nil }
        return find(in: snapshot, procRoot: procRoot).first { $0.pid == pid && $0.inode == inode }
    }

    static func sorted(_ holders: [PortHolder]) -> [PortHolder] {
        holders.sorted { ($0.port, $0.proto, $0.address, $0.pid) < ($1.port, $1.proto, $1.address, $1.pid) }
    }

    /// The processes that may hold a port for a container that no longer runs: each slirp4netns
    /// whose container is not running or gone (its ID claimed, Podman installed), and each
    /// rootlessport parent that no running container's (or rootless network's) instance carries.
    /// Empty while every container runs: the monitor then reads no socket table at all.
    public static func suspects(in snapshot: InventorySnapshot) -> Set<Int32> {
        var found = Set<Int32>()
        var carried = Set<Int32>()
        for instance in snapshot.instances where !instance.process.isZombie {
            if let container = instance.container {
                if !container.isRunning { found.insert(instance.process.pid) }
            } else if instance.process.containerID != nil && instance.process.problems["container"] == nil && snapshot.podmanInstalled {
                found.insert(instance.process.pid)
            }
            if instance.container?.isRunning == true || instance.rootlessNetwork != nil {
                carried.formUnion(instance.rootlessPorts.map(\.pid))
            }
        }
        for port in snapshot.rootlessPorts where !port.isChild && !carried.contains(port.pid) { found.insert(port.pid) }
        return found
    }

    /// The stale holders among `suspects(in:)` only (the monitor's refresh: the fds of the
    /// instances whose container runs are not read).
    public static func stale(in snapshot: InventorySnapshot, procRoot: String = "/proc") -> [PortHolder] {
        let suspects = suspects(in: snapshot)
        guard !suspects.isEmpty else { return [] }
        return find(in: snapshot, procRoot: procRoot, only: suspects).filter(\.isStale)
    }
}

/// One socket bound on the host and the process holding it, with its container and whether that
/// container still runs.
public struct PortHolder: Sendable, Equatable {
    public enum Program: String, Sendable, Encodable {
        case slirp4netns, rootlessport, rootlesskit
    }

    /// Whether the holder's container runs.
    public enum Verdict: Sendable, Equatable {
        /// Its container (with this state) is known.
        case container(state: String)
        /// Podman answered for its user and has no container with the ID it serves, in the storage its
        /// conmon names (`--root` of conmon's exit command), which is the user's default one.
        case gone(String)
        /// Podman's default storage of its user has no container with the ID it serves, but that is
        /// not proof: no conmon runs for it, or its conmon names another storage (`podman --root`).
        case notInDefaultStorage(String, why: String)
        /// A rootlessport with no container found whose namespace file is unmounted.
        case namespaceGone
        /// Not known (why).
        case unknown(String)

        static func of(_ container: PodmanContainer) -> Verdict { .container(state: container.state) }

        /// Container `id` (of user `uid`) is not in the user's list from its default storage: gone only
        /// when its conmon runs with that very storage (`--root`) and so the list was the right one.
        static func absent(_ id: String, uid: UInt32?, conmon: ConmonProcess?) -> Verdict {
            let short = Format.shortID(id)
            guard let conmon else {
                return .notInDefaultStorage(id, why: "its container \(short) is not in its user's default Podman storage and no conmon runs for it: removed, or kept in another storage (podman --root): not proven gone")
            }
            let defaults = PodmanStorage.defaultRoots(uid: uid)
            guard let root = conmon.storageRoot, let defaults, defaults.contains(root) else {
                return .notInDefaultStorage(id, why: "its container \(short) is not in its user's default Podman storage (\(defaults?.first ?? "unknown")); its conmon (pid \(conmon.pid)) names storage \(conmon.storageRoot ?? "none"), which slirpmon does not ask: check with `podman --root DIR ps -a`")
            }
            return .gone(id)
        }
    }

    /// The socket: protocol, host address and port, inode.
    public let socket: HostSockets.Bound
    public let pid: Int32
    public let program: Program
    public let uid: UInt32?
    public let user: String?
    public let container: PodmanContainer?
    /// The container ID the holder's files name (a slirp4netns's socket or log, a rootlessport's conmon).
    public let claimedContainerID: String?
    /// The container name its conmon gives (`-n`), for a rootlessport whose container is gone.
    public var claimedName: String? = nil
    /// The conmon holding a rootlessport's exit pipe.
    public var conmon: ConmonProcess? = nil
    public let verdict: Verdict

    public var proto: String { socket.proto }
    public var address: String { socket.address }
    public var port: Int { socket.port }
    public var inode: UInt64 { socket.inode }

    /// True when the holder outlived its container: exited or stopped, or gone. A container being
    /// made or started (`created`, `initialized`, `configured`) may already hold its ports, and one
    /// stopping or being removed is passing through: a `kill` is offered only when it is certain.
    public var isStale: Bool {
        switch verdict {
        // Stopping is a passing state, unless its conmon is stopped (then nothing will finish it).
        case .container(let state): state == "stopping" ? conmon?.isStopped == true : ["exited", "stopped"].contains(state)
        case .gone, .namespaceGone: true
        case .unknown, .notInDefaultStorage: false
        }
    }

    /// `running`, `exited`, ... (Podman's word), `gone`, or nil when unknown.
    public var containerState: String? {
        switch verdict {
        case .container(let state): state
        case .gone, .namespaceGone: "gone"
        case .notInDefaultStorage: "unknown"
        case .unknown: nil
        }
    }

    /// The container's name: Podman's, else its conmon's.
    public var containerName: String? { container?.name ?? claimedName }
    public var containerID: String? { container?.id ?? claimedContainerID }

    /// `127.0.0.1:8080`, `[::]:8080`.
    public var hostAddress: String { Format.hostPort(address, port) }

    /// `container web (0123456789ab)`, `pod p1`, or nil.
    public var containerWords: String? {
        if let container, container.isInfra, let pod = container.podName { return "pod \(pod) (infra \(container.shortID))" }
        let id = containerID.map { Format.shortID($0) }
        if let name = containerName { return "container \(name)" + (id.map { " (\($0))" } ?? "") }
        return id.map { "container \($0)" }
    }

    /// Why the holder is stale, in words (nil when it is not).
    public var staleReason: String? {
        guard isStale else { return nil }
        var why: String
        switch verdict {
        case .container(let state):
            why = "which is \(state)"
            if state == "stopping" { why += " and its conmon is stopped" }
        case .gone: why = "which is gone (not in its user's Podman containers, in the storage its conmon names)"
        case .namespaceGone: why = "whose network namespace is gone (unmounted): its container stopped or was removed"
        case .unknown, .notInDefaultStorage: return nil
        }
        if let conmon, conmon.isStopped { why += "; its conmon (pid \(conmon.pid)) is stopped (state T) and still holds it open" }
        if startTicks == nil { why += "; its start time could not be read, so no stop command is given: check that pid \(pid) still holds the port (`ss -ltnup`) before stopping it" }
        return why
    }

    /// The process's start time (clock ticks since boot, `/proc/PID/stat` field 22): with the PID, it names the process.
    public var startTicks: UInt64? = nil
    /// The same as seconds since the epoch.
    public var startTime: Double? = nil

    /// The command that frees the port: stop this process, only if it is still the one that started
    /// at `startTicks` (a PID is reused once the holder exits; a `kill PID` typed later may hit
    /// another process). None when the start time is unknown: a bare `kill PID` is exactly the
    /// command that hits a reused PID (`staleReason` says so).
    public var stopCommand: String? {
        guard isStale, let startTicks else { return nil }
        return "test \"$(sed 's/.*) //' /proc/\(pid)/stat | cut -d' ' -f20)\" = \(startTicks) && kill \(pid)"
    }

    /// Said with the stop command: what it checks.
    public var stopCaution: String {
        startTime.map { "it kills pid \(pid) only if that process still started at \(Format.wallTime(at: $0)) (a PID is reused)" }
            ?? "check first that pid \(pid) is still the holder (a PID is reused)"
    }

    /// A stale holder in a few words, for a header line: `tcp 127.0.0.1:8080 held by rootlessport
    /// pid 796 of container web (gone): kill 796`.
    public var headline: String {
        let of = containerWords.map { " of \($0)" } ?? ""
        return "\(proto) \(hostAddress) held by \(program.rawValue) pid \(pid)\(of) (\(containerState ?? "?"))"
            + (isStale ? startTime.map { ": kill \(pid) if it still started at \(Format.wallTime(at: $0))" } ?? ": start unknown, check pid \(pid) before stopping it" : "")
    }

    /// One sentence: who holds the port, for which container, and for a stale holder what to do.
    public var sentence: String {
        let who = "\(program.rawValue) pid \(pid) (user \(user ?? uid.map { "uid \($0)" } ?? "?"))"
        let of = containerWords.map { " of \($0)" } ?? ""
        if let reason = staleReason, let command = stopCommand {
            return "\(proto) \(hostAddress) is held by \(who)\(of), \(reason): it is left over; `\(command)` frees the port (\(stopCaution))"
        }
        if let reason = staleReason { return "\(proto) \(hostAddress) is held by \(who)\(of), \(reason): it is left over" }
        if case .notInDefaultStorage(_, let why) = verdict {
            return "\(proto) \(hostAddress) is held by \(who)\(of), state unknown: \(why)"
        }
        let state = containerState.map { ", \($0)" } ?? ""
        return "\(proto) \(hostAddress) is held by \(who)\(of)\(state)"
    }
}

/// The sockets bound in the host's network namespace: listening TCP, bound UDP.
public struct HostSockets: Sendable {
    public struct Bound: Sendable, Equatable {
        /// `tcp`, `tcp6`, `udp`, `udp6`.
        public let proto: String
        public let address: String
        public let port: Int
        public let inode: UInt64
    }

    let byInode: [UInt64: Bound]
    var isEmpty: Bool { byInode.isEmpty }

    /// From `/proc/self/net/*`: this process's network namespace (the host's, run as root).
    public static func read(procRoot: String = "/proc") -> HostSockets {
        var all: [UInt64: Bound] = [:]
        for file in ["tcp", "tcp6", "udp", "udp6"] {
            guard let text = try? Files.readText("\(procRoot)/self/net/\(file)") else { continue }
            for socket in parse(text, proto: file) { all[socket.inode] = socket }
        }
        return HostSockets(byInode: all)
    }

    /// Rows of a `/proc/net/{tcp,udp}{,6}` table: TCP in LISTEN (0A), UDP unconnected (07); inode 0 skipped.
    static func parse(_ text: String, proto: String) -> [Bound] {
        let wanted: UInt8 = proto.hasPrefix("tcp") ? 0x0A : 0x07
        return SocketTable.parse(text, ipv6: proto.hasSuffix("6")).compactMap { socket in
            guard socket.state == wanted, socket.inode != 0 else { return nil }
            return Bound(proto: proto, address: socket.local, port: socket.localPort, inode: socket.inode)
        }
    }

    /// The sockets of this table among the open fds of `pid` (its lowest `ProcessScanner.descriptorLimit`).
    func bound(by pid: Int32, procRoot: String) -> [Bound] {
        guard let fds = try? Files.directoryEntries("\(procRoot)/\(pid)/fd", limit: ProcessScanner.descriptorLimit) else { return [] }
        var found: [Bound] = []
        for fd in fds {
            guard let link = try? Files.readLink("\(procRoot)/\(pid)/fd/\(fd)"), let inode = ProcessScanner.socketInode(link),
                  let socket = byInode[inode], !found.contains(socket) else { continue }
            found.append(socket)
        }
        return found
    }
}

/// A `conmon` process: the container ID (`-c`) and name (`-n`) its command line gives, as written
/// by the Podman of its user (the user's own words: shown, never acted on).
public struct ConmonProcess: Sendable, Equatable {
    public let pid: Int32
    public let uid: UInt32?
    public let state: Character
    public let containerID: String?
    public let name: String?
    /// The storage its container lives in: `--root DIR` of the exit command Podman gives it
    /// (`--exit-command-arg --root --exit-command-arg DIR`); nil when not given.
    public var storageRoot: String? = nil

    public var isStopped: Bool { state == "T" || state == "t" }

    /// Every conmon running now: one pass over `/proc` (command names only), its command line read bounded.
    static func all(procRoot: String) -> [ConmonProcess] {
        guard let pids = try? Files.processIDs(procRoot: procRoot) else { return [] }
        var found: [ConmonProcess] = []
        for pid in pids {
            guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/stat", limit: 4096),
                  let command = ProcessStat.command(in: bytes), Array(command) == Array("conmon".utf8),
                  let stat = ProcessStat(bytes: bytes), !stat.isZombie,
                  let line = try? Files.readProcessFile("\(procRoot)/\(pid)/cmdline", limit: 16 << 10) else { continue }
            var words = line.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }[...]
            var id: String?, name: String?, root: String?
            var exitCommand: [String] = []
            while let word = words.popFirst() {
                switch word {
                case "-c", "--cid": id = words.popFirst()
                case "-n", "--name": name = words.popFirst()
                case "--exit-command-arg": if let arg = words.popFirst() { exitCommand.append(arg) }
                default: break
                }
            }
            if let i = exitCommand.firstIndex(of: "--root"), i + 1 < exitCommand.count { root = exitCommand[i + 1] }
            let uid = (try? Files.status("\(procRoot)/\(pid)")).map { $0.st_uid }
            found.append(ConmonProcess(pid: pid, uid: uid, state: stat.state, containerID: id.flatMap { ContainerID.isContainerID($0) ? $0 : nil },
                                       name: name.map { String($0.prefix(255)) }, storageRoot: root.map { String($0.prefix(4096)) }))
        }
        return found
    }

    /// True when one of its fds is `pipe` (`pipe:[N]`).
    func holds(_ pipe: String, procRoot: String) -> Bool {
        guard let fds = try? Files.directoryEntries("\(procRoot)/\(pid)/fd", limit: 256) else { return false }
        return fds.contains { (try? Files.readLink("\(procRoot)/\(pid)/fd/\($0)")) == pipe }
    }
}
