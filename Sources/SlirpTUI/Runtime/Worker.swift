import SlirpCore
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs the slow work off the input thread — scans, API calls, the version probe — and
/// keeps the answers until the loop collects them, so a hung socket never blocks a key.
final class Worker: Sendable {
    private let inbox = Mutex<[WorkResult]>([])
    private let scans = DispatchQueue(label: "slirpmon.inventory")
    private let api = DispatchQueue(label: "slirpmon.api")
    /// The Docker join of the opened pane: a user's daemon that hangs holds only this queue, never
    /// `api`, where adds and removes on every instance wait their turn.
    private let docker = DispatchQueue(label: "slirpmon.docker")
    private let doctors = DispatchQueue(label: "slirpmon.doctor")
    private let dnsChecks = DispatchQueue(label: "slirpmon.dns")
    private let saves = DispatchQueue(label: "slirpmon.save")
    private let probes = DispatchQueue(label: "slirpmon.probe")
    private let apiTimeout: Double
    /// One catalog for the monitor's lifetime: it caches, and asks Podman again only when
    /// the slirp4netns processes or Podman's state files change, or after a minute.
    private let podman: PodmanCatalog
    /// What each refresh keeps for the next: the facts of processes already read, and for the
    /// instances not on screen their socket state and log size (5 s) and namespace addresses (30 s).
    private let inventoryCache = InventoryCache(addressMaxAge: InventoryCache.monitorAddressMaxAge,
                                                contactMaxAge: InventoryCache.monitorContactMaxAge)
    /// Passive-check findings per instance, kept while nothing they depend on changed.
    private let findingsCache = Mutex<[ProcessIdentity: (key: FindingsKey, findings: [Finding])]>([:])
    /// The last stale-holder pass: its suspects, when it ran, what it found.
    private let staleCache = Mutex<(suspects: Set<Int32>, at: Double, holders: [PortHolder])?>(nil)
    /// A stale-holder pass reads the host's whole socket tables: at most one per `staleMinimumGap` when
    /// the suspects change (any user can name a process rootlessport), one per `staleMaximumAge` otherwise.
    static let staleMinimumGap = 5.0
    static let staleMaximumAge = 30.0
    /// What each RootlessKit instance's Docker join last read (`DockerFacts`: its proxies and one
    /// request to its daemon), and the port ids it was read for: read again only when the
    /// ports change or after `dockerFactsMaxAge`, never for each listing.
    private let dockerFacts = Mutex<[ProcessIdentity: (ids: [Int], at: Double, facts: DockerFacts)]>([:])
    static let dockerFactsMaxAge = 60.0
    /// The last refresh's facts that events are made of (`EventSnapshot`): each refresh's events are
    /// what differs from it, the first refresh's the state as seen. (A comparison of what the
    /// refresh already holds: nothing more is read for it.)
    private let eventFacts = Mutex<EventSnapshot?>(nil)
    /// What the running doctor's trial created, removed on quit.
    private let trialCleanup = Mutex<TrialCleanup?>(nil)

    init(apiTimeout: Double = 2, podman: PodmanCatalog = PodmanCatalog(maxAge: 60)) {
        self.apiTimeout = apiTimeout
        self.podman = podman
    }

    /// The answers since the last call, oldest first.
    func drain() -> [WorkResult] {
        inbox.withLock { results in
            let taken = results
            results.removeAll()
            return taken
        }
    }

    private func post(_ result: WorkResult) {
        inbox.withLock { $0.append(result) }
    }

