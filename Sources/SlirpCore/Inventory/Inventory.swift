#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import Foundation

/// Collects `SlirpInstance`s: discovery, addresses, API socket, forwards and log, per instance.
public struct Inventory: Sendable {
    /// What an inventory is for. Each purpose owns what is asked of the instances (a `list_hostfwd`
    /// lands in the instance's log) and what is kept between refreshes; `Options` says only what is read.
    public enum Purpose: Sendable {
        /// One-off inspection (`show TARGET`): every instance inspected has its forwards asked; nothing
        /// is kept. `instance(_:)` inspects and asks its one target only.
        case show
        /// `list`, as scripts run it: every instance's forwards asked, unless `forwards` is false
        /// (`--no-forwards`: nothing is sent). With `cache` (the facts kept between runs,
        /// `InventoryCache.persistentFacts()`): the instances known from a run before are asked while
        /// `/proc` is scanned (`askKnownForwards`), and one whose log shows no request since its kept
        /// answer is not asked (`RequestAudit`).
        case scriptedList(forwards: Bool, cache: InventoryCache?)
        /// The monitor's refresh: forwards are counted, not listed (`countForwards`): each instance with a
        /// usable API socket is asked once when first seen, then again only when its log shows a request
        /// since the last answer; one whose log cannot show that (stderr a pipe, `/dev/null`) keeps its
        /// first answer, marked with when it was asked (`SlirpInstance.forwardsAsOf`). What contacting an
        /// instance learnt (socket state, log size) and its namespace's addresses are kept for the cache's
        /// ages, so an idle monitor sends nothing more; `selected` (the instance on screen) is read anew
        /// every time.
        case monitor(cache: InventoryCache, selected: ProcessIdentity?)

        /// What one refresh keeps for the next; nil: everything is read anew.
        var cache: InventoryCache? {
            switch self {
            case .show: nil
            case .scriptedList(_, let cache): cache
            case .monitor(let cache, _): cache
            }
        }

        /// True when an answer is kept with the log's mark taken just before it (a later refresh
        /// or run asks again only if the log shows a request since); with nothing kept, no mark.
        var keepsAnswers: Bool { cache != nil }

        /// How the instances' forwards are asked.
        var asks: ForwardAsks {
            switch self {
            case .show: .list
            case .scriptedList(let forwards, _): forwards ? .list : .nothing
            case .monitor: .count
            }
        }

        /// True for the instance read anew every time, whatever is kept (the monitor's selection).
        func readsAlways(_ identity: ProcessIdentity) -> Bool {
            if case .monitor(_, let selected) = self { return selected == identity }
            return false
        }

        /// True when a process's resolv.conf is read for the instance's nameservers: a pass over
        /// `/proc` to find one in its namespace, so for `show` and the monitor's selection only.
        func readsNameservers(_ identity: ProcessIdentity) -> Bool {
            switch self {
            case .show: true
            case .scriptedList: false
            case .monitor(_, let selected): selected == identity
            }
        }
    }

    /// How the instances' forwards are asked (`Purpose.asks`).
    enum ForwardAsks {
        /// Nothing is sent.
        case nothing
        /// Each instance's whole list, asked at once (`askForwards`).
        case list
        /// The monitor's counts (`countForwards`).
        case count
    }

    /// What is read of each instance; what is asked and kept is the purpose's.
    public struct Options: Sendable {
        public var purpose: Purpose
        /// Read the namespaces' real addresses.
        public var readAddresses = true
        public var apiTimeout = 2.0
        /// Find each instance's log and its size (`list` shows neither: one `stat` each saved).
        public var readLogs = true
        /// Read the tap's counters every time, also where the purpose's cache kept the addresses
        /// (the metrics server: counters are read as rates, addresses change seldom and cost five
        /// files a namespace where the counters cost one).
        public var tapCountersEveryTime = false
        public var procRoot = "/proc"
        /// Where to ask Podman (cached); nil: no Podman metadata.
        public var podman: PodmanCatalog?
        public init(purpose: Purpose) { self.purpose = purpose }
    }

    public let options: Options
    /// Threads contacting instances at once when namespaces are read through processes inside
    /// them (`/proc/PID/net`, which may wait), so more than the cores.
    static let contactThreads = max(4, cores * 4)
    /// The online processors. (Foundation's `activeProcessorCount` reads the cgroup's CPU quota
    /// files and Foundation's own process facts first, on every `list`.)
    static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    public let scanner: ProcessScanner

    public init(options: Options) {
        self.options = options
        scanner = ProcessScanner(procRoot: options.procRoot, cache: options.purpose.cache)
    }

    /// Every slirp4netns instance visible now, inspected in parallel.
    public func collect() throws(SystemError) -> [SlirpInstance] {
        // One dump of the host's listening sockets serves the scan (it reads each process's fds
        // only up to its API socket's) and the socket checks.
        let listeners = ListeningSockets.now()
        let known = askKnownForwards(listeners: listeners)
        return inspect(try scanner.scan(listeners: listeners), listeners: listeners, known: known)
    }

