import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What Podman knows, cached: asked again only when what the answer depends on changed
/// (the slirp4netns processes, Podman's state files: see `PodmanDiskCache.key`) or the
/// answer is older than `maxAge` (an answer with a failure: 5 s at most), never on every
/// screen refresh; not asked at all for a user whose container storage is empty. A user whose
/// Podman failed is not asked again for a minute (see `PodmanHoldOff`); the failure is shown.
public final class PodmanCatalog: Sendable {
    /// One answer from Podman (all users asked).
    public struct Snapshot: Sendable {
        public let containers: [PodmanContainer]
        /// One line per user whose Podman could not be asked.
        public let failures: [String]
        /// False when Podman is not installed (then everything else still works).
        public let installed: Bool
        /// The users (uid) whose Podman answered: their containers are all in `containers`
        /// (none when their storage is empty). Not those in `failures`, nor any when not installed.
        public var answered: Set<UInt32> = []
        public static let empty = Snapshot(containers: [], failures: [], installed: false)
    }

    public let maxAge: Double
    public let timeout: Double
    private let binary: String?
    private let state = Mutex(State())

    private let disk: PodmanDiskCache?
    private let holdOffPath: String?

    /// What is kept between calls: the last answer under the key that proves it (monotonic
    /// seconds), and the remembered failures, read on first use (only a run that asks Podman needs them).
    private struct State {
        var answer: Kept<String, Snapshot>?
        var holdOff: PodmanHoldOff?

        mutating func withHoldOff<T>(path: String?, _ body: (inout PodmanHoldOff) -> T) -> T {
            var memory = holdOff ?? PodmanHoldOff(path: path)
            defer { holdOff = memory }
            return body(&memory)
        }
    }

    /// `persistent`: also keep the answer on disk for at most 5 s (see `PodmanDiskCache`),
    /// for short-lived commands such as `slirpmon list`.
    public init(maxAge: Double = 5, timeout: Double = 10, binary: String? = PodmanCLI.installed(), persistent: Bool = false) {
        self.maxAge = maxAge
        self.timeout = timeout
        self.binary = binary
        disk = persistent ? PodmanDiskCache.forCurrentUser(maxAge: min(maxAge, 5)) : nil
        holdOffPath = persistent ? PodmanHoldOff.pathForCurrentUser() : nil
    }

    /// The containers of every user whose slirp4netns runs here (as root) or of this user.
    public func snapshot(for processes: [SlirpProcess], force: Bool = false) -> Snapshot {
        guard let binary else { return .empty }
        // A few stats (Podman's database and containers.json of each user): cheap enough for every refresh.
        let candidates = Self.usersToAsk(processes: processes)
        let (key, settled) = PodmanDiskCache.state(binary: binary, processes: processes, users: candidates)
        let fresh: Snapshot? = state.withLock { state in
            guard !force, let answer = state.answer else { return nil }
            let maxAge = answer.value.failures.isEmpty ? maxAge : min(maxAge, 5)
            return answer.value(provenBy: key, now: Self.monotonicNow(), maxAge: maxAge)
        }
        if let fresh { return fresh }
        var snapshot: Snapshot
        if !force, let disk, let stored = disk.load(key: key) {
            snapshot = Snapshot(containers: stored, failures: [], installed: true, answered: Set(candidates.map { $0?.uid ?? UInt32(geteuid()) }))
        } else {
            let users = candidates.filter(Self.mayHaveContainers)
            var containers: [PodmanContainer] = []
            var failures: [String] = []
            // Empty storage is an answer too: no containers.
            var answered = Set(candidates.filter { !users.contains($0) }.map { $0?.uid ?? UInt32(geteuid()) })
            for user in users {
                if let user, let problem = PodmanStorage.unreadableConfiguration(home: UserNames.home(of: user.uid)) {
                    failures.append("\(user.name)'s Podman not asked: \(problem)")
                    continue
                }
                let uid = user?.uid ?? UInt32(geteuid())
                let holdKey = PodmanHoldOff.key(binary: binary, user: user)
                let now = PodmanHoldOff.now()
                if !force, let held = state.withLock({ $0.withHoldOff(path: holdOffPath) { $0.held(uid: uid, key: holdKey, now: now) } }) {
                    failures.append(held.message)
                    continue
                }
                switch PodmanCLI(binary: binary, user: user, timeout: timeout).containers() {
                case .success(let list):
                    containers += list
                    answered.insert(uid)
                    state.withLock { $0.withHoldOff(path: holdOffPath) { $0.forget(uid: uid) } }
                case .failure(let failure):
                    let failed = state.withLock { $0.withHoldOff(path: holdOffPath) { $0.remember(uid: uid, reason: failure.message, key: holdKey, now: PodmanHoldOff.now()) } }
                    failures.append(failed.message)
                }
            }
            snapshot = Snapshot(containers: containers, failures: failures, installed: true, answered: answered)
            // Also "nobody has containers": finding that out reads containers.conf and every user's storage.
            if failures.isEmpty, settled, let disk { disk.store(key: key, containers: containers) }
        }
        // Podman's state was just written (not settled): kept under no key, asked again next time.
        state.withLock { $0.answer = Kept(snapshot, key: settled ? key : "", readAt: Self.monotonicNow()) }
        return snapshot
    }

    private static func monotonicNow() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

    /// False when the user's container storage is empty: `podman ps -a` would answer `[]`
    /// (see `PodmanStorage`), so the process start is skipped.
    static func mayHaveContainers(_ user: PodmanCLI.User?) -> Bool {
        let uid = user?.uid ?? UInt32(geteuid())
        // A configuration Podman would refuse is reported by asking it (one line, not silence).
        if user == nil, (try? ContainersConf.load(environment: ContainersConf.processEnvironment, isRoot: uid == 0)) == nil { return true }
        if uid == 0 { return PodmanStorage.mayHaveContainers(home: nil) }
        guard let home = UserNames.home(of: uid) else { return true }
        return PodmanStorage.mayHaveContainers(home: home)
    }

    /// nil (this user) first; as root also every user running slirp4netns or rootlessport,
    /// and every user of `/etc/passwd` with rootless Podman storage in their home.
    ///
    /// `/etc/passwd` is read, not enumerated through NSS (`getpwent`): directory services do not
    /// enumerate by default anyway, and loading systemd's NSS module to enumerate would cost
    /// every `slirpmon list` as root. A user known only to a directory is asked while their
    /// slirp4netns or rootlessport runs (their uid is among `processes`). `entries`: the passwd
    /// file's, as `UserNames` keeps them (read again only when the file changes).
    static func usersToAsk(processes: [SlirpProcess], entries: [PasswdFile.Entry] = UserNames.fileEntries()) -> [PodmanCLI.User?] {
        guard geteuid() == 0 else { return [nil] }
        var uids = Set(processes.compactMap(\.uid))
        for entry in entries where entry.uid >= 1000 && entry.uid < 65534 {
            if Files.exists(entry.home + "/.local/share/containers/storage") { uids.insert(entry.uid) }
        }
        uids.remove(0)
        let names = Dictionary(entries.map { ($0.uid, $0.name) }, uniquingKeysWith: { first, _ in first })
        let users = uids.sorted().compactMap { uid in (names[uid] ?? UserNames.name(of: uid)).map { PodmanCLI.User(uid: uid, name: $0) } }
        return [nil] + users
    }
}