    /// A full scan that asks `list_hostfwd` only for the FWD column's counts: each instance once when
    /// first seen, then only when its log shows a request since (`Inventory.Purpose.monitor`;
    /// each listing lands in the instance's log, so an idle monitor must not list).
    /// The selected instance is read whole every time; the others' namespaces every 30 s (at once
    /// when their namespace file changes, looked at every 5 s, with their API socket, log size and
    /// forwards' proof): a hundred of each a second cost more than htop.
    func refresh(selected: ProcessIdentity?) {
        let timeout = apiTimeout
        scans.async { [self] in
            var options = Inventory.Options(purpose: .monitor(cache: inventoryCache, selected: selected))
            options.readAddresses = true
            options.apiTimeout = timeout
            options.podman = podman
            let inventory = Inventory(options: options)
            do throws(SystemError) {
                let snapshot = try inventory.snapshot()
                // Holders left by a container that no longer runs: the host's sockets and the suspects'
                // fds are read only when the inventory shows such a container or a rootlessport no
                // running container carries (`PortHolders.suspects`); nothing more otherwise.
                let stale = staleHolders(in: snapshot)
                let instances = snapshot.instances.map { instance in
                    var view = InstanceSnapshot(instance)
                    view.forwardsAsOf = instance.rootlessKit == nil ? instance.forwardsAsOf.map(Clock.wallTime(at:)) : nil
                    // Its own stale sockets, and those of a rootlessport left by the same (gone) container.
                    let container = instance.container?.id ?? instance.process.containerID
                    view.findings = findings(instance) + Self.staleFindings(stale.filter { holder in
                        holder.pid == instance.process.pid || (container != nil && holder.containerID == container)
                    })
                    if let pinned = instance.loadFinding { view.findings.insert(pinned, at: view.findings.firstIndex { $0.severity == .warning } ?? view.findings.count) }
                    return view
                }
                let detached = snapshot.detachedContainers.map { container in
                    var view = InstanceSnapshot(container)
                    view.findings = Self.staleFindings(stale.filter { $0.containerID == container.container.id })
                    return view
                }
                let live = Set(snapshot.instances.map(\.identity))
                findingsCache.withLock { cache in cache = cache.filter { live.contains($0.key) } }
                dockerFacts.withLock { cache in cache = cache.filter { live.contains($0.key) } }
                var podmanStatus = PodmanStatus(installed: snapshot.podmanInstalled, failures: snapshot.podmanFailures)
                podmanStatus.stalePorts = stale.map(\.headline)
                post(.inventory(instances + detached, podman: podmanStatus, error: nil, clock: Clock.wallTime()))
                let facts = EventSnapshot(snapshot, at: InventoryCache.wallNow())
                let events = eventFacts.withLock { previous in
                    defer { previous = facts }
                    return previous.map { facts.events(since: $0) } ?? facts.seen
                }
                if !events.isEmpty { post(.events(events)) }
            } catch {
                post(.inventory([], error: error.description, clock: Clock.wallTime()))
            }
        }
    }

    /// The stale holders of `snapshot` (`PortHolders.stale`), read again only when its suspects
    /// changed (and the last pass is `staleMinimumGap` old) or the last pass is `staleMaximumAge` old;
    /// meanwhile the last answer, without holders that have exited.
    func staleHolders(in snapshot: InventorySnapshot) -> [PortHolder] {
        let suspects = PortHolders.suspects(in: snapshot)
        guard !suspects.isEmpty else {
            staleCache.withLock { $0 = nil }
            return []
        }
        let now = Clock.monotonic()
        if let last = staleCache.withLock({ $0 }) {
            let age = now - last.at
            if age < Self.staleMinimumGap || (last.suspects == suspects && age < Self.staleMaximumAge) {
                return last.holders.filter { suspects.contains($0.pid) }
            }
        }
        let holders = PortHolders.stale(in: snapshot)
        staleCache.withLock { $0 = (suspects, now, holders) }
        return holders
    }

    /// A stale port holder as a warning of the row it belongs to (its slirp4netns, or its stopped container).
    static func staleFindings(_ holders: [PortHolder]) -> [Finding] {
        holders.map { Finding(check: "ports", severity: .warning, message: "stale port holder: " + $0.sentence) }
    }

    /// What a passive check's answer depends on: a new log line, a socket change or the process dying.
    struct FindingsKey: Equatable {
        var logSize: Int64
        var socket: String
        var zombie: Bool
    }

    /// The passive checks, re-run only when the log grew, the socket changed or the process died
    /// (they read the log's tail: not every second for every instance).
    private func findings(_ instance: SlirpInstance) -> [Finding] {
        let key = FindingsKey(logSize: instance.log?.sizeBytes ?? -1, socket: instance.socketOwnership.map { "\($0)" } ?? "-",
                              zombie: instance.process.isZombie)
        if let cached = findingsCache.withLock({ $0[instance.identity] }), cached.key == key { return cached.findings }
        let found = PassiveChecks.run(on: instance)
        findingsCache.withLock { $0[instance.identity] = (key, found) }
        return found
    }