    /// Instances joined with Podman's containers and rootlessport processes, plus the
    /// slirp4netns-mode containers that have no live slirp4netns (failed startups).
    public func snapshot() throws(SystemError) -> InventorySnapshot {
        let listeners = ListeningSockets.now()
        let known = askKnownForwards(listeners: listeners)
        let (processes, ports) = try scanner.scanAll(listeners: listeners)
        // Podman's answer (a few stats when it is kept; a slow child process when Podman is asked)
        // is worked out while the instances are contacted.
        let podmanAnswer = options.podman.map { catalog in Pending { catalog.snapshot(for: processes) } }
        var instances = inspect(processes, listeners: listeners, known: known)
        let podman = podmanAnswer?.wait() ?? .empty
        join(&instances, podman: podman, ports: ports, listeners: listeners)
        let live = Set(instances.filter { !$0.process.isZombie }.compactMap(\.container?.id))
        let detached = podman.containers
            .filter { $0.usesSlirp4netns && !live.contains($0.id) }
            .map { c in DetachedContainer(container: c, members: c.isInfra ? Self.members(of: c, in: podman.containers) : []) }
        return InventorySnapshot(instances: instances, detachedContainers: detached, podmanFailures: podman.failures,
                                 podmanInstalled: podman.installed, rootlessPorts: ports, podmanContainers: podman.containers,
                                 podmanAnswered: podman.answered)
    }

    /// One instance (`show TARGET`, the target resolved first), joined with its Podman container and
    /// rootlessport processes as `snapshot` joins it. Only `target` is inspected and asked: the other
    /// instances are discovered (Podman's answer is kept under the whole host's processes, as
    /// `list`'s is) but not contacted, so an unrelated instance neither delays `show` nor finds a
    /// request in its log. Nil when the process is gone.
    public func instance(_ target: SlirpProcess) throws(SystemError) -> SlirpInstance? {
        let listeners = ListeningSockets.now()
        let (processes, ports) = try scanner.scanAll(listeners: listeners)
        guard let scanned = processes.first(where: { $0.identity == target.identity }) else { return nil }
        // A defunct target carries what was kept of it while it ran (`TargetResolver.lastSeen`); this scan has nothing of it.
        let process = scanned.configurationSource.isKnown ? scanned : target
        let podman = options.podman.map { $0.snapshot(for: processes) } ?? .empty
        var instances = [inspect(process, listeners: listeners)]
        join(&instances, podman: podman, ports: ports, listeners: listeners)
        if var network = instances[0].rootlessNetwork, !process.isZombie, let path = process.configuration.netnsPath {
            // Its bridges are seen only inside (no process shares the namespace): joined as root.
            if geteuid() != 0 {
                network.interfacesError = "joining the namespace needs root"
            } else {
                switch NamespaceReader.namespaceFile(path, of: process.pid, uid: process.uid, procRoot: options.procRoot)
                    .flatMap({ NamespaceInterfaces.read(netnsPath: $0, excluding: process.configuration.effectiveTapName, owner: process.joinOwner) }) {
                case .success(let interfaces): network.interfaces = interfaces
                case .failure(let failure): network.interfacesError = failure.description
                }
            }
            instances[0].rootlessNetwork = network
        }
        return instances.first
    }

    /// The members of the pod whose infra container is `infra`: its owner's only. Another user's
    /// Podman may claim any pod ID, and a member's create command becomes a step of the pod's persist plan.
    static func members(of infra: PodmanContainer, in containers: [PodmanContainer]) -> [PodmanContainer] {
        guard let pod = infra.podID else { return [] }
        return containers.filter { $0.podID == pod && !$0.isInfra && $0.ownerUID == infra.ownerUID }
    }

    /// Joins each instance with its container (proven, `ContainerJoin`), its pod's members and the
    /// rootlessport processes carrying its ports.
    private func join(_ instances: inout [SlirpInstance], podman: PodmanCatalog.Snapshot, ports: [RootlessPortProcess],
                      listeners: ListeningSockets?) {
        // One readlink of each parent's exe (none for PID 1's children: Podman's); the rest only under rootlesskit.
        let kits = Set(instances.map(\.process.parentPID)).filter { RootlessKitParent.runsRootlessKit($0, procRoot: options.procRoot) }
        for i in instances.indices {
            var process = instances[i].process
            if kits.contains(process.parentPID) {
                instances[i].rootlessKit = RootlessKitParent.of(process, procRoot: options.procRoot, listeners: listeners)
            }
            // The ID in its file names is a claim: joined only when owner and network namespace prove it.
            if let id = process.containerID {
                let (joined, refusal) = ContainerJoin.container(id, in: podman.containers, servedBy: process, procRoot: options.procRoot)
                if let container = joined {
                    instances[i].container = container
                    options.purpose.cache?.keepJoin(container, for: process.identity)
                    if container.isInfra { instances[i].podMembers = Self.members(of: container, in: podman.containers) }
                } else if let refusal {
                    process = process.withoutContainerClaim(because: refusal)
                    instances[i].process = process
                }
            }
            if let layout = RootlessNetwork.claimed(by: process), let uid = process.uid, uid != 0 {
                // No container ID to prove: it serves its user's containers on Podman networks, and only its user's.
                // A rootless network is a user's: root's process at such a path claims none (root has no rootless network).
                let name = process.user ?? UserNames.name(of: uid)
                instances[i].rootlessNetwork = RootlessNetwork(layout: layout, ownerUID: uid, ownerName: name,
                                                               containers: RootlessNetwork.attached(podman.containers, uid: uid))
            }
            instances[i].rootlessPorts = carriers(of: &instances[i], ports: ports)
        }
    }

