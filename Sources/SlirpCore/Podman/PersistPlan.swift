/// The commands that make live-only forwards permanent, in order, as the operator pastes them.
///
/// Podman keeps a container's published ports only in how it was created: no command adds a `-p`
/// to an existing container or pod. So the container is removed (`podman rm -f NAME`) and created
/// again with its create command (`Config.CreateCommand`) and the forwards added as `-p` flags.
///
/// A pod's ports are its infra container's, and Podman refuses to remove an infra container alone
/// (exit 125: it "cannot be removed without removing the pod"). So for a pod the steps are
/// `podman pod rm -f POD` (which removes its members too), the pod's create command with all its
/// `-p` and the forwards, then each member's own create command, oldest first (`podman ps
/// --sort created`, as `PodmanCLI` lists them), each written to leave it as it is (`RecreateCommand`: a running one detached,
/// a stopped one created, not started). A member whose create command Podman did not keep gets a comment line in its
/// place, never an invented command; one created by the pod's own create command (`podman run
/// --pod new:POD ...` made both) is not created twice.
///
/// A create command that takes no `-p` (`podman kube play FILE`: the ports are the YAML's hostPort)
/// or none at all (a container made through Podman's API) gives no steps, only what to do instead:
/// removing the pod first and then failing to create it again would lose more than the forward.
public struct PersistPlan: Sendable, Equatable {
    /// The shell lines to run in order, each word quoted for sh (`Shell`), each as the instance's owner
    /// runs it (`Acting.asOwner`); empty when no command can be written (`consequence` says why).
    public let steps: [String]
    /// The step that creates the container or pod with the forwards as `-p` flags; nil without steps.
    public let createStep: String?
    /// What running the steps does to the running containers, in words; without steps, why there
    /// are none and what to do instead.
    public let consequence: String
    /// Pod members the steps cannot create again: Podman kept no create command for them.
    public let membersWithoutCommand: [String]

    /// The plan for `container` (for a pod: its infra container, with the pod's `members`) to keep the
    /// forwards among `forwards` that no `-p` covers; nil when none needs keeping. `acting`: set when
    /// slirpmon runs as another user than the owner.
    public init?(container: PodmanContainer, members: [PodmanContainer], forwards: [HostForward], acting: Acting?) {
        let extra = container.unpersisted(forwards)
        guard !extra.isEmpty else { return nil }
        let flags = extra.flatMap { ["-p", "\($0.hostAddr == "0.0.0.0" ? "" : $0.hostAddr + ":")\($0.hostPort):\($0.guestPort)/\($0.proto.rawValue)"] }
        let what = container.isInfra ? "pod \(container.podName ?? container.name)" : "container \(container.name)"
        // The container (or, for a pod made by `podman run --pod new:POD`, that member) runs: its
        // step runs it detached, never in the foreground of the steps.
        let running = members.first { $0.createCommand == container.createCommand }.map(Self.isRunning) ?? true
        guard let create = Self.publishing(flags, in: RecreateCommand.leaving(container.createCommand, running: running)) else {
            steps = []
            createStep = nil
            membersWithoutCommand = []
            consequence = container.createCommand.isEmpty
                ? "Podman kept no create command for \(what) (made through its API?): add \(Shell.command(flags)) where it is made"
                : "\(what) was made by `\(Shell.command(container.createCommand))`, which takes no -p: add the ports where it is defined (a YAML's hostPort), then make it again"
            return
        }
        let asOwner = { (command: String) in acting.map { $0.asOwner(command) } ?? command }
        let createStep = asOwner(Shell.command(create))
        self.createStep = createStep
        guard container.isInfra else {
            steps = [asOwner(Shell.command(["podman", "rm", "-f", container.name])), createStep]
            consequence = "they stop container \(container.name) and create it again: what it wrote outside its volumes is lost"
            membersWithoutCommand = []
            return
        }
        let pod = container.podName ?? container.podID ?? container.name
        var steps = [asOwner(Shell.command(["podman", "pod", "rm", "-f", pod])), createStep]
        var unknown: [String] = []
        // Members are the pod owner's only (`Inventory.members`); another user's claim is no step of root's.
        let members = members.filter { $0.ownerUID == container.ownerUID }
        for member in members where member.createCommand != container.createCommand {
            if member.createCommand.isEmpty {
                unknown.append(member.name)
                steps.append(Shell.comment("\(member.name): Podman kept no create command for it: create it again by hand, with --pod \(pod)"))
            } else {
                let again = RecreateCommand.leaving(member.createCommand, running: Self.isRunning(member))
                steps.append(asOwner(Shell.command(Self.joiningByName(again, pod: pod, podID: container.podID))))
            }
        }
        self.steps = steps
        membersWithoutCommand = unknown
        let names = members.map(\.name)
        var words = "they stop pod \(pod) and create it again"
            + (names.isEmpty ? "" : " with its member\(names.count == 1 ? "" : "s") \(names.joined(separator: ", "))")
            + ": what its containers wrote outside their volumes is lost"
        if !unknown.isEmpty {
            words += "; Podman kept no create command for \(unknown.joined(separator: ", ")): the steps do not create \(unknown.count == 1 ? "it" : "them") again"
        }
        consequence = words
    }

    /// True when `container` runs (or is paused): its step runs it again, detached; otherwise its
    /// step only creates it (`RecreateCommand`).
    static func isRunning(_ container: PodmanContainer) -> Bool { container.isRunning || container.state == "paused" }

    /// `command` with `flags` right after its `run` or `create` (`podman run`, `podman container
    /// create`, `podman pod create`, `podman run --pod new:POD`); nil when it is empty or its first
    /// subcommand word is `kube` or `play` (`podman kube play`, `play kube`: no `-p`).
    static func publishing(_ flags: [String], in command: [String]) -> [String]? {
        guard let at = command.dropFirst().firstIndex(where: { ["run", "create", "kube", "play"].contains($0) }),
              command[at] == "run" || command[at] == "create" else { return nil }
        var words = command
        words.insert(contentsOf: flags, at: at + 1)
        return words
    }

    /// `command` with a `--pod` given as the pod's ID (or an ID prefix) naming the pod instead: the
    /// pod created again has a new ID, and only its name still finds it.
    static func joiningByName(_ command: [String], pod: String, podID: String?) -> [String] {
        guard let podID else { return command }
        func isOldID(_ value: String) -> Bool { !value.isEmpty && value != pod && podID.hasPrefix(value) }
        var words = command
        for i in words.indices {
            if words[i] == "--pod", i + 1 < words.count {
                if isOldID(words[i + 1]) { words[i + 1] = pod }
                return words
            }
            if words[i].hasPrefix("--pod=") {
                if isOldID(String(words[i].dropFirst("--pod=".count))) { words[i] = "--pod=" + pod }
                return words
            }
        }
        return words
    }
}