    /// Runs the startup doctor for `container` on its own queue, posting each step as it ends.
    func doctor(_ container: ContainerNetworkOptions) {
        doctors.async { [self] in
            let cleanup = TrialCleanup()
            trialCleanup.withLock { $0 = cleanup }
            let request = StartupDoctor.Request(options: container.options, container: container)
            let report = StartupDoctor.run(request, cleanup: cleanup) { step in
                post(.doctorStep(containerID: container.id, step))
            }
            trialCleanup.withLock { $0 = nil }
            post(.doctorFinished(containerID: container.id, report))
        }
    }

    /// Asks the DNS address of the instance `identity` names from inside its namespace, on its own
    /// queue (it waits up to the API timeout for a silent resolver): only while that very process
    /// (PID and start time) still runs.
    func checkDNS(_ identity: ProcessIdentity) {
        let timeout = apiTimeout
        dnsChecks.async { [self] in
            guard let process = ProcessScanner().process(pid: identity.pid), process.identity == identity else {
                post(.dnsChecked(identity, nil, error: "pid \(identity.pid) has exited"))
                return
            }
            switch DNSCheck.run(process, timeout: timeout) {
            case .success(let report): post(.dnsChecked(identity, report, error: nil))
            case .failure(let failure): post(.dnsChecked(identity, nil, error: failure.description))
            }
        }
    }

    /// Removes what a running doctor trial created (the monitor is ending).
    func stopDoctor() {
        let cleanup = trialCleanup.withLock { $0 }
        cleanup?.run()
    }

    /// Probes one forward on its own queue (a probe waits up to its timeout: never behind a scan or an API request).
    func probeForward(_ request: ProbeRequest) {
        let timeout = min(apiTimeout, 2)
        probes.async { [self] in
            // The row's process, not one that took its PID since.
            guard let process = ProcessScanner().process(pid: request.identity.pid), process.identity == request.identity else {
                post(.forwardProbed(request.identity, .exited(request.forward, pid: request.identity.pid), at: InventoryCache.wallNow()))
                return
            }
            let report = ForwardProbe.run(request.forward, site: request.site, timeout: timeout)
            post(.forwardProbed(request.identity, report, at: InventoryCache.wallNow()))
        }
    }

    func probe() {
        scans.async { [self] in
            switch SlirpBinary.probe() {
            case .success(let binary): post(.probed(version: binary.version ?? "(version unknown)", features: binary.features.names, error: nil))
            case .failure(let error): post(.probed(version: nil, features: [], error: error.description))
            }
        }
    }

    func listForwards(_ target: EffectTarget) {
        if let kit = target.rootlessKit { return listPorts(target, kit) }
        guard let socket = target.apiSocket else { return }
        let timeout = apiTimeout
        let cache = inventoryCache
        api.async { [self] in
            // Kept for the FWD column too, with the log's mark from before asking, so the next refresh
            // shows this answer and, while the log proves it holds, does not ask again.
            let before = RequestAudit.mark(pid: target.pid)
            let result = Result { () throws(APIError) in
                try APIClient(socketPath: socket, expectedPID: target.pid, expectedFile: target.apiSocketFile, timeout: timeout).list()
            }
            cache.keepAnswer(result, path: socket, markBefore: before, for: target.identity)
            switch result {
            case .success(let list): post(.forwards(target.identity, list, error: nil))
            case .failure(let error): post(.forwards(target.identity, nil, error: error.description))
            }
        }
    }

    /// The ports of a RootlessKit instance (`GET /v1/ports` on `$STATE/api.sock`, proven held by
    /// its rootlesskit parent), with the wall time they were read. Docker is not read here (this
    /// runs for every RootlessKit row's FWD count, and on the queue adds and removes wait on):
    /// a Docker rootless's ports say `unknown` until the opened pane joins them (`joinDocker`).
    private func listPorts(_ target: EffectTarget, _ kit: RootlessKitParent) {
        onRootlessKit(target, ifBlocked: { .ports(target.identity, nil, error: $0) }) { [self] session in
            let ports: [RootlessKitPort]
            do throws(RootlessKitAPIError) { ports = try session.api.ports() } catch {
                post(.ports(target.identity, nil, error: error.description + (error.hint.map { "; " + $0 } ?? "")))
                return
            }
            post(.ports(target.identity, RootlessKitForward.join(ports, facts: DockerFacts.unread(kit)), error: nil,
                        listedAt: Clock.wallTime()))
        }
    }

