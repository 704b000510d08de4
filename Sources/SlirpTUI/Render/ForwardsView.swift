import SlirpCore

/// The live `list_hostfwd` table of the selected instance (for a RootlessKit instance, its API's
/// `GET /v1/ports` with Docker's containers), or why there is none.
enum ForwardsView {
    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let height = layout.paneHeight
        guard height > 0 else { return }
        let w = screen.width
        var lines: [Line] = []
        /// The forward drawn on each line that shows one (a click there selects it).
        var forwardOnLine: [Int: Int] = [:]
        defer {
            for (i, line) in lines.prefix(height).enumerated() {
                screen.draw(line, x: 0, y: layout.paneTop + i, width: w)
                if let forward = forwardOnLine[i] { screen.mark(.forward(forward), row: layout.paneTop + i) }
            }
        }
        guard let row = state.selectedRow else {
            lines.append([Span(state.loaded ? "no instance selected" : "waiting for the first scan...", .dim)])
            return
        }
        if let blocker = state.addBlocker {
            let text = "Forwards cannot be listed or added: " + blocker
            lines += Format.wrap(text, width: w).map { [Span($0, .warning)] }
            configured(state, row.snapshot.configuredPorts, width: w, height: height, lines: &lines, forwardOnLine: &forwardOnLine)
            return
        }
        let entry = state.forwards[row.snapshot.identity]
        if let request = state.unanswered[row.snapshot.identity] {
            lines += Format.wrap(request.waiting, width: w).map { [Span($0, .warning)] }
        }
        if let kit = row.snapshot.rootlessKit {
            ports(state, kit: kit, entry: entry, width: w, height: height, lines: &lines, forwardOnLine: &forwardOnLine)
            return
        }
        guard let forwards = listed(entry?.forwards, entry: entry, failed: "list_hostfwd failed: ", waiting: "asking the API socket (list_hostfwd), waiting...",
                                    empty: "No forwards added through the API socket.", readOnly: state.readOnly, width: w, lines: &lines) else { return }
        // Columns of fixed width; when those would cut the guest address and port at the right
        // edge, ID and HOST as wide as their widest value and the protocol after the guest port
        // (`10.0.2.100:80/tcp`, as Podman writes a mapping).
        let hostTexts = forwards.map { "\($0.hostAddr):\($0.hostPort)" }
        let guestWidest = forwards.map { TextWidth.of("\($0.guestAddr):\($0.guestPort)") }.max() ?? 0
        let narrow = 5 + 1 + 5 + 1 + 22 + 4 + guestWidest > w
        let idW = narrow ? max(2, forwards.map { String($0.id).count }.max() ?? 2) : 5
        let hostW = narrow ? max(4, hostTexts.map { TextWidth.of($0) }.max() ?? 4) : 22
        let fixedW = narrow ? idW + 1 + hostW + 4 + guestWidest + 4 : idW + 1 + 5 + hostW + 18
        let extra = row.snapshot.unpersisted(forwards)
        let titles = "ID".padded(to: idW, right: true) + " " + (narrow ? "" : "PROTO ") + "HOST".padded(to: hostW) + "    GUEST"
        lines.append([Span(row.snapshot.container == nil ? titles : titles.padded(to: fixedW + 1) + "PODMAN", .columnHeader)])
        let visible = state.forwardRowsVisible(paneHeight: height)
        let index = min(max(0, state.forwardIndex), forwards.count - 1)
        let top = max(0, index - visible + 1)
        for i in top..<min(forwards.count, top + visible) {
            let forward = forwards[i]
            let text = String(forward.id).padded(to: idW, right: true) + " " + (narrow ? "" : forward.proto.rawValue.padded(to: 5) + " ")
                + "\(forward.hostAddr):\(forward.hostPort)".padded(to: hostW) + " -> \(forward.guestAddr):\(forward.guestPort)"
                + (narrow ? "/" + forward.proto.rawValue : "")
            let selected = i == index
            forwardOnLine[lines.count] = i
            let role: Role = selected ? (state.focus == .pane ? .selection : .selectionUnfocused) : .normal
            if row.snapshot.container == nil {
                lines.append([Span(text.padded(to: w), role)])
            } else {
                // Beside Podman's configured ports: a live-only forward is lost on restart.
                let live = extra.contains(forward)
                let mark = (live ? "not persisted" : "-p configured")
                let padded = text.padded(to: max(0, fixedW)) + " "
                lines.append([Span(padded, role), Span(mark.padded(to: max(0, w - TextWidth.of(padded))), selected ? role : (live ? .warning : .dim))])
            }
        }
        for (i, note) in state.forwardsNotes(width: w).enumerated() {
            lines.append([Span(note, i == 0 ? .dim : (note.hasPrefix("  ") ? .header : .warning))])
        }
        probeLines(state, width: w, into: &lines)
        lines.append([Span("list_hostfwd shows only forwards added through the API; each listing is logged by slirp4netns", .dim)])
    }

    /// The list when there is a table to draw; else nil, with the lines that say why not: the listing
    /// failed, is awaited, or is empty. (A failed refresh of a list already shown is said above it.)
    static func listed<Item>(_ list: [Item]?, entry: ForwardsEntry?, failed: String, waiting: String, empty: String, readOnly: Bool,
                             width: Int, lines: inout [Line]) -> [Item]? {
        guard let list else {
            if let error = entry?.error {
                lines += Format.wrap(failed + error, width: width).map { [Span($0, .error)] }
            } else {
                lines.append([Span(waiting, .dim)])
            }
            return nil
        }
        if let error = entry?.error {
            lines.append([Span("last refresh failed: " + error, .error)])
        }
        guard list.isEmpty else { return list }
        lines.append([Span(empty, .dim)])
        if !readOnly { lines.append([Span("Press a (F7) to add one.", .dim)]) }
        return nil
    }

    /// A RootlessKit instance's ports: ID, PROTO, HOST (`*` for all addresses), GUEST (childIP, or
    /// the child's own), and under Docker rootless the CONTAINER and ORIGIN (published with -p, or live).
    static func ports(_ state: AppState, kit: RootlessKitParent, entry: ForwardsEntry?, width w: Int, height: Int,
                      lines: inout [Line], forwardOnLine: inout [Int: Int]) {
        let source = "rootlesskit pid \(kit.pid), port driver \(kit.portDriver)"
        guard let ports = listed(entry?.ports, entry: entry, failed: "listing RootlessKit's ports (GET /v1/ports) failed: ",
                                 waiting: "asking RootlessKit's API (GET /v1/ports, \(source)), waiting...", empty: "No ports: RootlessKit (\(source)) forwards none.",
                                 readOnly: state.readOnly, width: w, lines: &lines) else { return }
        let hosts = ports.map { Format.hostPort($0.spec.parentIP ?? "*", $0.spec.parentPort) }
        let guests = ports.map { port -> String in
            guard let ip = port.spec.childIP else { return ":\(port.spec.childPort)" }
            return Format.hostPort(ip, port.spec.childPort)
        }
        let docker = kit.child?.kind == .docker
        let idW = max(2, ports.map { String($0.id).count }.max() ?? 2)
        let hostW = max(4, hosts.map { TextWidth.of($0) }.max() ?? 4)
        let guestW = max(5, guests.map { TextWidth.of($0) }.max() ?? 5)
        let containers = ports.map { $0.container.map { $0.name ?? "? (\($0.address))" } ?? "-" }
        let containerW = max(9, containers.map { TextWidth.of($0) }.max() ?? 9)
        var titles = "ID".padded(to: idW, right: true) + " " + "PROTO".padded(to: 5) + " " + "HOST".padded(to: hostW) + "    " + "GUEST".padded(to: guestW)
        if docker { titles += "  " + "CONTAINER".padded(to: containerW) + "  ORIGIN" }
        lines.append([Span(titles, .columnHeader)])
        let visible = state.forwardRowsVisible(paneHeight: height)
        let index = min(max(0, state.forwardIndex), ports.count - 1)
        let top = max(0, index - visible + 1)
        for i in top..<min(ports.count, top + visible) {
            let port = ports[i]
            let id = String(port.id).padded(to: idW, right: true)
            let host: String = hosts[i].padded(to: hostW)
            var text: String = id + " " + port.spec.proto.padded(to: 5) + " " + host
            text += " -> " + guests[i].padded(to: guestW)
            if docker { text += "  " + containers[i].padded(to: containerW) + "  " + port.origin.rawValue }
            forwardOnLine[lines.count] = i
            let role: Role = i == index ? (state.focus == .pane ? .selection : .selectionUnfocused) : .normal
            lines.append([Span(text.padded(to: w), role)])
        }
        for (i, note) in state.forwardsNotes(width: w).enumerated() {
            lines.append([Span(note, note.hasPrefix("  ") ? .header : (i == 0 && entry?.dockerProblem != nil ? .warning : .dim))])
        }
        probeLines(state, width: w, into: &lines)
        lines.append([Span("GET /v1/ports of \(source); ports added on slirp4netns's own socket are not RootlessKit's and not listed", .dim)])
    }

    /// The last probe of the selected instance (`p`): the verdict line coloured by the verdict, then what was seen.
    static func probeLines(_ state: AppState, width: Int, into lines: inout [Line]) {
        let texts = state.probeLines(width: width)
        let works = state.probe?.report?.verdict == .works
        for (i, text) in texts.enumerated() {
            lines.append([Span(text, i > 0 ? .dim : (state.probe?.report == nil ? .dim : (works ? .header : .warning)))])
        }
    }

    /// The `-p` ports rootlessport carries for a container without an API socket, selectable for a
    /// probe (`p`); they cannot be changed live.
    static func configured(_ state: AppState, _ ports: [ProbeForward], width w: Int, height: Int, lines: inout [Line], forwardOnLine: inout [Int: Int]) {
        guard !ports.isEmpty else { return }
        lines.append([Span("Ports rootlessport carries (-p; p probes the selected one):", .dim)])
        let visible = max(1, height - lines.count - 2 - state.probeLines(width: w).count)
        let index = min(max(0, state.forwardIndex), ports.count - 1)
        let top = max(0, index - visible + 1)
        for i in top..<min(ports.count, top + visible) {
            forwardOnLine[lines.count] = i
            let role: Role = i == index ? (state.focus == .pane ? .selection : .selectionUnfocused) : .normal
            lines.append([Span(("  " + ports[i].summary).padded(to: w), role)])
        }
        probeLines(state, width: w, into: &lines)
    }
}