    /// The rootlessport processes (of the instance's user) carrying its ports, with their
    /// rootlessport-child processes: a parent holding open the namespace it serves (its
    /// `--netns-type=path` file, or `net:[inode]` for a PID target, as with `--uidmap` or `--userns`),
    /// or whose child runs in that namespace (the same nsfs inode). For a rootless network: the
    /// namespace of each attached container (its SandboxKey file, or its process's), kept per
    /// container in `RootlessNetwork.carriers`. A parent's own `ns/net` is not used: it is only its
    /// main thread's, and its Go threads may each sit in another namespace. Costs a `stat` or
    /// `readlink` per namespace, only when that user runs rootlessport.
    private func carriers(of instance: inout SlirpInstance, ports: [RootlessPortProcess]) -> [RootlessPortProcess] {
        let uid = instance.process.uid
        guard ports.contains(where: { !$0.isChild && $0.uid == uid }) else { return [] }
        /// The carriers of the namespace named by `names` (its `net:[inode]` and the paths it is known by).
        func carrying(_ names: Set<String>) -> [RootlessPortProcess] {
            let inside = ports.filter { $0.isChild && $0.uid == uid && $0.netNamespace.map(names.contains) == true }
            let parents = ports.filter { p in
                !p.isChild && p.uid == uid && (p.netnsPaths.contains(where: names.contains) || inside.contains { $0.parentPID == p.pid })
            }
            return parents + ports.filter { p in p.isChild && parents.contains { $0.pid == p.parentPID } }
        }
        if var network = instance.rootlessNetwork {
            var found: [RootlessPortProcess] = []
            for c in network.containers where c.pid > 0 {
                var names = Set([c.sandboxKey].compactMap { $0 }.filter { !$0.isEmpty })
                if let link = try? Files.readLink("\(options.procRoot)/\(c.pid)/ns/net") { names.insert(link) }
                let carriers = carrying(names)
                network.carriers[c.id] = carriers.map(\.pid)
                found += carriers.filter { p in !found.contains { $0.pid == p.pid } }
            }
            instance.rootlessNetwork = network
            return found
        }
        var names = Set<String>()
        if let netns = instance.configuration.netnsPath { names.insert(netns) }
        if let served = ContainerJoin.namespace(of: instance.process, procRoot: options.procRoot) {
            names.insert("net:[\(served.identity.inode)]")
        }
        return carrying(names)
    }

    /// Inspects the given processes in parallel (API calls and namespace reads may each wait).
    ///
    /// Namespaces that must be joined are read on their own threads (one per core, each joining
    /// its share in turn: a thread per namespace costs more than the reading) while the API
    /// requests, the log and socket checks run; then each instance is put together.
    /// `listeners`: the host's listening sockets, if already dumped for this refresh.
    public func inspect(_ processes: [SlirpProcess], listeners: ListeningSockets? = nil) -> [SlirpInstance] {
        inspect(processes, listeners: listeners, known: nil)
    }

    /// `known`: the forwards of the instances known before the scan, asked meanwhile (`askKnownForwards`).
    func inspect(_ processes: [SlirpProcess], listeners: ListeningSockets?, known: Pending<KnownForwards>?) -> [SlirpInstance] {
        let now = Double(Deadline.now.nanoseconds) / 1e9
        let keptContacts = keptContacts(processes, now: now)
        let plan = planNamespaces(processes, keptContacts: keptContacts, now: now)
        let batches = max(1, min(plan.jobs.count, Self.cores))
        let pending = (0..<batches).map { b in
            NamespaceReader.start(netnsPaths: stride(from: b, to: plan.jobs.count, by: batches).map {
                (path: plan.jobs[$0].path, interface: plan.jobs[$0].interface, owner: plan.jobs[$0].owner)
            })
        }
        let counterReads = options.tapCountersEveryTime ? startCounterReads(processes.filter { plan.kept[$0.pid] != nil }) : nil
        let contacts = contact(processes, kept: keptContacts, listeners: listeners, known: known, readNamespace: plan.readHere, now: now)
        var observed = plan.kept.mapValues { Result<ObservedAddresses, NamespaceReader.Failure>.success($0) }
        for (pid, read) in counterReads?.wait() ?? [:] {
            // Kept addresses with this time's counters; a namespace that cannot be read now shows
            // nothing kept as current, and one without its tap now is read again whole (`assemble`).
            switch read {
            case .failure(let failure): observed[pid] = .failure(failure)
            case .success(nil): observed[pid] = nil
            case .success(let counters?):
                if case .success(var fresh)? = observed[pid] {
                    fresh.counters = counters
                    observed[pid] = .success(fresh)
                }
            }
        }
        for (b, reads) in pending.enumerated() {
            for (k, result) in reads.results().enumerated() {
                let job = plan.jobs[b + k * batches]
                observed[job.pid] = job.nameservers ? withNameservers(result, namespace: job.path) : result
            }
        }
        var instances = zip(processes, contacts).map { process, contact in
            assemble(process, contact, observed: contact.observed ?? observed[process.pid])
        }
        if case .monitor(let cache, _) = options.purpose { addLoad(&instances, cache: cache, keptAddresses: plan.kept, now: now) }
        if let cache = options.purpose.cache {
            for instance in instances where plan.kept[instance.pid] == nil {
                if var addresses = instance.observed, let key = plan.keys[instance.pid] {
                    // Kept without its nameservers: read for the selection only, nothing re-checks them once it moves.
                    (addresses.nameservers, addresses.nameserverSource, addresses.resolvConfProblem) = (nil, nil, nil)
                    cache.keep(addresses, key: key, for: instance.identity, now: now)
                } else {
                    cache.forgetAddresses(instance.identity)
                }
            }
        }
        return instances
    }

