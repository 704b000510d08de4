import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What one refresh may keep for the next, for a caller that refreshes again and again (the monitor).
///
/// - The facts of a process that cannot change while that very process runs (its identity is PID plus
///   start time, so a reused PID never inherits them): command line, owner, fd 1/2 targets, socket inodes.
///   Its state, memory, CPU and uptime are read anew from `/proc/PID/stat` each time.
/// - The addresses a namespace has, for `addressMaxAge` seconds, and only while the namespace file
///   is the same (a deleted or replaced namespace is read again at once). Failures are never kept.
/// - Each instance's last `list_hostfwd` answer, with its log's mark right after it, when the log
///   showed that answer's request and no other (`RequestAudit`; proven at the first lookup, or
///   before it is written to disk): while the log is still exactly so, no request came since and
///   the answer holds, so it is used instead of asking again.
/// - The monitor's last answer per instance (`Inventory.Purpose.monitor`), proven or not, shown until
///   its log shows a request since (`LastAnswer`).
/// - The container each process was proven to serve (`ContainerJoin`), for that very process's
///   life: the join cannot change while it runs, and `provenContainer(of:)` gives it back when
///   Podman cannot be asked on a later run (the metrics' labels then stay the same series).
/// - When no forwards are listed: what contacting an instance learnt (its API socket's state, its
///   log's size) for `contactMaxAge` seconds; meanwhile its namespace file is not looked at either.
///   The monitor's `selected` instance (the one on screen) is contacted every time.
///
/// The one-shot commands use no cache (what they print is read at that moment), except `list`:
/// scripts run it again and again, and it keeps the process facts and forward lists on disk
/// between runs (`persistentFacts()`).
public final class InventoryCache: Sendable {
    /// How long a namespace's addresses are kept before they are read again.
    public let addressMaxAge: Double
    /// How long what a contact learnt is kept (see above).
    public let contactMaxAge: Double
    private let contacts = Mutex<[ProcessIdentity: Kept<ProcessIdentity, Inventory.Contact>]>([:])
    private let processes = Mutex<[ProcessIdentity: ProcessFacts]>([:])
    private let namespaces = Mutex<[ProcessIdentity: Kept<NamespaceKey, ObservedAddresses>]>([:])
    /// The forward lists kept, and whether they changed since they were read from disk.
    private let forwardLists = Mutex<ForwardLists>(ForwardLists())
    /// The containers proven served by each process, and whether one was added since they were read from disk.
    private let joins = Mutex<(proven: [ProcessIdentity: ProvenContainer], changed: Bool)>(([:], false))
    /// The monitor's last answer per instance (`Inventory.Purpose.monitor`).
    private let lastAnswers = Mutex<[ProcessIdentity: LastAnswer]>([:])
    /// What the last read of a namespace's nameservers found (the monitor's selection), and when:
    /// the process whose resolv.conf gave them, read again alone while it lives in that namespace
    /// (`NamespaceReader.readNameservers`), or none (see `nameserverHint`).
    private let nameserverRead = Mutex<(key: NamespaceKey, process: ProcessIdentity?, readAt: Double)?>(nil)
    /// The monitor's CPU and tap readings per instance (`LoadHistory`).
    private let loads = Mutex<[ProcessIdentity: LoadHistory]>([:])
    /// Whether each log filesystem (by device) had room for echoes, and when that was looked at.
    private let logRoom = Mutex<[UInt64: Kept<UInt64, Bool>]>([:])

    /// The monitor's: the selected instance is read every refresh, the others' namespaces every
    /// 30 s, and their API socket, log size and namespace file every 5 s.
    public static let monitorAddressMaxAge = 30.0
    public static let monitorContactMaxAge = 5.0

    /// Where the process facts are kept between runs, and the processes they were kept for.
    private let disk: ProcessFactsDiskCache?
    /// The processes whose facts the file holds (read, or last written): a cache kept between
    /// pages (`slirpmon serve`) writes again only when they, a list or a join changed since.
    private let stored = Mutex<Set<ProcessIdentity>>([])