    /// Joins `ports` with the target's Docker facts on the `docker` queue and posts them after the ports.
    func joinDocker(_ target: EffectTarget, _ ports: [RootlessKitPort]) {
        guard let kit = target.rootlessKit else { return }
        let timeout = apiTimeout
        docker.async { [self] in
            let facts = dockerFacts(of: kit, for: target.identity, ids: ports.map(\.id), timeout: timeout)
            post(.portsJoined(target.identity, RootlessKitForward.join(ports, facts: facts), dockerProblem: facts.problem))
        }
    }

    /// `kit`'s Docker facts, kept while its port ids are `ids` and for `dockerFactsMaxAge`.
    private func dockerFacts(of kit: RootlessKitParent, for identity: ProcessIdentity, ids: [Int], timeout: Double) -> DockerFacts {
        guard kit.child?.kind == .docker else { return DockerFacts.of(kit) }
        let now = Clock.monotonic()
        if let kept = dockerFacts.withLock({ $0[identity] }), kept.ids == ids, now - kept.at < Self.dockerFactsMaxAge { return kept.facts }
        let facts = DockerFacts.of(kit, timeout: timeout)
        dockerFacts.withLock { $0[identity] = (ids, now, facts) }
        return facts
    }

    /// Runs `work` on the API queue with a session of the target's RootlessKit API, its socket proven
    /// held by the rootlesskit parent now (`RootlessKitEndpoint`); else posts `ifBlocked` with why not.
    private func onRootlessKit(_ target: EffectTarget, ifBlocked: @escaping @Sendable (String) -> WorkResult,
                               _ work: @escaping @Sendable (RootlessKitSession) -> Void) {
        let timeout = apiTimeout
        api.async { [self] in
            guard let kit = target.rootlessKit else { return post(ifBlocked("the instance was not started by RootlessKit")) }
            guard let endpoint = kit.endpoint() else { return post(ifBlocked("RootlessKit's state directory is unknown, so its API socket is too")) }
            guard let client = endpoint.client(timeout: timeout) else {
                return post(ifBlocked(endpoint.blocker() ?? "RootlessKit API socket \(endpoint.path) cannot be used"))
            }
            // slirp4netns's network (`--cidr`): all the slirp4netns port driver reaches.
            let network = target.slirpNetwork.flatMap { IPv4Network($0) } ?? ChildAddressRule.defaultSlirpNetwork
            work(RootlessKitSession(api: client, parentPID: kit.pid, slirpNetwork: network))
        }
    }

    /// Adds RootlessKit ports: the batch checked whole (driver, childIP, privileged port, conflicts), then sent in order.
    func addPorts(_ target: EffectTarget, _ specs: [RootlessKitPortSpec]) {
        onRootlessKit(target, ifBlocked: { .added(target, [], failure: "nothing sent: " + $0) }) { [self] session in
            let outcome = session.add(specs)
            let stopped = outcome.failure.map { spec, failure in
                (spec.summary, failure.explanation, failure.sentWithoutAnswer ? SentNoAnswer(port: spec, explanation: failure.explanation) : nil)
            }
            postAdded(target, outcome.added.map { AddedForward(summary: $0.spec.summary, id: $0.id) },
                      refusal: outcome.refusal.map { Self.words($0, batch: specs.count) }, stopped: stopped)
        }
    }

    /// Removes a RootlessKit port by its id.
    func removePort(_ target: EffectTarget, _ port: RootlessKitPort) {
        onRootlessKit(target, ifBlocked: { .removedPort(target, port, error: "nothing sent: " + $0) }) { [self] session in
            let outcome = session.remove([port.id], listed: true)
            post(.removedPort(target, port, error: outcome.failure?.1.explanation, unanswered: outcome.failure?.1.sentWithoutAnswer ?? false))
        }
    }

    /// Why a batch of RootlessKit ports was not sent, in the status line's words.
    static func words(_ refusal: RootlessKitSession.Refusal, batch: Int) -> String {
        switch refusal {
        case .rejected(let rejected):
            rejected.prefix(3).map { "\($0.spec.summary): \($0.reason)" }.joined(separator: "; ") + (rejected.count > 3 ? "; and \(rejected.count - 3) more" : "")
        case .conflicts(let clashes): RootlessKitConflict.described(clashes, limit: 5)
        case .listFailed(let failure): "RootlessKit's info and ports could not be read to check the \(batch) against them: \(failure.explanation)"
        }
    }

