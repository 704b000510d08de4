#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Inventory {
    /// The monitor's load of each running instance (`Purpose.monitor`): its CPU time, read with its
    /// state this refresh, and its tap's counters when its namespace was read now (not kept).
    func addLoad(_ instances: inout [SlirpInstance], cache: InventoryCache, keptAddresses: [Int32: ObservedAddresses], now: Double) {
        for i in instances.indices where !instances[i].process.isZombie {
            let readNow = keptAddresses[instances[i].pid] == nil
            let fresh = readNow ? instances[i].observed?.counters : nil
            // Read now and failed (the namespace gone, unreadable): the rates kept are not shown as current.
            let failed = readNow && fresh == nil && instances[i].observeError != nil
            var load = cache.load(instances[i].identity, at: now, cpuSeconds: instances[i].process.cpuSeconds, tap: fresh,
                                  tapFailed: failed, procRoot: options.procRoot)
            if load.tap == nil { load.tapError = instances[i].observeError }
            instances[i].load = load
        }
    }

    /// The shortest and longest `list --rates` window, in seconds.
    public static let rateWindows = 0.1...60.0

    /// Reads each running instance's CPU time, schedstat and tap counters twice, `seconds` apart
    /// (`slirpmon list --rates`), and sets its load from the two (`InstanceLoad.between`).
    /// Costs one namespace read per instance per reading (joined as root, or through a process inside).
    public func measureLoad(_ instances: inout [SlirpInstance], over seconds: Double) {
        let first = loadSamples(instances)
        let end = Deadline.after(seconds: seconds)
        while !end.hasPassed { usleep(UInt32(min(end.remainingMilliseconds, 1000)) * 1000) }
        let second = loadSamples(instances)
        for i in instances.indices {
            let p = instances[i].process
            guard !p.isZombie else {
                instances[i].load = .single(cpuSeconds: p.cpuSeconds, reason: "defunct: it runs no more")
                continue
            }
            guard let a = first[i].sample, let b = second[i].sample else {
                instances[i].load = .single(cpuSeconds: p.cpuSeconds, reason: "the process exited while it was measured")
                continue
            }
            var load = InstanceLoad.between(a, b)
            load.tapError = second[i].tapError ?? first[i].tapError
            instances[i].load = load
        }
    }

    /// The tap counters of `processes` (running ones), read while the caller goes on: through a
    /// process inside, or by joining the namespace on threads of their own (one per core, each
    /// joining its share in turn, as `inspect` reads addresses).
    func startCounterReads(_ processes: [SlirpProcess]) -> Pending<[Int32: Result<InterfaceCounters?, NamespaceReader.Failure>]>? {
        guard !processes.isEmpty else { return nil }
        return Pending { [self] in
            var all: [Int32: Result<InterfaceCounters?, NamespaceReader.Failure>] = [:]
            var jobs: [(pid: Int32, path: String, interface: String, owner: UInt32?)] = []
            for process in processes {
                let tap = process.configuration.effectiveTapName
                switch namespaceSource(process) {
                case .process(let inside): all[process.pid] = NamespaceReader.counters(viaProcess: inside, interface: tap, procRoot: options.procRoot)
                case .join(let path, let owner): jobs.append((process.pid, path, tap, owner))
                case .failure(let failure): all[process.pid] = .failure(failure)
                }
            }
            let batches = max(1, min(jobs.count, Self.cores))
            let reads = (0..<batches).map { b in
                let share = stride(from: b, to: jobs.count, by: batches).map { jobs[$0] }
                return Pending { zip(share.map(\.pid), NamespaceReader.counters(joining: share.map { ($0.path, $0.interface, $0.owner) })).map { ($0, $1) } }
            }
            for read in reads { for (pid, result) in read.wait() { all[pid] = result } }
            return all
        }
    }

    /// One reading of each instance (nil for a defunct or vanished one): the tap counters first
    /// (the namespaces to join on one thread), then every CPU time and schedstat, stamped together.
    private func loadSamples(_ instances: [SlirpInstance]) -> [(sample: LoadSample?, tapError: String?)] {
        var taps = [Result<InterfaceCounters?, NamespaceReader.Failure>?](repeating: nil, count: instances.count)
        var jobs: [(index: Int, path: String, interface: String, owner: UInt32?)] = []
        for (i, instance) in instances.enumerated() where !instance.process.isZombie {
            let tap = instance.configuration.effectiveTapName
            switch namespaceSource(instance.process) {
            case .process(let pid): taps[i] = NamespaceReader.counters(viaProcess: pid, interface: tap, procRoot: options.procRoot)
            case .join(let path, let owner): jobs.append((i, path, tap, owner))
            case .failure(let failure): taps[i] = .failure(failure)
            }
        }
        for (job, result) in zip(jobs, NamespaceReader.counters(joining: jobs.map { ($0.path, $0.interface, $0.owner) })) {
            taps[job.index] = result
        }
        let now = LoadSample.now()
        return instances.enumerated().map { i, instance in
            guard !instance.process.isZombie, let cpu = LoadSample.cpuSeconds(of: instance.identity, procRoot: options.procRoot) else { return (nil, nil) }
            var sample = LoadSample(at: now, cpuSeconds: cpu, demandSeconds: LoadSample.demandSeconds(pid: instance.pid, procRoot: options.procRoot))
            var tapError: String?
            switch taps[i] {
            case .success(let counters?): sample.tap = counters
            case .success(nil): tapError = "no \(instance.configuration.effectiveTapName) in its namespace's /proc/net/dev"
            case .failure(let failure): tapError = failure.description
            case nil: tapError = "not read"
            }
            return (sample, tapError)
        }
    }
}

extension SlirpInstance {
    /// The finding when it is pinned at a whole CPU (`LoadRule.finding`), with the restart of its
    /// container or pod as its owner.
    public var loadFinding: Finding? {
        guard let load else { return nil }
        let restart = container.map { c in
            let words = c.isInfra ? ["podman", "pod", "restart", c.podName ?? c.name] : ["podman", "restart", c.name]
            return acting?.asOwner(Shell.command(words)) ?? Shell.command(words)
        }
        return LoadRule.finding(pid: pid, load: load, restart: restart)
    }
}