    /// `file`: where the process facts are read from and kept (`persistentFacts()`).
    init(addressMaxAge: Double = 5, contactMaxAge: Double = 0, file: ProcessFactsDiskCache?) {
        self.addressMaxAge = addressMaxAge
        self.contactMaxAge = contactMaxAge
        disk = file
        guard let file else { return }
        var names = UserNameCache()
        let kept = file.load(names: &names)
        stored.withLock { $0 = Set(kept.facts.keys) }
        processes.withLock { $0 = kept.facts }
        forwardLists.withLock { $0.proven = kept.forwards }
        joins.withLock { $0.proven = kept.joins }
    }

    public convenience init(addressMaxAge: Double = 5, contactMaxAge: Double = 0) {
        self.init(addressMaxAge: addressMaxAge, contactMaxAge: contactMaxAge, file: nil)
    }

    /// A cache for a one-shot command run again and again (`slirpmon list`): the process facts and
    /// forward lists kept by earlier runs (`ProcessFactsDiskCache`: same processes, same boot) are
    /// used, and `persist()` keeps them for the next run. Without a private runtime directory, it keeps
    /// nothing beyond this run.
    /// `addressMaxAge`: how long a namespace's addresses hold (one run: 5 s; a server kept between its pages: longer).
    public static func persistentFacts(addressMaxAge: Double = 5) -> InventoryCache {
        InventoryCache(addressMaxAge: addressMaxAge, file: ProcessFactsDiskCache.forCurrentUser())
    }

    /// Writes the process facts and forward lists for the next run, when the processes known or
    /// the lists changed since they were read.
    public func persist() {
        guard let disk else { return }
        let facts = allFacts
        let (lists, changed) = forwardLists.withLock { lists in
            lists.settle(room: logHasRoom)
            defer { lists.markStored() }
            return (lists.proven.filter { facts[$0.key] != nil }, lists.changed)
        }
        let (proven, joined) = joins.withLock { joins in
            defer { joins.changed = false }
            return (joins.proven.filter { facts[$0.key] != nil }, joins.changed)
        }
        let processes = Set(facts.keys)
        let moved = stored.withLock { known in
            defer { known = processes }
            return known != processes
        }
        if changed || joined || moved { disk.store(facts, forwards: lists, joins: proven) }
    }

    /// Runs `body` (the output) while `persist()` runs on another thread; returns once both are done.
    public func persist<R>(during body: () throws -> R) rethrows -> R {
        let writing = Pending { self.persist() }
        defer { writing.wait() }
        return try body()
    }

    /// What identifies the container a process was proven to serve (`ContainerJoin`).
    public struct ProvenContainer: Sendable, Equatable {
        public let id: String
        public let name: String
        public let podName: String?
        public let isInfra: Bool
    }

    /// Keeps `container` as the one the process `identity` was just proven to serve.
    func keepJoin(_ container: PodmanContainer, for identity: ProcessIdentity) {
        let proven = ProvenContainer(id: container.id, name: container.name, podName: container.podName, isInfra: container.isInfra)
        joins.withLock { if $0.proven[identity] != proven { $0.proven[identity] = proven; $0.changed = true } }
    }

    /// The container this very process (PID and start time) was proven to serve on an earlier
    /// run, if its files still name that container (a claim refused since, or none, gives nil).
    /// Only for when Podman could not be asked this time: never a join that was not proven.
    public func provenContainer(of process: SlirpProcess) -> ProvenContainer? {
        guard let id = process.containerID, let proven = joins.withLock({ $0.proven[process.identity] }), proven.id == id else { return nil }
        return proven
    }

    /// The parts of a `SlirpProcess` that do not change while it runs.
    struct ProcessFacts: Sendable {
        let uid: UInt32?
        var user: String?
        let arguments: [String]
        let configuration: SlirpConfiguration
        let containerID: String?
        let stdoutTarget: String?
        let stderrTarget: String?
        let socketInodes: Set<UInt64>?
        /// When they were read (seconds since the epoch): what a defunct process shows as last seen.
        let readAt: Double
    }

    /// An instance's `list_hostfwd` answer through the socket at `path`, and its log's mark just
    /// after it (in an answer still to prove, `ForwardLists.Entry.unproven`: just before the request).
    struct KeptForwards: Sendable, Equatable {
        let path: String
        let mark: RequestAudit.Mark
        let forwards: [HostForward]
    }

