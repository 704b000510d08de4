/// An operator's TARGET resolved on this host: the process, then only what the command needs of it.
extension TargetResolver {
    /// The process `target` names (see `Target`). Podman is asked for names and pods and to prove a
    /// container ID claim, through `catalog` (which keeps the answer for the caller's next question,
    /// and on disk for 5 s, as `list` does: `fwd add ID` right after `list` runs no Podman).
    public static func process(_ target: String, catalog: PodmanCatalog = PodmanCatalog(persistent: true),
                               scanner: ProcessScanner = ProcessScanner()) throws(Failure) -> SlirpProcess {
        let parsed = try Target(parsing: target)
        // `pid:N` names one process and nothing else: only it is read, not every instance on the
        // host nor Podman (a scan's cost grows with the host's instances, a PID's does not). A bare
        // PID is looked up with every other kind: a container may be named with its digits.
        if parsed.kind == .pid, let pid = parsed.pid, let process = scanner.process(pid: pid) {
            return lastSeen(process, scanner: scanner)
        }
        let processes: [SlirpProcess]
        do { processes = try scanner.scan() } catch { throw .cannotScan(error.description) }
        // Every other target may name a container or a pod, and a container ID in a process's file
        // names is a claim anyone can make, proven against Podman's container (its owner and network
        // namespace) before the process is taken for it: Podman is asked (unless not installed).
        let podman = parsed.kind == .pid || PodmanCLI.installed() == nil ? PodmanCatalog.Snapshot.empty : catalog.snapshot(for: processes)
        do throws(Failure) { return lastSeen(try resolve(parsed, among: processes, containers: podman.containers), scanner: scanner) } catch {
            throw podman.failures.isEmpty ? error : .podmanFailed(error, podman.failures)
        }
    }

    /// A defunct process with what `slirpmon list` kept of it while it ran (its configuration, last
    /// seen; `ProcessFactsDiskCache`), else as it is (its configuration unknown). The kept facts are
    /// read only for a defunct process: a running one's command line is read anew.
    static func lastSeen(_ process: SlirpProcess, scanner: ProcessScanner) -> SlirpProcess {
        guard process.isZombie, !process.configurationSource.isKnown, scanner.cache == nil, scanner.procRoot == "/proc" else { return process }
        let kept = ProcessScanner(procRoot: scanner.procRoot, commandNames: scanner.commandNames, cache: InventoryCache.persistentFacts())
        guard let seen = kept.process(pid: process.pid), seen.identity == process.identity else { return process }
        return seen
    }

    /// Everything about the instance `target` names (`show`): resolved first, then only it is read and
    /// asked (`Inventory.instance`), joined with Podman's metadata when it is a container.
    public static func instance(_ target: String, apiTimeout: Double) throws(Failure) -> SlirpInstance {
        // One catalog: a container named as TARGET is joined with the very answer that found it
        // (a second question could get no answer and drop the container).
        let catalog = PodmanCatalog(persistent: true)
        let process = try process(target, catalog: catalog)
        var options = Inventory.Options(purpose: .show)
        options.apiTimeout = apiTimeout
        // A rootless network has no container ID, but Podman's answer names the containers on it.
        options.podman = process.containerID == nil && RootlessNetwork.claimed(by: process) == nil ? nil : catalog
        let inventory = Inventory(options: options)
        guard options.podman != nil, let joined = try? inventory.instance(process) else {
            var instance = inventory.inspect(process)
            instance.rootlessKit = RootlessKitParent.of(process, listeners: ListeningSockets.now())
            return instance
        }
        return joined
    }

    /// The API socket of the instance `target` names (`fwd`), proven as the inventory proves it, with
    /// nothing else read and nothing sent.
    public static func endpoint(_ target: String) throws(Failure) -> APIEndpoint {
        APIEndpoint.of(try process(target))
    }
}
