import SlirpCore

/// The Podman part of the details pane: container, pod, network options, ports and who carries them.
enum PodmanLines {
    /// Nothing for an instance Podman did not start (or did not report).
    static func container(_ s: InstanceSnapshot, width: Int) -> [Line] {
        if let network = s.rootlessNetwork { return rootlessNetwork(network, width: width) }
        guard let c = s.container else { return [] }
        var lines: [Line] = []
        let labelW = 8
        let textW = max(10, width - labelW)
        func add(_ label: String, _ text: String, _ role: Role = .normal) {
            for (i, piece) in Format.wrap(text, width: textW).enumerated() {
                lines.append([Span((i == 0 ? label : "").padded(to: labelW), .dim), Span(piece, role)])
            }
        }
        lines.append([Span("podman  ", .dim), Span(c.name, .header), Span(" (\(c.shortID))"),
                      Span("  image ", .dim), Span(c.image), Span("  state ", .dim),
                      Span(c.state, c.isRunning ? .ok : .warning), Span("  owner ", .dim), Span(c.ownerName ?? String(c.ownerUID))])
        if let acting = s.acting { add("acting", "\(acting.note); its Podman commands run as \(acting.ownerWord)", .warning) }
        if c.isInfra {
            let members = s.podMembers.map { "\($0.name) (\($0.state))" }
            add("pod", "\(c.podName ?? "?") (infra container \(c.name)), members: " + (members.isEmpty ? "none" : members.joined(separator: ", ")))
        } else if let pod = c.podName {
            add("pod", pod)
        }
        let options = c.networkOptions.isEmpty ? "slirp4netns (Podman's defaults)" : "slirp4netns:" + c.networkOptions.joined(separator: ",")
        add("network", options + "  port handler " + c.portHandler)
        add("ports", c.ports.isEmpty ? "none configured (-p)" : c.ports.map { "-p " + $0.flag }.joined(separator: " "))
        if c.portHandler != "slirp4netns" && !s.isDetached {
            let carriers = s.rootlessPorts.map { "\($0.isChild ? "rootlessport-child" : "rootlessport") pid \($0.pid)" }
            add("", "carried by " + (carriers.isEmpty ? "no rootlessport process found" : carriers.joined(separator: ", ")))
            add("", "live forwards need the slirp4netns API socket: create the container with --network slirp4netns:port_handler=slirp4netns and at least one -p", .dim)
        } else if c.portHandler == "slirp4netns" && c.ports.isEmpty && !s.isDetached {
            add("", "no -p: Podman made no API socket, so live forwards cannot be added", .dim)
        }
        return lines
    }

    /// A rootless user's shared Podman network: what it is, its bridges, each container on it.
    static func rootlessNetwork(_ network: RootlessNetwork, width: Int) -> [Line] {
        let labelW = 8
        let textW = max(10, width - labelW)
        var lines: [Line] = []
        for (label, text) in network.describedLines {
            for (i, piece) in Format.wrap(text, width: textW).enumerated() {
                lines.append([Span((i == 0 ? label : "").padded(to: labelW), .dim), Span(piece)])
            }
        }
        return lines
    }
}