    /// Which namespace file (device and inode) the addresses were read from.
    struct NamespaceKey: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    func facts(_ identity: ProcessIdentity) -> ProcessFacts? {
        processes.withLock { $0[identity] }
    }

    /// Every process's kept facts.
    var allFacts: [ProcessIdentity: ProcessFacts] { processes.withLock { $0 } }

    func keep(_ facts: ProcessFacts, for identity: ProcessIdentity) {
        processes.withLock { $0[identity] = facts }
    }

    /// The kept addresses, if young enough and read from the namespace file `key` (nil: not compared).
    func addresses(_ identity: ProcessIdentity, key: NamespaceKey?, now: Double) -> ObservedAddresses? {
        namespaces.withLock { entries in
            guard let kept = entries[identity] else { return nil }
            guard let key else { return kept.value(now: now, maxAge: addressMaxAge) }
            return kept.value(provenBy: key, now: now, maxAge: addressMaxAge)
        }
    }

    /// What the last nameserver read of the namespace `key` found.
    enum NameserverHint: Equatable {
        /// The process read: try it first.
        case process(ProcessIdentity)
        /// No process was in the namespace: none is looked for again until `addressMaxAge` has
        /// passed, as its addresses are not read again before (finding none takes a pass over
        /// every process on the host).
        case nobodyInside
    }

    /// What the last nameserver read of the namespace `key` found, while it holds; nil: look.
    func nameserverHint(_ key: NamespaceKey, now: Double) -> NameserverHint? {
        nameserverRead.withLock { kept in
            guard let kept, kept.key == key else { return nil }
            if let process = kept.process { return .process(process) }
            return now - kept.readAt < addressMaxAge ? .nobodyInside : nil
        }
    }

    /// Keeps what the read of the namespace `key`'s nameservers found (`process` nil: none), in
    /// place of any other namespace's.
    func keepNameserverRead(_ process: ProcessIdentity?, for key: NamespaceKey, now: Double) {
        nameserverRead.withLock { $0 = (key, process, now) }
    }

    func keep(_ observed: ObservedAddresses, key: NamespaceKey, for identity: ProcessIdentity, now: Double) {
        namespaces.withLock { $0[identity] = Kept(observed, key: key, readAt: now) }
    }

    func contact(_ identity: ProcessIdentity, now: Double) -> Inventory.Contact? {
        contacts.withLock { $0[identity]?.value(provenBy: identity, now: now, maxAge: contactMaxAge) }
    }

    func keep(_ contact: Inventory.Contact, for identity: ProcessIdentity, now: Double) {
        guard contactMaxAge > 0 else { return }
        contacts.withLock { $0[identity] = Kept(contact, key: identity, readAt: now) }
    }

    /// The forward list kept for the process, proven by its log (an answer not yet proven is
    /// proven, or forgotten, first).
    func forwards(_ identity: ProcessIdentity) -> KeptForwards? {
        forwardLists.withLock { $0.proven(identity, room: logHasRoom) }
    }

    /// True when the filesystem of the log `mark` names has room for echoes
    /// (`RequestAudit.hasRoom`), looked at through `pid` once a second per filesystem.
    func logHasRoom(_ mark: RequestAudit.Mark, pid: Int32, procRoot: String) -> Bool {
        let now = Double(Deadline.now.nanoseconds) / 1e9
        if let known = logRoom.withLock({ $0[mark.device]?.value(provenBy: mark.device, now: now, maxAge: 1) }) { return known }
        let hasRoom = RequestAudit.hasRoom(pid: pid, procRoot: procRoot)
        logRoom.withLock { $0[mark.device] = Kept(hasRoom, key: mark.device, readAt: now) }
        return hasRoom
    }

    /// The monitor's proof (`Inventory.Purpose.monitor`): the forward list kept for the process (proven or
    /// still to prove), when its log, `now`, shows no request since but `list_hostfwd` listings
    /// (`RequestAudit.markAfterOnlyListings`); it is then kept as proven at `now`. Nil: ask again.
    func forwardsThroughListings(_ identity: ProcessIdentity, path: String, now: RequestAudit.Mark, procRoot: String) -> [HostForward]? {
        guard logHasRoom(now, pid: identity.pid, procRoot: procRoot) else { return nil }
        return forwardLists.withLock { $0.heldThroughListings(identity, path: path, now: now, procRoot: procRoot) }
    }

