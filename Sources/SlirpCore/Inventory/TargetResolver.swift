/// Turns an operator's TARGET (a PID, a container or pod name, a container ID or a unique
/// ID prefix) into one slirp4netns process.
public enum TargetResolver {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notFound(target: String, known: [String])
        case ambiguous(target: String, candidates: [String])
        /// The container exists but has no live slirp4netns.
        case notRunning(target: String, state: String)
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
                "\(goQuoted(abbreviated(target))) matches several instances, give more of the ID: \(Self.some(candidates))"
            case .notRunning(let target, let state):
                "container \(goQuoted(abbreviated(target))) has no running slirp4netns (state \(state)); `\(Shell.command(["slirpmon", "doctor", target]))` explains why"
            case .cannotScan(let why):
                "cannot scan /proc: \(why)"
            case .podmanFailed(let failure, let podman):
                "\(failure) (\(podman.joined(separator: "; ")))"
            }
        }

        /// The first ten of `names` (newest first) and how many more: an error stays one readable line with 100 instances.
        static func some(_ names: [String]) -> String {
            names.count <= 10 ? names.joined(separator: ", ") : names.prefix(10).joined(separator: ", ") + " and \(names.count - 10) more (slirpmon list)"
        }
    }

    /// Finds the process `target` names among `processes`; `containers` (from Podman) add names and pods.
    ///
    /// A process is taken for a container only when `serves` proves it (`ContainerJoin`: its owner and
    /// network namespace are the container's), never by the ID its file names claim: a user's process
    /// named after root's container is not root's container. A claimed ID no container in `containers`
    /// has (a process started by hand, or one whose user's Podman could not be asked) still names it.
    public static func resolve(_ target: String, among processes: [SlirpProcess], containers: [PodmanContainer] = [],
                               serves: (SlirpProcess, PodmanContainer) -> Bool = { ContainerJoin.check($0, serves: $1) == .joined }) throws(Failure) -> SlirpProcess {
        let trimmed = target.trimmingSpaces
        if let pid = Int32(trimmed), let match = processes.first(where: { $0.pid == pid }) { return match }
        let known = Dictionary(containers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        /// True when `process` may be taken for the container with `id`.
        func proven(_ process: SlirpProcess, _ id: String) -> Bool {
            guard process.containerID == id, !process.isZombie else { return false }
            return known[id].map { serves(process, $0) } ?? true
        }

        // A container or pod name: the slirp4netns of the container, of the network it joins, or of
        // its pod's infra container. A pod member is not always inspected as `container:<infra ID>`
        // (a member just started under load came back otherwise, and `show member` failed while
        // `list` showed the pod with it), so the pod's infra is tried as well.
        let named = containers.filter { $0.name == trimmed || ($0.isInfra && $0.podName == trimmed) }
        // Each user names their own containers: a name two owners use names neither (a user's
        // container named like root's must not take root's `fwd add NAME`, nor the other way round),
        // and neither does a name one owner gave that is the start of another owner's container ID
        // (a user's container named `3f2a9c` must not take root's `fwd add 3f2a9c`).
        try requireOneOwner(trimmed, named + idPrefixed(trimmed, among: containers))
        if let container = named.first {
            let infra = container.isInfra ? nil : container.podID.flatMap { pod in containers.first { $0.isInfra && $0.podID == pod }?.id }
            for owner in [container.sharedNetworkContainerID, infra, container.id].compactMap({ $0 }) {
                if known[owner] != nil, let match = processes.first(where: { proven($0, owner) }) { return match }
            }
            if let network = try rootlessNetwork(of: container, among: processes, containers: containers) { return network }
            throw .notRunning(target: trimmed, state: container.state)
        }

        let lower = trimmed.lowercased()
        if isHex(lower) {
            let matches = processes.filter { p in p.containerID.map { $0.hasPrefix(lower) && (known[$0] == nil || proven(p, $0)) } ?? false }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw .ambiguous(target: target, candidates: matches.map { "\(Format.shortID($0.containerID ?? "")) (pid \($0.pid))" })
            }
            if let container = containers.first(where: { $0.id.hasPrefix(lower) }) {
                throw .notRunning(target: container.name, state: container.state)
            }
        }
        let names = Dictionary(containers.map { ($0.id, $0.isInfra ? "pod \($0.podName ?? $0.name)" : $0.name) }, uniquingKeysWith: { a, _ in a })
        // Newest first: the error names at most ten, and the one just started is the likeliest meant.
        let newestFirst = processes.sorted { ($0.identity.startTicks, -Int64($0.pid)) > ($1.identity.startTicks, -Int64($1.pid)) }
        throw .notFound(target: target, known: newestFirst.map { p in
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
            throw .ambiguous(target: container.name, candidates: serving.map { "rootless network of \(container.ownerName ?? String(uid)) (pid \($0.pid))" })
        }
        return serving.first
    }

    /// The one container `target` names among every owner's `containers`, running or not (for
    /// `doctor CONTAINER`, which examines a container that may never have started); nil when none does.
    ///
    /// The rules of `resolve`: an exact name first, then a unique ID prefix; a target that names
    /// containers of two owners (the same name, or a name and the start of an ID) names neither,
    /// so root's `doctor web` never takes a user's "web", nor a user's root's.
    public static func container(_ target: String, among containers: [PodmanContainer]) throws(Failure) -> PodmanContainer? {
        let trimmed = target.trimmingSpaces
        let named = containers.filter { $0.name == trimmed }
        let prefixed = idPrefixed(trimmed, among: containers)
        try requireOneOwner(trimmed, named + prefixed)
        // One owner's names are unique, and Podman takes a name before an ID prefix.
        if let container = named.first { return container }
        if prefixed.count > 1 { throw .ambiguous(target: trimmed, candidates: prefixed.map(candidate)) }
        return prefixed.first
    }

    /// The containers whose ID starts with `target` (none unless it is hexadecimal).
    static func idPrefixed(_ target: String, among containers: [PodmanContainer]) -> [PodmanContainer] {
        let lower = target.lowercased()
        return isHex(lower) ? containers.filter { $0.id.hasPrefix(lower) } : []
    }

    /// Throws `ambiguous` when `matches` belong to more than one owner.
    static func requireOneOwner(_ target: String, _ matches: [PodmanContainer]) throws(Failure) {
        guard Set(matches.map(\.ownerUID)).count > 1 else { return }
        var seen = Set<String>()
        throw .ambiguous(target: target, candidates: matches.filter { seen.insert($0.id).inserted }.map(candidate))
    }

    /// "abc123000000 (container of root)": a candidate with its owner.
    static func candidate(_ container: PodmanContainer) -> String {
        "\(container.shortID) (\(container.isInfra ? "pod" : "container") of \(container.ownerName ?? "uid \(container.ownerUID)"))"
    }

    /// True for a non-empty lower-case hexadecimal string (what a container ID prefix can be).
    static func isHex(_ lower: String) -> Bool {
        !lower.isEmpty && lower.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
