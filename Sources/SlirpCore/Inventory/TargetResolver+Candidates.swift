extension TargetResolver {
    /// One thing a TARGET names: what it is, whose, the explicit form that names it alone, and the
    /// instance it leads to (or why none).
    struct Candidate {
        /// "container web (abc123456789)", "slirp4netns pid 24963", "pod web".
        let what: String
        let owner: String
        /// The explicit form of its kind (`name:web`), and one that names it alone when another
        /// candidate has the same (`id:SHORTID`, `pid:N`).
        let form: String
        let narrowForm: String
        /// What choosing it leads to, in words ("slirp4netns pid 32302"); empty when `what` says it.
        let leadsTo: String
        let outcome: Result<SlirpProcess, Failure>
        /// The Podman container it is (names, ID prefixes and pods).
        let container: PodmanContainer?

        /// What it leads to: a process, or a container without one. Candidates with one answer are one.
        var answer: String {
            switch outcome {
            case .success(let process): "process \(process.identity)"
            case .failure(let failure): container.map { "container \($0.id)" } ?? "failure \(failure)"
            }
        }

        /// "name:24963 (container 24963 (6128ef1a98b1) of root, slirp4netns pid 32302)", each with a
        /// form that names it alone.
        static func described(_ candidates: [Candidate]) -> [String] {
            let uses = Dictionary(candidates.map { ($0.form, 1) }, uniquingKeysWith: +)
            return candidates.map { c in
                "\(uses[c.form, default: 0] > 1 ? c.narrowForm : c.form) (\(c.what) of \(c.owner)\(c.leadsTo.isEmpty ? "" : ", " + c.leadsTo))"
            }
        }
    }

    /// Every thing a TARGET may name among the host's slirp4netns processes and Podman's containers.
    struct Lookup {
        let processes: [SlirpProcess]
        let containers: [PodmanContainer]
        let serves: (SlirpProcess, PodmanContainer) -> Bool
        let known: [String: PodmanContainer]
        /// False for the doctor's containers, which it examines whether or not a slirp4netns runs.
        let instances: Bool

        init(processes: [SlirpProcess], containers: [PodmanContainer], instances: Bool = true,
             serves: @escaping (SlirpProcess, PodmanContainer) -> Bool) {
            self.processes = processes
            self.instances = instances
            self.containers = containers
            self.serves = serves
            known = Dictionary(containers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }

        /// In the order: the process with that PID, the containers with that name, the pods with that
        /// name, the containers whose ID starts with it, and the processes that claim such an ID that
        /// no container known to Podman has (a process started by hand, or one whose user's Podman
        /// could not be asked).
        func candidates(for target: Target) -> [Candidate] {
            var found: [Candidate] = []
            if let pid = target.pid, let process = processes.first(where: { $0.pid == pid }) {
                found.append(Candidate(what: "slirp4netns pid \(pid)", owner: owner(process), form: "pid:\(pid)", narrowForm: "pid:\(pid)",
                                       leadsTo: origin(process), outcome: .success(process), container: nil))
            }
            found += containerCandidates(for: target, podsToo: true)
            if let prefix = target.idPrefix {
                for process in processes {
                    guard let id = process.containerID, id.hasPrefix(prefix), known[id] == nil else { continue }
                    found.append(Candidate(what: "slirp4netns pid \(process.pid)", owner: owner(process), form: idForm(id), narrowForm: "pid:\(process.pid)",
                                           leadsTo: "its files claim container \(Format.shortID(id)), which Podman did not report",
                                           outcome: .success(process), container: nil))
                }
            }
            return found
        }

        /// The containers `target` names: by name, (with `podsToo`) as a pod's infra container by the
        /// pod's name (or, for `pod:`, its ID prefix), and by ID prefix.
        func containerCandidates(for target: Target, podsToo: Bool = false) -> [Candidate] {
            var found: [Candidate] = []
            if target.allows(.name) {
                for c in containers where c.name == target.value {
                    found.append(candidate(c, form: "name:\(c.name)"))
                }
            }
            if podsToo, target.allows(.pod) {
                let podID = target.kind == .pod && isHex(target.value.lowercased()) ? target.value.lowercased() : nil
                for c in containers where c.isInfra && (c.podName == target.value || podID.map { c.podID?.hasPrefix($0) == true } == true) {
                    let pod = c.podName ?? Format.shortID(c.podID ?? c.id)
                    found.append(candidate(c, what: "pod \(pod)", form: "pod:\(pod)"))
                }
            }
            if let prefix = target.idPrefix {
                for c in containers where c.id.hasPrefix(prefix) {
                    found.append(candidate(c, form: idForm(c.id)))
                }
            }
            return found
        }

        /// A container as a candidate, with the instance its network comes from.
        func candidate(_ c: PodmanContainer, what: String? = nil, form: String) -> Candidate {
            let outcome = instance(of: c)
            let leadsTo = switch outcome {
            case .success(let process): "slirp4netns pid \(process.pid)"
            case .failure(.notRunning(_, let state, _)): instances ? "state \(state), no slirp4netns running" : "state \(state)"
            case .failure(let failure): failure.description
            }
            let described = c.isInfra ? "infra container \(c.name) (\(c.shortID)) of pod \(c.podName ?? "?")" : "container \(c.name) (\(c.shortID))"
            return Candidate(what: what ?? described, owner: c.ownerName ?? "uid \(c.ownerUID)", form: form, narrowForm: idForm(c.id),
                             leadsTo: leadsTo, outcome: outcome, container: c)
        }

        /// The slirp4netns of the container, of the network it joins, or of its pod's infra container.
        /// A pod member is not always inspected as `container:<infra ID>` (a member just started under
        /// load came back otherwise, and `show member` failed while `list` showed the pod with it), so
        /// the pod's infra is tried as well.
        func instance(of container: PodmanContainer) -> Result<SlirpProcess, Failure> {
            // A pod or a shared network is the container's own user's: another user's Podman may claim any pod ID.
            let infra = container.isInfra ? nil : container.podID.flatMap { pod in
                containers.first { $0.isInfra && $0.podID == pod && $0.ownerUID == container.ownerUID }?.id
            }
            for owner in [container.sharedNetworkContainerID, infra, container.id].compactMap({ $0 }) {
                if let served = known[owner], served.ownerUID == container.ownerUID,
                   let match = processes.first(where: { $0.containerID == owner && !$0.isZombie && serves($0, served) }) {
                    return .success(match)
                }
            }
            do throws(Failure) {
                if let network = try rootlessNetwork(of: container, among: processes, containers: containers) { return .success(network) }
            } catch {
                return .failure(error)
            }
            // The doctor's TARGET for it: its name when no other container has that name or an ID
            // starting with it (the doctor refuses a name that names two), else its ID form.
            let named = !containers.contains { $0.id != container.id && ($0.name == container.name || $0.id.hasPrefix(container.name)) }
            return .failure(.notRunning(target: container.name, state: container.state, doctor: named ? container.name : idForm(container.id)))
        }

        /// `id:` and the shortest of 12 characters or the whole ID that no other container or claim shares.
        func idForm(_ id: String) -> String {
            let short = Format.shortID(id)
            let shared = containers.contains { $0.id != id && $0.id.hasPrefix(short) }
                || processes.contains { $0.containerID.map { $0 != id && $0.hasPrefix(short) } ?? false }
            return "id:" + (shared ? id : short)
        }

        func owner(_ process: SlirpProcess) -> String { process.user ?? process.uid.map { "uid \($0)" } ?? "an unknown user" }

        /// Where a process named by its PID comes from, in words.
        func origin(_ process: SlirpProcess) -> String {
            if let id = process.containerID {
                if let c = known[id], serves(process, c) { return c.isInfra ? "of pod \(c.podName ?? c.name)" : "of container \(c.name)" }
                return "its files claim container \(Format.shortID(id))"
            }
            return RootlessNetwork.claimed(by: process) == nil ? "started by hand" : "a rootless network"
        }
    }
}
