/// Turns an operator's TARGET (a PID, a container name, a container ID or unique ID prefix, a pod
/// name, or an explicit `pid:N`, `name:NAME`, `id:PREFIX`, `pod:NAME`) into one slirp4netns process.
///
/// Every kind a TARGET may be is looked up, and a TARGET that leads to more than one instance (or
/// container) is refused with each candidate and the explicit form that names it alone: a container
/// may be named with the digits of a PID, or a name be the start of another container's ID, and a
/// guess would show or change the wrong instance.
public enum TargetResolver {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notFound(target: String, known: [String])
        /// Each candidate: the explicit form that names it alone, then what it is.
        case ambiguous(target: String, candidates: [String])
        /// The container exists but has no live slirp4netns; `doctor` is the TARGET that names it alone.
        case notRunning(target: String, state: String, doctor: String)
        /// An explicit form that cannot name anything (`pid:x`, `id:`, `foo:1`): a usage error.
        case invalidForm(target: String, reason: String)
        /// `/proc` could not be read.
        case cannotScan(String)
        /// Not resolved, and Podman's answer was incomplete (its failures may be why).
        indirect case podmanFailed(Failure, [String])

        public var description: String {
            switch self {
            case .notFound(let target, let known):
                known.isEmpty
                    ? "no slirp4netns instance matches \(goQuoted(abbreviated(target))): none is running (try `slirpmon demo`)"
                    : "no slirp4netns instance matches \(goQuoted(abbreviated(target))); running: \(Self.some(known))"
            case .ambiguous(let target, let candidates):
                "\(goQuoted(abbreviated(target))) matches more than one: \(Self.some(candidates, separator: "; ")); give the form that names the one you mean (nothing was sent)"
            case .notRunning(let target, let state, let doctor):
                "container \(goQuoted(abbreviated(target))) has no running slirp4netns (state \(state)); `\(Shell.command(["slirpmon", "doctor", doctor]))` explains why"
            case .invalidForm(let target, let reason):
                "TARGET \(goQuoted(abbreviated(target))): \(reason)"
            case .cannotScan(let why):
                "cannot scan /proc: \(why)"
            case .podmanFailed(let failure, let podman):
                "\(failure) (\(podman.joined(separator: "; ")))"
            }
        }

        /// The first ten of `names` (newest first) and how many more: an error stays one readable line with 100 instances.
        static func some(_ names: [String], separator: String = ", ") -> String {
            names.count <= 10 ? names.joined(separator: separator) : names.prefix(10).joined(separator: separator) + " and \(names.count - 10) more (slirpmon list)"
        }
    }

    /// Finds the process `target` names among `processes`; `containers` (from Podman) add names and pods.
    ///
    /// A process is taken for a container only when `serves` proves it (`ContainerJoin`: its owner and
    /// network namespace are the container's), never by the ID its file names claim: a user's process
    /// named after root's container is not root's container. A claimed ID no container in `containers`
    /// has (a process started by hand, or one whose user's Podman could not be asked) still names it.
    public static func resolve(_ target: String, among processes: [SlirpProcess], containers: [PodmanContainer] = [],
                               serves: @escaping (SlirpProcess, PodmanContainer) -> Bool = { ContainerJoin.check($0, serves: $1) == .joined }) throws(Failure) -> SlirpProcess {
        try resolve(Target(parsing: target), among: processes, containers: containers, serves: serves)
    }

    static func resolve(_ target: Target, among processes: [SlirpProcess], containers: [PodmanContainer] = [],
                        serves: @escaping (SlirpProcess, PodmanContainer) -> Bool = { ContainerJoin.check($0, serves: $1) == .joined }) throws(Failure) -> SlirpProcess {
        let found = Lookup(processes: processes, containers: containers, serves: serves).candidates(for: target)
        // The same instance reached several ways (a container's name and its slirp4netns's PID, a
        // pod and its member) is one answer; two instances, or an instance and a container without
        // one, are two, and a guess between them could change the wrong one.
        var seen = Set<String>()
        let distinct = found.filter { seen.insert($0.answer).inserted }
        if distinct.count > 1 { throw .ambiguous(target: target.typed, candidates: Candidate.described(distinct)) }
        if let only = distinct.first { return try only.outcome.get() }
        let names = Dictionary(containers.map { ($0.id, $0.isInfra ? "pod \($0.podName ?? $0.name)" : $0.name) }, uniquingKeysWith: { a, _ in a })
        // Newest first: the error names at most ten, and the one just started is the likeliest meant.
        let newestFirst = processes.sorted { ($0.identity.startTicks, -Int64($0.pid)) > ($1.identity.startTicks, -Int64($1.pid)) }
        throw .notFound(target: target.typed, known: newestFirst.map { p in
            guard let id = p.containerID else { return "pid \(p.pid)" }
            return "\(names[id] ?? Format.shortID(id)) (pid \(p.pid))"
        })
    }

    /// The slirp4netns of the rootless network `container` is attached to (a rootless user's container on
    /// a Podman network): the one process of the container's owner that serves that user's rootless
    /// network namespace. Nil when the container is not on one or none runs; several: ambiguous.
    static func rootlessNetwork(of container: PodmanContainer, among processes: [SlirpProcess],
                                containers: [PodmanContainer]) throws(Failure) -> SlirpProcess? {
        let uid = container.ownerUID
        guard RootlessNetwork.attached(containers, uid: uid).contains(where: { $0.id == container.id }) else { return nil }
        let serving = processes.filter { $0.uid == uid && !$0.isZombie && RootlessNetwork.claimed(by: $0) != nil }
        if serving.count > 1 {
            throw .ambiguous(target: container.name, candidates: serving.map { "pid:\($0.pid) (slirp4netns pid \($0.pid), rootless network of \(container.ownerName ?? "uid \(uid)"))" })
        }
        return serving.first
    }

    /// The one container `target` names among every owner's `containers`, running or not (for
    /// `doctor CONTAINER`, which examines a container that may never have started); nil when none does.
    ///
    /// The rules of `resolve` for containers: a name, an ID or unique ID prefix, or `name:NAME`,
    /// `id:PREFIX`; a target that names two containers (a name and the start of another's ID, or a
    /// name two owners use) names neither, so root's `doctor web` never takes a user's "web", nor a
    /// user's root's. `pid:` and `pod:` are refused: the doctor examines a container's options.
    public static func container(_ target: String, among containers: [PodmanContainer]) throws(Failure) -> PodmanContainer? {
        let parsed = try Target(parsing: target)
        if let kind = parsed.kind, kind == .pid || kind == .pod {
            throw .invalidForm(target: parsed.typed, reason: "the doctor examines a container: give its name or ID (name:NAME, id:PREFIX), not \(kind.rawValue):")
        }
        var seen = Set<String>()
        let found = Lookup(processes: [], containers: containers, instances: false, serves: { _, _ in false }).containerCandidates(for: parsed)
            .filter { seen.insert($0.container?.id ?? "").inserted }
        if found.count > 1 { throw .ambiguous(target: parsed.typed, candidates: Candidate.described(found)) }
        return found.first?.container
    }

    /// True for a non-empty lower-case hexadecimal string (what a container ID prefix can be).
    static func isHex(_ lower: String) -> Bool {
        !lower.isEmpty && lower.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