    /// The monitor's (`Purpose.monitor`): what contacting each instance learnt a few seconds ago (its
    /// socket's state, its log's size), except for the selected one.
    private func keptContacts(_ processes: [SlirpProcess], now: Double) -> [Int32: Contact] {
        guard case .monitor(let cache, _) = options.purpose else { return [:] }
        var kept: [Int32: Contact] = [:]
        for process in processes where !process.isZombie && !options.purpose.readsAlways(process.identity) {
            if let contact = cache.contact(process.identity, now: now) { kept[process.pid] = contact }
        }
        return kept
    }

    /// Where each instance's addresses come from this time.
    private struct NamespacePlan {
        /// Kept from before: the cache's answer still holds.
        var kept: [Int32: ObservedAddresses] = [:]
        /// Namespaces to join (as root), in batches on their own threads; `nameservers`: read after (`Purpose.readsNameservers`).
        var jobs: [(pid: Int32, path: String, interface: String, nameservers: Bool, owner: UInt32?)] = []
        /// Read through a process inside, while contacting the instance.
        var readHere = Set<Int32>()
        /// The namespace file of each instance looked at (to keep the new answer under).
        var keys: [Int32: InventoryCache.NamespaceKey] = [:]
    }

    private func planNamespaces(_ processes: [SlirpProcess], keptContacts: [Int32: Contact], now: Double) -> NamespacePlan {
        var plan = NamespacePlan()
        guard options.readAddresses else { return plan }
        for process in processes where !process.isZombie {
            if let cache = options.purpose.cache {
                // Contact kept: its namespace file is not looked at either.
                if keptContacts[process.pid] != nil, let observed = cache.addresses(process.identity, key: nil, now: now) {
                    plan.kept[process.pid] = observed
                    continue
                }
                if let key = namespaceKey(process) {
                    plan.keys[process.pid] = key
                    if !options.purpose.readsAlways(process.identity), let observed = cache.addresses(process.identity, key: key, now: now) {
                        plan.kept[process.pid] = observed
                        continue
                    }
                }
            }
            if case .join(let path, let owner) = namespaceSource(process) {
                plan.jobs.append((process.pid, path, process.configuration.effectiveTapName, options.purpose.readsNameservers(process.identity), owner))
            } else {
                plan.readHere.insert(process.pid)
            }
        }
        return plan
    }

    /// Contacts every instance not kept: in parallel when one may wait (a namespace read through
    /// /proc); otherwise each is a few microseconds and waking threads would cost more. Then, when
    /// forwards are listed, asks every API socket at once (`askForwards`).
    private func contact(_ processes: [SlirpProcess], kept: [Int32: Contact], listeners dumped: ListeningSockets?,
                         known: Pending<KnownForwards>?, readNamespace: Set<Int32>, now: Double) -> [Contact] {
        let listeners = dumped ?? (processes.contains { $0.configuration.apiSocket != nil && kept[$0.pid] == nil } ? ListeningSockets.now() : nil)
        let slots = ResultSlots<Contact>(count: processes.count)
        @Sendable func contactOrKept(_ process: SlirpProcess) -> Contact {
            if let kept = kept[process.pid] { return kept }
            let fresh = contact(process, listeners: listeners, readNamespace: readNamespace.contains(process.pid))
            if case .monitor(let cache, _) = options.purpose, !process.isZombie {
                var keep = fresh
                keep.observed = nil // the namespace is kept on its own terms
                cache.keep(keep, for: process.identity, now: now)
            }
            return fresh
        }
        if !readNamespace.isEmpty {
            Parallel.forEach(processes.count, width: Self.contactThreads) { i in slots.set(i, contactOrKept(processes[i])) }
        } else {
            for (i, process) in processes.enumerated() { slots.set(i, contactOrKept(process)) }
        }
        var contacts = slots.values
        switch options.purpose.asks {
        case .nothing: break
        case .list: askForwards(processes, &contacts, known: known?.wait() ?? [:])
        case .count: countForwards(processes, &contacts, kept: kept)
        }
        return contacts
    }