    /// Keeps `kept`, already proven, for the process (nil: forgets what was kept).
    func keepForwards(_ kept: KeptForwards?, for identity: ProcessIdentity) {
        forwardLists.withLock { $0.set(kept.map(ForwardLists.Entry.proven), for: identity) }
    }

    /// Keeps an answer to prove later by the process's log: `answer.mark` is the log's mark taken
    /// before it was asked. Proven when it is looked up, or when persisted (`RequestAudit`).
    func keepUnproven(_ answer: KeptForwards, procRoot: String, for identity: ProcessIdentity) {
        forwardLists.withLock { $0.set(.unproven(answer, procRoot: procRoot), for: identity) }
    }

    /// The last `list_hostfwd` answer of an instance, for the monitor's FWD column (`Inventory.Purpose.monitor`):
    /// shown until its log shows a request since (then it is asked again), or for good when its log
    /// cannot show one (`provable` false: shown as of `askedAt`, asked again only by the forwards pane).
    struct LastAnswer: Sendable {
        let path: String
        let result: Result<[HostForward], APIError>
        /// Its stderr was a regular file when asked: `RequestAudit` can tell when it no longer holds.
        let provable: Bool
        /// Seconds since the epoch (what the operator is shown).
        let askedAt: Double
        /// Monotonic seconds (when a failure may be asked again).
        let askedAtMonotonic: Double
    }

    /// How long a failed answer stands before the instance is asked again: a socket that accepts
    /// and never answers costs the API timeout of a refresh, so not every contact.
    static let failedAnswerRetry = 30.0

    func lastAnswer(_ identity: ProcessIdentity) -> LastAnswer? {
        lastAnswers.withLock { $0[identity] }
    }

    func keepLastAnswer(_ answer: LastAnswer, for identity: ProcessIdentity) {
        lastAnswers.withLock { $0[identity] = answer }
    }

    /// Keeps a `list_hostfwd` answer got outside a refresh (the monitor's forwards pane) through the
    /// socket at `path`; `markBefore`: the log's mark just before the request (`RequestAudit.mark`,
    /// nil when stderr is not a regular file). The next refresh shows it and, while the log proves
    /// it still holds, does not ask again.
    public func keepAnswer(_ result: Result<[HostForward], APIError>, path: String, markBefore: RequestAudit.Mark?,
                           procRoot: String = "/proc", for identity: ProcessIdentity) {
        if case .success(let forwards) = result, let markBefore {
            keepUnproven(KeptForwards(path: path, mark: markBefore, forwards: forwards), procRoot: procRoot, for: identity)
        } else {
            keepForwards(nil, for: identity)
        }
        keepLastAnswer(LastAnswer(path: path, result: result, provable: markBefore != nil, askedAt: Self.wallNow(),
                                  askedAtMonotonic: Double(Deadline.now.nanoseconds) / 1e9), for: identity)
    }

