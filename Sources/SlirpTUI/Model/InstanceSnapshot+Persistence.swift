import SlirpCore

extension InstanceSnapshot {
    /// Live forwards that Podman's configuration (`-p`) does not have: lost when the container restarts.
    /// Empty for an instance Podman did not start.
    public func unpersisted(_ forwards: [HostForward]) -> [HostForward] {
        container?.unpersisted(forwards) ?? []
    }

    /// A `podman run` (or `pod create`) line with the live-only forwards as `-p` flags, run as the
    /// container's owner (`Acting.asOwner`); nil when nothing needs persisting.
    public func persistCommand(for forwards: [HostForward]) -> String? {
        container?.persistCommand(for: forwards).map(asOwner)
    }

    /// `command` as the instance's owner runs it (unchanged when the monitor runs as the owner).
    public func asOwner(_ command: String) -> String { acting.map { $0.asOwner(command) } ?? command }
}

extension AppState {
    /// Lines under the forwards table of the selected container's instance: Podman's `-p`
    /// ports, and the command that makes live-only forwards permanent (wrapped to `width`).
    public func forwardsNotes(width: Int) -> [String] {
        guard let row = selectedRow, let container = row.snapshot.container, let list = selectedForwards?.forwards else { return [] }
        var notes = ["Podman's ports: " + (container.ports.isEmpty ? "none (-p)" : container.ports.map { "-p " + $0.flag }.joined(separator: " "))]
        let extra = row.snapshot.unpersisted(list)
        guard !extra.isEmpty else { return notes }
        let what = extra.count == 1 ? "1 forward is" : "\(extra.count) forwards are"
        notes += Format.wrap("\(what) live only (not persisted: lost when the container restarts); to make permanent, after `\(row.snapshot.asOwner(container.removeCommand))`:",
                             width: max(10, width))
        if let command = row.snapshot.persistCommand(for: list) {
            notes += Array(Format.wrap(command, width: max(10, width - 2)).prefix(4)).map { "  " + $0 }
        }
        return notes
    }

    /// Forward rows that fit in the pane beside the table header, the notes and the footer.
    func forwardRowsVisible(paneHeight: Int) -> Int {
        max(1, paneHeight - 2 - forwardsNotes(width: size.width).count)
    }
}
