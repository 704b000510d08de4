import SlirpCore

/// The live `list_hostfwd` table of the selected instance, or why there is none.
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
            return
        }
        let entry = state.forwards[row.snapshot.identity]
        if let request = state.unanswered[row.snapshot.identity] {
            let text = "\(request.summary): \(ForwardSession.sentNoAnswer), it may still be carried out; listed again every "
                + "\(Int(AppState.forwardsInterval)) s until pid \(row.snapshot.pid) answers"
            lines += Format.wrap(text, width: w).map { [Span($0, .warning)] }
        }
        guard let forwards = entry?.forwards else {
            if let error = entry?.error {
                lines += Format.wrap("list_hostfwd failed: " + error, width: w).map { [Span($0, .error)] }
            } else {
                lines.append([Span("asking the API socket (list_hostfwd), waiting...", .dim)])
            }
            return
        }
        if let error = entry?.error {
            lines.append([Span("last refresh failed: " + error, .error)])
        }
        if forwards.isEmpty {
            lines.append([Span("No forwards added through the API socket.", .dim)])
            if !state.readOnly { lines.append([Span("Press a (F7) to add one.", .dim)]) }
            return
        }
        let hostW = 22
        let extra = row.snapshot.unpersisted(forwards)
        let titles = "   ID PROTO " + "HOST".padded(to: hostW) + "    GUEST"
        lines.append([Span(row.snapshot.container == nil ? titles : titles.padded(to: 11 + hostW + 19) + "PODMAN", .columnHeader)])
        let visible = state.forwardRowsVisible(paneHeight: height)
        let index = min(max(0, state.forwardIndex), forwards.count - 1)
        let top = max(0, index - visible + 1)
        for i in top..<min(forwards.count, top + visible) {
            let forward = forwards[i]
            let text = String(forward.id).padded(to: 5, right: true) + " " + forward.proto.rawValue.padded(to: 5) + " "
                + "\(forward.hostAddr):\(forward.hostPort)".padded(to: hostW) + " -> \(forward.guestAddr):\(forward.guestPort)"
            let selected = i == index
            forwardOnLine[lines.count] = i
            let role: Role = selected ? (state.focus == .pane ? .selection : .selectionUnfocused) : .normal
            if row.snapshot.container == nil {
                lines.append([Span(text.padded(to: w), role)])
            } else {
                // Beside Podman's configured ports: a live-only forward is lost on restart.
                let live = extra.contains(forward)
                let mark = (live ? "not persisted" : "-p configured")
                let padded = text.padded(to: max(0, 11 + hostW + 18)) + " "
                lines.append([Span(padded, role), Span(mark.padded(to: max(0, w - TextWidth.of(padded))), selected ? role : (live ? .warning : .dim))])
            }
        }
        for (i, note) in state.forwardsNotes(width: w).enumerated() {
            lines.append([Span(note, i == 0 ? .dim : (note.hasPrefix("  ") ? .header : .warning))])
        }
        lines.append([Span("list_hostfwd shows only forwards added through the API; each listing is logged by slirp4netns", .dim)])
    }
}