    /// Posts what an add did: refused whole (`refusal`: nothing was sent), else the forwards added and
    /// what stopped the rest (`stopped`: its summary, why, and the request when it was sent whole without an answer).
    private func postAdded(_ target: EffectTarget, _ added: [AddedForward], refusal: String?,
                           stopped: (summary: String, explanation: String, unanswered: SentNoAnswer?)?) {
        if let refusal {
            post(.added(target, [], failure: "nothing sent: " + refusal))
        } else if let unanswered = stopped?.unanswered {
            post(.added(target, added, failure: nil, unanswered: unanswered))
        } else {
            post(.added(target, added, failure: stopped.map { "\($0.summary): \($0.explanation)" }))
        }
    }

    /// Sends the requests in order; stops at the first failure and explains it.
    func add(_ target: EffectTarget, _ requests: [ForwardRequest]) {
        guard let socket = target.apiSocket else {
            post(.added(target, [], failure: "the instance has no API socket"))
            return
        }
        let timeout = apiTimeout
        api.async { [self] in
            let client = APIClient(socketPath: socket, expectedPID: target.pid, expectedFile: target.apiSocketFile, timeout: timeout)
            let outcome = ForwardSession(client: client, pid: target.pid).add(requests)
            let refusal: String? = switch outcome.refusal {
            case .conflicts(let clashes): ForwardConflict.described(clashes, limit: 5)
            case .listFailed(let failure): "the forwards could not be listed to check the \(requests.count) against them: \(failure.explanation)"
            case nil: nil
            }
            postAdded(target, outcome.added.map { AddedForward(summary: $0.request.summary, id: $0.id) }, refusal: refusal,
                      stopped: outcome.failure.map { request, failure in
                          (request.summary, failure.explanation, failure.sentWithoutAnswer ? SentNoAnswer(request: request, explanation: failure.explanation) : nil)
                      })
        }
    }

    /// Copies a log on its own queue (up to 64 MiB: not on the input thread, nor behind a scan).
    func save(_ save: LogSave) {
        saves.async { [self] in post(save.run()) }
    }

    /// Waits, at most `seconds`, for the copies already asked for: quitting right after `s` still
    /// leaves the whole copy, not a cut one.
    func finishSaves(within seconds: Double = 10) {
        let done = DispatchSemaphore(value: 0)
        saves.async { done.signal() }
        _ = done.wait(timeout: .now() + seconds)
    }

    func remove(_ target: EffectTarget, _ forward: HostForward) {
        guard let socket = target.apiSocket else { return }
        let timeout = apiTimeout
        api.async { [self] in
            let client = APIClient(socketPath: socket, expectedPID: target.pid, expectedFile: target.apiSocketFile, timeout: timeout)
            let outcome = ForwardSession(client: client, pid: target.pid).remove([forward.id])
            post(.removed(target, forward, error: outcome.failure?.1.explanation, unanswered: outcome.failure?.1.sentWithoutAnswer ?? false))
        }
    }
}

/// Clocks for the runtime (the state only ever sees their values).
enum Clock {
    /// Monotonic seconds.
    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Local wall time as `HH:MM:SS`.
    static func wallTime() -> String {
        wallTime(at: Double(time(nil)))
    }

    /// Local wall time of `seconds` since the epoch as `HH:MM:SS`.
    static func wallTime(at seconds: Double) -> String {
        var now = time_t(seconds)
        var parts = tm()
        localtime_r(&now, &parts)
        return "\(Format.two(Int(parts.tm_hour))):\(Format.two(Int(parts.tm_min))):\(Format.two(Int(parts.tm_sec)))"
    }

    /// Local wall time as `YYYYMMDD-HHMMSS`, for file names.
    static func stamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return "\(parts.tm_year + 1900)\(Format.two(Int(parts.tm_mon + 1)))\(Format.two(Int(parts.tm_mday)))-"
            + "\(Format.two(Int(parts.tm_hour)))\(Format.two(Int(parts.tm_min)))\(Format.two(Int(parts.tm_sec)))"
    }
}