    /// Every instance's forwards, asked all at once (`APIBatch`: one thread, one `poll`), except
    /// where its socket is not proven to be its own (then nothing is sent). `known`: the answers of
    /// the instances asked before the scan, used for the very same process and socket path. With a
    /// cache, an instance whose log shows no request since its kept answer is not asked
    /// (`RequestAudit`), unless it is stopped (asking then says so).
    func askForwards(_ processes: [SlirpProcess], _ contacts: inout [Contact], known: KnownForwards = [:]) {
        var asked: [Int] = []
        var targets: [ForwardsTarget] = []
        for (i, process) in processes.enumerated() {
            guard let path = askable(process, &contacts[i]) else { continue }
            // As the monitor: a RootlessKit's slirp4netns socket lists slirp's hostfwds, not RootlessKit's ports.
            if RootlessKitParent.runsRootlessKit(process.parentPID, procRoot: options.procRoot) {
                contacts[i].forwardsError = Self.rootlessKitNotAsked
                continue
            }
            let stopped = process.isStopped
            if let answer = known[process.identity], answer.path == path, !(answer.fromLog && stopped) {
                record(answer.result, in: &contacts[i])
                continue
            }
            let target = ForwardsTarget(identity: process.identity, path: path, file: contacts[i].socketFile,
                                        mark: options.purpose.keepsAnswers ? RequestAudit.mark(pid: process.pid, procRoot: options.procRoot) : nil)
            if !stopped, let forwards = unchanged(target) {
                contacts[i].forwards = forwards
                continue
            }
            asked.append(i)
            targets.append(target)
        }
        for (i, result) in zip(asked, ask(targets)) { record(result, in: &contacts[i]) }
    }

    /// Why a RootlessKit's slirp4netns is not asked `list_hostfwd` (`fwd list` asks RootlessKit).
    public static let rootlessKitNotAsked = "not asked: its ports are RootlessKit's, listed by `slirpmon fwd list` through RootlessKit's API"

    /// The socket path to ask `process` through, or nil: it has none, it is defunct, or the socket is
    /// not proven to be its own (unverified included: nothing is sent; `forwardsError` says why).
    private func askable(_ process: SlirpProcess, _ contact: inout Contact) -> String? {
        guard let path = contact.apiSocket, !process.isZombie else { return nil }
        if let ownership = contact.ownership, !ownership.isUsable {
            contact.forwardsError = "not asked: API socket \(ownership)"
            return nil
        }
        return path
    }

    /// The monitor's forward counts (`Purpose.monitor`): the last answer of each instance with
    /// a usable socket, asked anew (all at once, `ask`) when it is contacted this time and it was never
    /// asked, or its log shows a request since other than listings (`forwardsThroughListings`: other
    /// monitors' and `list`s' listings change nothing, so they do not make it ask), or it failed
    /// `failedAnswerRetry` ago.
    /// An answer its log cannot prove is not asked again (the forwards pane asks); neither is a
    /// stopped process (it cannot answer; its kept answer stands).
    func countForwards(_ processes: [SlirpProcess], _ contacts: inout [Contact], kept: [Int32: Contact]) {
        guard case .monitor(let cache, _) = options.purpose else { return }
        let now = Double(Deadline.now.nanoseconds) / 1e9
        var asked: [Int] = []
        var targets: [ForwardsTarget] = []
        for (i, process) in processes.enumerated() {
            guard let path = askable(process, &contacts[i]) else { continue }
            let last = cache.lastAnswer(process.identity).flatMap { $0.path == path ? $0 : nil }
            if let last { show(last, in: &contacts[i]) }
            // Looked at only when contacted (a kept contact is not), and never while stopped.
            guard kept[process.pid] == nil, !process.isStopped else { continue }
            let mark = RequestAudit.mark(pid: process.pid, procRoot: options.procRoot)
            let target = ForwardsTarget(identity: process.identity, path: path, file: contacts[i].socketFile, mark: mark)
            if let last {
                // An answer its log cannot prove stands, as of when it was asked (the pane asks again).
                guard last.provable, let mark else { continue }
                switch last.result {
                case .success:
                    if cache.forwardsThroughListings(process.identity, path: path, now: mark, procRoot: options.procRoot) != nil { continue }
                case .failure:
                    if now - last.askedAtMonotonic < InventoryCache.failedAnswerRetry { continue }
                }
            }
            // A RootlessKit's slirp4netns (the slirp4netns port driver's `.s4nn.sock`) is not asked: its
            // ports are RootlessKit's, which the monitor counts through RootlessKit's API, and slirp's own
            // list is not theirs. (One readlink, paid only where a request would be sent.)
            if RootlessKitParent.runsRootlessKit(process.parentPID, procRoot: options.procRoot) { continue }
            asked.append(i)
            targets.append(target)
        }
        guard !targets.isEmpty else { return }
        let wallNow = InventoryCache.wallNow()
        for (i, (target, result)) in zip(asked, zip(targets, ask(targets, maximumReplyBytes: Self.countReplyLimit))) {
            let answer = InventoryCache.LastAnswer(path: target.path, result: result, provable: target.mark != nil,
                                                   askedAt: wallNow, askedAtMonotonic: now)
            cache.keepLastAnswer(answer, for: target.identity)
            contacts[i].forwards = nil
            contacts[i].forwardsError = nil
            show(answer, in: &contacts[i])
        }
    }

