import SlirpCore

/// The labels that identify an instance in every series of it: bounded by what runs (one set per
/// process), never per forward.
///
/// - `pid`: the slirp4netns process.
/// - `user`: its owner's name (uid when the name is unknown; empty when the owner is unknown).
/// - `container`: the Podman container it serves (for a pod: its infra container), once proven
///   (`ContainerJoin`); empty otherwise. A join cannot change while the process runs: when its
///   user's Podman cannot be asked, the one proven on an earlier page (`InventoryCache.provenContainer`)
///   is used, so the series stay the same and the alerts' `for:` is not reset.
/// - `pod`: the pod's name, for a pod's infra container.
/// - `kind`: `container`, `pod`, `rootless_network` (a rootless user's Podman networks),
///   `rootlesskit` (Docker rootless and other RootlessKit users) or `manual` (started by hand).
///
/// Values are as read (a user names their containers): the exposition escapes them (backslash,
/// double quote, newline), nothing else is changed.
struct InstanceLabels: Equatable {
    let pid: String
    let user: String
    let container: String
    let pod: String
    let kind: String

    static let names = ["pid", "user", "container", "pod", "kind"]

    /// `proven`: the container proven on an earlier page, for an instance Podman could not be asked about this time.
    init(_ instance: SlirpInstance, proven: InventoryCache.ProvenContainer? = nil) {
        let p = instance.process
        pid = String(p.pid)
        user = p.user ?? p.uid.map(String.init) ?? ""
        let proven = instance.container == nil ? proven : nil
        container = instance.container?.name ?? proven?.name ?? ""
        pod = instance.container?.podName ?? proven?.podName ?? ""
        kind = proven.map { $0.isInfra ? "pod" : "container" } ?? Self.kind(instance)
    }

    static func kind(_ instance: SlirpInstance) -> String {
        if instance.rootlessNetwork != nil { return "rootless_network" }
        if let container = instance.container { return container.isInfra ? "pod" : "container" }
        if instance.rootlessKit != nil { return "rootlesskit" }
        // Files that name a container Podman did not confirm (not asked, or not proven its): still Podman's.
        return instance.process.containerID != nil ? "container" : "manual"
    }

    /// The labels in `names`' order, then `extra`.
    func pairs(_ extra: [(String, String)] = []) -> [(String, String)] {
        [("pid", pid), ("user", user), ("container", container), ("pod", pod), ("kind", kind)] + extra
    }
}
