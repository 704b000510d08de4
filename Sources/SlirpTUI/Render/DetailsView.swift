import SlirpCore

/// The selected instance in words: process, netns, API socket, log, addresses, command line.
enum DetailsView {
    static func lines(_ state: AppState, width: Int) -> [Line] {
        guard let row = state.selectedRow else {
            return [[Span(state.loaded ? "no instance selected" : "waiting for the first scan...", .dim)]]
        }
        let s = row.snapshot
        var lines: [Line] = []
        var head: Line = [Span("PID ", .dim), Span("\(s.pid)", .header), Span(" state ", .dim),
                          Span(s.state + (s.isZombie ? " (zombie: exited, not reaped)" : ""), s.isZombie ? .error : .normal)]
        if row.isGone { head.append(Span("  gone: the process has exited", .error)) }
        head += [Span("  user ", .dim), Span(s.user ?? "?"), Span("  up ", .dim), Span(Format.duration(s.uptimeSeconds)),
                 Span("  RSS ", .dim), Span(Format.bytes(s.residentBytes)),
                 Span("  container ", .dim), Span(s.containerID.map { String($0.prefix(12)) } ?? "manual (not Podman)")]
        lines.append(head)
        lines.append([Span("netns   ", .dim), Span(s.netnsPath ?? "?"), Span("  tap ", .dim), Span(s.tapName)])
        if let socket = s.apiSocket {
            let held = s.socketStatus == "held"
            lines.append([Span("API     ", .dim), Span(socket), Span(": ", .dim),
                          Span(s.socketDescription ?? "not checked", held ? .ok : .warning)])
        } else {
            lines.append([Span("API     ", .dim), Span("none (started without --api-socket): forwards cannot be added", .dim)])
        }
        if let path = s.logPath {
            lines.append([Span("log     ", .dim), Span(path), Span(s.logDeleted ? " (deleted)" : "", .warning)])
        } else {
            lines.append([Span("log     ", .dim), Span(s.logError ?? "unknown", .warning)])
        }
        if let error = s.addressError { lines.append([Span("cidr    ", .dim), Span(error, .error)]) }
        for (field, problem) in s.problems.sorted(by: { $0.key < $1.key }) {
            lines.append([Span("problem ", .dim), Span("\(field): \(problem)", .warning)])
        }

        // Addresses: computed (Podman's rules) beside observed (inside the namespace).
        lines.append([])
        let roleW = 9, valueW = max(12, min(24, (width - roleW - 12) / 3))
        lines.append([Span("ADDRESS".padded(to: roleW) + " " + "EXPECTED".padded(to: valueW) + " " + "OBSERVED".padded(to: valueW) + " STATUS", .columnHeader)])
        if s.addressChecks.isEmpty {
            lines.append([Span("  not compared" + (s.observeError.map { ": \($0)" } ?? ""), .dim)])
        }
        for check in s.addressChecks {
            let (word, role) = statusWord(check.status)
            var line: Line = [Span(check.role.padded(to: roleW) + " "),
                              Span((check.expected ?? "-").padded(to: valueW) + " "),
                              Span((check.observed ?? "-").padded(to: valueW), check.status == .mismatch ? .addressMismatch : .normal),
                              Span(" "), Span(word, role)]
            if let note = check.note { line.append(Span(": " + note, .dim)) }
            lines.append(line)
        }

        lines.append([])
        lines.append([Span("COMMAND LINE, OPTION BY OPTION", .columnHeader)])
        let optionW = min(34, max(14, s.options.map { TextWidth.of($0.option) }.max() ?? 14))
        for option in s.options {
            lines.append([Span(option.option.padded(to: optionW) + " ", .header), Span(option.meaning)])
        }
        if s.options.isEmpty { lines.append([Span("(no arguments readable: \(s.isZombie ? "the process is defunct" : "permission denied?"))", .dim)]) }
        return lines
    }

    static func statusWord(_ status: AddressCheck.Status) -> (String, Role) {
        switch status {
        case .match: ("ok", .ok)
        case .mismatch: ("MISMATCH", .addressMismatch)
        case .notComputable: ("not computable", .error)
        case .notObserved: ("not observed", .dim)
        }
    }

    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let all = lines(state, width: screen.width)
        let top = min(max(0, state.paneTop), max(0, all.count - layout.paneHeight))
        for i in 0..<layout.paneHeight where top + i < all.count {
            screen.draw(all[top + i], x: 0, y: layout.paneTop + i, width: screen.width)
        }
    }
}