    /// Seconds since the epoch.
    public static func wallNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The forward lists: proven ones, and answers still to prove (each proven or forgotten at its
    /// first lookup, or all at once before they are written).
    struct ForwardLists {
        enum Entry: Equatable {
            case proven(KeptForwards)
            /// `mark`: the log's before the request.
            case unproven(KeptForwards, procRoot: String)
        }
        private(set) var entries: [ProcessIdentity: Entry] = [:]
        /// Changed since read from disk.
        private(set) var changed = false

        var proven: [ProcessIdentity: KeptForwards] {
            get { entries.compactMapValues { if case .proven(let kept) = $0 { kept } else { nil } } }
            set { entries = newValue.mapValues(Entry.proven) }
        }

        mutating func set(_ entry: Entry?, for identity: ProcessIdentity) {
            guard entries[identity] != entry else { return }
            entries[identity] = entry
            changed = true
        }

        /// The proven list of `identity`, proving it first when it is an answer still to prove:
        /// kept with the log's mark now when the log gained only that answer's request since
        /// `mark` (no other request was taken since it), forgotten otherwise.
        /// `room`: whether the log's filesystem has room for echoes (`InventoryCache.logHasRoom`).
        mutating func proven(_ identity: ProcessIdentity, room: (RequestAudit.Mark, Int32, String) -> Bool) -> KeptForwards? {
            switch entries[identity] {
            case .proven(let kept): return kept
            case .unproven(let answer, let procRoot):
                let now = room(answer.mark, identity.pid, procRoot)
                    ? RequestAudit.markAfterOnly(APIMessage.listRequest(), pid: identity.pid, procRoot: procRoot, before: answer.mark) : nil
                let kept = now.map { KeptForwards(path: answer.path, mark: $0, forwards: answer.forwards) }
                set(kept.map(Entry.proven), for: identity)
                return kept
            case nil: return nil
            }
        }

        /// The list kept for `identity` at `path` when it still holds at `now`: unchanged since a proven
        /// answer, or grown since by `list_hostfwd` echoes only (for an answer still to prove, its own
        /// echo at least: taken before its request, the mark must show it). Kept as proven at `now`
        /// when so, forgotten otherwise.
        mutating func heldThroughListings(_ identity: ProcessIdentity, path: String, now: RequestAudit.Mark, procRoot: String) -> [HostForward]? {
            let kept: KeptForwards, ownEcho: Int
            switch entries[identity] {
            case .proven(let k): (kept, ownEcho) = (k, 0)
            case .unproven(let answer, _): (kept, ownEcho) = (answer, 1)
            case nil: return nil
            }
            guard kept.path == path else { return nil }
            if ownEcho == 0 && kept.mark == now { return kept.forwards }
            let held = RequestAudit.markAfterOnlyListings(pid: identity.pid, procRoot: procRoot, before: kept.mark, atLeast: ownEcho)
            set(held.map { .proven(KeptForwards(path: path, mark: $0, forwards: kept.forwards)) }, for: identity)
            return held == nil ? nil : kept.forwards
        }

        /// Proves every answer still to prove.
        mutating func settle(room: (RequestAudit.Mark, Int32, String) -> Bool) {
            for (identity, entry) in entries { if case .unproven = entry { _ = proven(identity, room: room) } }
        }

        mutating func retain(only live: Set<ProcessIdentity>) {
            entries = entries.filter { live.contains($0.key) }
        }

        /// What is kept is now on disk.
        mutating func markStored() { changed = false }
    }

    /// Adds the monitor's reading of an instance (`LoadHistory.add`) and says what its readings show;
    /// `tap`: its counters when its namespace was read this refresh.
    func load(_ identity: ProcessIdentity, at now: Double, cpuSeconds: Double, tap: InterfaceCounters?, tapFailed: Bool = false, procRoot: String) -> InstanceLoad {
        // Changed in place: a copy out and back would copy its readings every refresh.
        loads.withLock { histories in
            histories[identity, default: LoadHistory()].add(at: now, cpuSeconds: cpuSeconds,
                                                             demand: { LoadSample.demandSeconds(pid: identity.pid, procRoot: procRoot) }, tap: tap,
                                                             tapFailed: tapFailed)
        }
    }

    func forgetAddresses(_ identity: ProcessIdentity) {
        _ = namespaces.withLock { $0.removeValue(forKey: identity) }
    }

    /// Drops what belongs to processes no longer seen.
    func retain(only live: Set<ProcessIdentity>) {
        processes.withLock { $0 = $0.filter { live.contains($0.key) } }
        namespaces.withLock { $0 = $0.filter { live.contains($0.key) } }
        contacts.withLock { $0 = $0.filter { live.contains($0.key) } }
        forwardLists.withLock { $0.retain(only: live) }
        lastAnswers.withLock { $0 = $0.filter { live.contains($0.key) } }
        loads.withLock { $0 = $0.filter { live.contains($0.key) } }
        joins.withLock { $0.proven = $0.proven.filter { live.contains($0.key) } }
    }

    /// True while the facts of this process are kept.
    public func isKept(_ identity: ProcessIdentity) -> Bool {
        processes.withLock { $0[identity] != nil }
    }

    /// How many processes and namespaces are kept (for tests).
    public var counts: (processes: Int, namespaces: Int) {
        (processes.withLock { $0.count }, namespaces.withLock { $0.count })
    }
}