    /// The most of a reply the monitor's counts read (some 35 000 forwards): every monitor asks every
    /// instance on the host, a user's fake that answers megabytes among them, and a monitor runs for
    /// days. (The forwards pane, asked for one instance, reads up to the client's default.)
    static let countReplyLimit = 4 << 20

    private func show(_ answer: InventoryCache.LastAnswer, in contact: inout Contact) {
        record(answer.result, in: &contact)
        contact.forwardsAsOf = answer.provable ? nil : answer.askedAt
    }

    private func record(_ result: Result<[HostForward], APIError>, in contact: inout Contact) {
        switch result {
        case .success(let forwards): contact.forwards = forwards
        case .failure(let error): contact.forwardsError = error.description
        }
    }

    /// An instance's `list_hostfwd` answer, by process, with the socket path asked; `fromLog`: not
    /// asked, its kept answer still holds by its log.
    typealias KnownForwards = [ProcessIdentity: (path: String, result: Result<[HostForward], APIError>, fromLog: Bool)]

    /// An instance to get the forwards of: its socket, and its log's mark before asking (with a cache).
    struct ForwardsTarget {
        let identity: ProcessIdentity
        let path: String
        /// The socket file proven held by the process: the request connects to it only.
        let file: SocketFile?
        let mark: RequestAudit.Mark?
    }

    /// The forward list kept for the target, when its log is exactly as it was right after that answer.
    /// (Its log's filesystem must have room: an echo that could not be written proves nothing.)
    private func unchanged(_ target: ForwardsTarget) -> [HostForward]? {
        guard let mark = target.mark, let cache = options.purpose.cache, let kept = cache.forwards(target.identity),
              kept.path == target.path, kept.mark == mark,
              cache.logHasRoom(mark, pid: target.identity.pid, procRoot: options.procRoot) else { return nil }
        return kept.forwards
    }

    /// Asks the targets at once (`APIBatch`); with a cache, keeps each answer with its log's mark
    /// from before it was asked, to be proven later (`InventoryCache.keepUnproven`: by the next
    /// lookup, or when persisted, in `list` while its output is written).
    /// `maximumReplyBytes`: the most read of each reply.
    private func ask(_ targets: [ForwardsTarget], maximumReplyBytes: Int = 64 << 20) -> [Result<[HostForward], APIError>] {
        let results = APIBatch.list(targets.map {
            APIClient(socketPath: $0.path, expectedPID: $0.identity.pid, expectedFile: $0.file, timeout: options.apiTimeout,
                      maximumReplyBytes: maximumReplyBytes)
        })
        guard let cache = options.purpose.cache else { return results }
        for (target, result) in zip(targets, results) {
            if case .success(let forwards) = result, let before = target.mark {
                cache.keepUnproven(InventoryCache.KeptForwards(path: target.path, mark: before, forwards: forwards),
                                   procRoot: options.procRoot, for: target.identity)
            } else {
                cache.keepForwards(nil, for: target.identity)
            }
        }
        return results
    }

    /// With the facts of instances kept from before (`InventoryCache`, e.g. `list`'s on disk):
    /// gets the forwards of each of them on a pool thread while `/proc` is scanned. Those whose
    /// log shows no request since their kept answer are not asked; the others are asked, so the
    /// slirp4netns answer meanwhile, with the checks `askForwards` makes: the absolute socket path
    /// held by it now (this `listeners` dump, its kept socket inodes) and, on connecting,
    /// `SO_PEERCRED` against its PID. An answer is used only for the same process (PID and start
    /// time) at the same path once the scan has found it; nil: nothing is known.
    func askKnownForwards(listeners: ListeningSockets?) -> Pending<KnownForwards>? {
        guard case .scriptedList(true, let cache?) = options.purpose else { return nil }
        let known = cache.allFacts
        guard !known.isEmpty else { return nil }
        let procRoot = options.procRoot
        return Pending {
            var answers: KnownForwards = [:]
            var targets: [ForwardsTarget] = []
            for (identity, facts) in known {
                guard let path = facts.configuration.apiSocket, path.hasPrefix("/") else { continue }
                let mark = RequestAudit.mark(pid: identity.pid, procRoot: procRoot)
                if let forwards = unchanged(ForwardsTarget(identity: identity, path: path, file: nil, mark: mark)) {
                    answers[identity] = (path, .success(forwards), true)
                    continue
                }
                // A RootlessKit's slirp4netns is not asked (see `askForwards`): checked only for one about to be asked.
                if let stat = try? Files.readBytes("\(procRoot)/\(identity.pid)/stat"), let parent = ProcessStat(bytes: stat)?.parentPID,
                   RootlessKitParent.runsRootlessKit(parent, procRoot: procRoot) { continue }
                let (ownership, file) = SocketOwnership.verify(path: path, pid: identity.pid, socketInodes: facts.socketInodes,
                                                               procRoot: procRoot, listeners: listeners)
                guard ownership.isUsable else { continue }
                targets.append(ForwardsTarget(identity: identity, path: path, file: file, mark: mark))
            }
            for (target, result) in zip(targets, ask(targets)) { answers[target.identity] = (target.path, result, false) }
            return answers
        }
    }

