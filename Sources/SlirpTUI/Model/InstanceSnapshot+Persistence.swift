import SlirpCore

extension InstanceSnapshot {
    /// Live forwards that Podman's configuration (`-p`) does not have: lost when the container restarts.
    /// Empty for an instance Podman did not start.
    public func unpersisted(_ forwards: [HostForward]) -> [HostForward] {
        container?.unpersisted(forwards) ?? []
    }

    /// The steps that make the live-only forwards permanent (`PersistPlan`), each as the
    /// container's owner runs it; nil when nothing needs persisting.
    public func persistPlan(for forwards: [HostForward]) -> PersistPlan? {
        container.flatMap { PersistPlan(container: $0, members: podMembers, forwards: forwards, acting: acting) }
    }
}

extension AppState {
    /// Lines under the forwards table of the selected container's instance: Podman's `-p`
    /// ports, and the steps that make live-only forwards permanent (wrapped to `width`). The steps
    /// take at most `persistLinesShown` lines; a step that does not fit is never shown cut short
    /// without a line that says where the whole of it is (`slirpmon show PID`).
    public func forwardsNotes(width: Int) -> [String] {
        if let kit = selectedRow?.snapshot.rootlessKit { return portsNotes(kit, width: width) }
        guard let row = selectedRow, let container = row.snapshot.container, let list = selectedForwards?.forwards else { return [] }
        var notes = ["Podman's ports: " + (container.ports.isEmpty ? "none (-p)" : container.ports.map { "-p " + $0.flag }.joined(separator: " "))]
        let extra = row.snapshot.unpersisted(list)
        guard !extra.isEmpty else { return notes }
        let what = extra.count == 1 ? "1 forward is" : "\(extra.count) forwards are"
        guard let plan = row.snapshot.persistPlan(for: list) else { return notes }
        guard !plan.steps.isEmpty else {
            return notes + Format.wrap("\(what) live only (not persisted: lost when the container restarts); to make permanent: \(plan.consequence)",
                                       width: max(10, width))
        }
        notes += Format.wrap("\(what) live only (not persisted: lost when the container restarts); to make permanent, run these steps (\(plan.consequence)):",
                             width: max(10, width))
        let steps = plan.steps.flatMap { Format.wrap($0, width: max(10, width - 2)).map { "  " + $0 } }
        guard steps.count > Self.persistLinesShown else { return notes + steps }
        return notes + steps.prefix(Self.persistLinesShown - 1)
            + Format.wrap("… \(steps.count - Self.persistLinesShown + 1) more lines: `slirpmon show \(row.snapshot.pid)` prints all \(plan.steps.count) steps",
                          width: max(10, width))
    }

    /// Lines under a RootlessKit instance's ports: why Docker's containers could not be named, and
    /// for each port added live to a container the `docker run -p` argument that keeps it (a live
    /// port ends with RootlessKit; a published one lives with its container).
    func portsNotes(_ kit: RootlessKitParent, width: Int) -> [String] {
        guard let entry = selectedForwards, let ports = entry.ports else { return [] }
        var notes: [String] = []
        if let problem = entry.dockerProblem {
            notes += Format.wrap("Docker's containers not named: " + problem, width: max(10, width))
        }
        let live = ports.compactMap { port in port.publishArgument.map { (port, $0) } }
        guard !live.isEmpty else { return notes }
        notes.append(live.count == 1 ? "1 port is live only (gone when RootlessKit restarts); the docker run -p that keeps it:"
                                     : "\(live.count) ports are live only (gone when RootlessKit restarts); the docker run -p that keeps each:")
        let lines = live.flatMap { port, argument in
            Format.wrap("port \(port.id) (\(port.container?.name ?? "?")): docker run -p \(argument) ...", width: max(10, width - 2)).map { "  " + $0 }
        }
        guard lines.count > Self.persistLinesShown else { return notes + lines }
        return notes + lines.prefix(Self.persistLinesShown - 1) + ["… \(lines.count - Self.persistLinesShown + 1) more lines: `slirpmon fwd list \(kit.pid)`"]
    }

    /// The most lines the persist steps take under the forwards table, so the forwards stay in view.
    static let persistLinesShown = 8

    /// Forward rows that fit in the pane beside the table header, the notes and the footer.
    func forwardRowsVisible(paneHeight: Int) -> Int {
        max(1, paneHeight - 2 - forwardsNotes(width: size.width).count - probeLines(width: size.width).count)
    }
}