    /// The namespace file an instance's addresses come from (device and inode), to tell when it changed.
    func namespaceKey(_ process: SlirpProcess) -> InventoryCache.NamespaceKey? {
        let config = process.configuration
        var paths: [String] = []
        if let target = config.targetPID {
            paths = ["\(options.procRoot)/\(target)/ns/net"]
        } else if let netns = config.netnsPath {
            // The path as the host sees it (for a rootless Podman, the placeholder file its namespace is
            // mounted on in slirp4netns's mount namespace: removed with the namespace); else through slirp4netns.
            paths = [netns, "\(options.procRoot)/\(process.pid)/root\(netns)"]
        }
        for path in paths {
            if let st = try? Files.status(path) { return InventoryCache.NamespaceKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
        }
        return nil
    }

    /// Everything about one process.
    /// `listeners`: the host's listening sockets, dumped once for a whole refresh (nil: dumped for this check).
    /// `observed`: the namespace already read (in a batch).
    public func inspect(_ process: SlirpProcess, listeners: ListeningSockets? = nil,
                        observed prefetched: Result<ObservedAddresses, NamespaceReader.Failure>? = nil) -> SlirpInstance {
        var contacts = [contact(process, listeners: listeners, readNamespace: prefetched == nil)]
        if options.purpose.asks == .list { askForwards([process], &contacts) }
        return assemble(process, contacts[0], observed: prefetched ?? contacts[0].observed)
    }

    /// What is learnt by contacting one process: its API socket and forwards, its log, and its
    /// namespace when that is read through a process (not joined).
    struct Contact: Sendable {
        var observed: Result<ObservedAddresses, NamespaceReader.Failure>?
        var apiSocket: String?
        var ownership: SocketOwnership?
        /// The socket file proven held by the process (requests are pinned to it).
        var socketFile: SocketFile?
        var forwards: [HostForward]?
        var forwardsError: String?
        /// When `forwards` were asked, for an answer its log cannot prove (`SlirpInstance.forwardsAsOf`).
        var forwardsAsOf: Double?
        var log: SlirpInstance.LogInfo?
        var logError: String?
    }

    func contact(_ process: SlirpProcess, listeners: ListeningSockets?, readNamespace read: Bool) -> Contact {
        let config = process.configuration
        var contact = Contact()
        if read && options.readAddresses && !process.isZombie {
            contact.observed = readNamespace(process, nameservers: options.purpose.readsNameservers(process.identity))
        }

        let endpoint = APIEndpoint.of(process, procRoot: options.procRoot, listeners: listeners)
        (contact.apiSocket, contact.ownership, contact.socketFile) = (endpoint.path, endpoint.ownership, endpoint.file)

        if options.readLogs { // `list` shows no log
            if !process.isZombie, let quick = quickLogInfo(process) {
                contact.log = quick
            } else if !process.isZombie {
                do {
                    let reader = try UnlinkedLog(pid: process.pid, procRoot: options.procRoot)
                    contact.log = SlirpInstance.LogInfo(fd: reader.fd, originalPath: reader.originalPath, deleted: reader.isDeleted,
                                                        sizeBytes: (try? reader.size()) ?? 0)
                } catch { contact.logError = error.description }
            } else {
                contact.logError = "the process is defunct: its log closed with it"
            }
        }
        return contact
    }

    /// The instance from the process, what contacting it gave, and its namespace's addresses.
    func assemble(_ process: SlirpProcess, _ contact: Contact, observed read: Result<ObservedAddresses, NamespaceReader.Failure>?) -> SlirpInstance {
        let config = process.configuration
        var observed: ObservedAddresses?
        var observeError: String?
        if options.readAddresses {
            if process.isZombie {
                observeError = "the process is defunct"
            } else {
                switch read ?? readNamespace(process, nameservers: options.purpose.readsNameservers(process.identity)) {
                case .success(let o): observed = o
                case .failure(let e): observeError = e.description
                }
            }
        }
        // With its configuration unknown there is nothing to compute what to expect from.
        let checks = !process.configurationSource.isKnown ? []
            : AddressCheck.compare(config, observed: observed, reason: observeError ?? (options.readAddresses ? nil : "not read"))
        return SlirpInstance(process: process, expected: ExpectedAddresses(config), observed: observed, observeError: observeError,
                             addressChecks: checks, apiSocket: contact.apiSocket, socketOwnership: contact.ownership, apiSocketFile: contact.socketFile,
                             forwards: contact.forwards, forwardsError: contact.forwardsError, log: contact.log, logError: contact.logError,
                             forwardsAsOf: contact.forwardsAsOf)
    }

    /// The log's facts from what discovery already read (the fd targets) and one `stat`,
    /// without opening it; nil when that is not enough (then `UnlinkedLog` says why).
    /// Like `UnlinkedLog`: fd 1 when it is a regular file, else fd 2.
    func quickLogInfo(_ process: SlirpProcess) -> SlirpInstance.LogInfo? {
        for (fd, target) in [(Int32(1), process.stdoutTarget), (Int32(2), process.stderrTarget)] {
            guard let target, let st = try? Files.status("\(options.procRoot)/\(process.pid)/fd/\(fd)"),
                  st.st_mode & S_IFMT == S_IFREG else { continue }
            let (path, deleted) = LogPath.stripDeleted(target)
            return SlirpInstance.LogInfo(fd: fd, originalPath: path, deleted: deleted, sizeBytes: Int64(st.st_size))
        }
        return nil
    }

    /// Where a namespace's addresses are read from.
    enum NamespaceSource {
        case process(Int32)
        /// The namespace file to join, and the user who must own it (nil: root's instance, or not root).
        case join(String, owner: UInt32?)
        case failure(NamespaceReader.Failure)
    }

    /// Through the target PID, through a process inside, or by joining the namespace file as root.
    func namespaceSource(_ process: SlirpProcess) -> NamespaceSource {
        let config = process.configuration
        if let pid = config.targetPID { return .process(pid) }
        guard let path = config.netnsPath else {
            return .failure(.unreadable(SystemError("netns", "no target on the command line", code: ENOENT)))
        }
        if geteuid() == 0 {
            // As root: only the file slirp4netns itself sees, proven the user's (`NamespaceReader.namespaceFile`).
            switch NamespaceReader.namespaceFile(path, of: process.pid, uid: process.uid, procRoot: options.procRoot) {
            case .success(let nsPath): return .join(nsPath, owner: process.joinOwner)
            case .failure(let failure): return .failure(failure)
            }
        }
        // A rootless Podman's netns file is a bind mount only in slirp4netns's own mount
        // namespace: look at it through /proc/PID/root, where it is the real nsfs file.
        let seen = "\(options.procRoot)/\(process.pid)/root\(path)"
        let nsPath = NamespaceReader.isNamespaceFile(seen) ? seen : path
        if let inside = NamespaceReader.processInside(netnsPath: nsPath, procRoot: options.procRoot) {
            return .process(inside)
        }
        return .join(nsPath, owner: nil)
    }

    /// Reads the namespace: through the target PID, or by joining the namespace file as root;
    /// with `nameservers`, also the resolv.conf of a process inside (`withNameservers`).
    func readNamespace(_ process: SlirpProcess, nameservers: Bool = false) -> Result<ObservedAddresses, NamespaceReader.Failure> {
        let config = process.configuration
        let tap = config.effectiveTapName
        let result: Result<ObservedAddresses, NamespaceReader.Failure>
        let namespace: String
        switch namespaceSource(process) {
        case .process(let inside):
            result = Result { () throws(NamespaceReader.Failure) in try NamespaceReader.read(viaProcess: inside, interface: tap, procRoot: options.procRoot) }
            namespace = "\(options.procRoot)/\(inside)/ns/net"
        case .join(let nsPath, let owner):
            result = Result { () throws(NamespaceReader.Failure) in try NamespaceReader.read(netnsPath: nsPath, interface: tap, owner: owner) }
            namespace = nsPath
        case .failure(let failure):
            return .failure(failure)
        }
        return nameservers ? withNameservers(result, namespace: namespace) : result
    }

    /// `result` with the nameservers of a process in the namespace at `namespace` (a namespace
    /// file, or `/proc/PID/ns/net` of a process in it), named; see `NamespaceReader.readNameservers`.
    /// With a cache (the monitor), the process read last time for that namespace is tried first:
    /// while it lives there, a refresh reads only its files, not all of `/proc`; a namespace found
    /// empty is not searched again before `addressMaxAge`.
    func withNameservers(_ result: Result<ObservedAddresses, NamespaceReader.Failure>, namespace: String) -> Result<ObservedAddresses, NamespaceReader.Failure> {
        guard case .success(var observed) = result else { return result }
        let cache = options.purpose.cache
        let key = cache != nil ? ContainerJoin.identity(namespace).map { InventoryCache.NamespaceKey(device: $0.device, inode: $0.inode) } : nil
        let now = Double(Deadline.now.nanoseconds) / 1e9
        let hint = key.flatMap { cache?.nameserverHint($0, now: now) }
        if hint == .nobodyInside {
            observed.resolvConfProblem = NamespaceReader.nobodyInside
            return .success(observed)
        }
        let remembered: ProcessIdentity? = if case .process(let process) = hint { process } else { nil }
        let read = NamespaceReader.readNameservers(into: &observed, netnsPath: namespace, procRoot: options.procRoot, remembered: remembered)
        if let cache, let key { cache.keepNameserverRead(read, for: key, now: now) }
        return .success(observed)
    }
}

extension SlirpProcess {
    /// Whose namespace root may join for this process: its user's, unless it is root's (nil).
    /// Unknown owner: uid 0 is never assumed, so nobody's (`namespaceFile` refuses it first).
    var joinOwner: UInt32? { uid == 0 ? nil : (uid ?? UInt32.max) }
}
