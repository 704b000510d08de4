/// Every key, generated from the key table (the same table that dispatches them).
enum HelpView {
    /// The help's lines; a mode's keys are wrapped to `width` columns between its rows.
    static func lines(readOnly: Bool, width: Int = .max) -> [Line] {
        var lines: [Line] = [
            [Span("slirpmon: keys", .header), Span("  (from the key table that dispatches them; any other key closes this help)", .dim)],
            [],
        ]
        if readOnly {
            lines.append([Span("read-only (--readonly): adding and removing forwards is disabled; the doctor stays (it changes nothing)", .warning)])
            lines.append([])
        }
        for binding in KeyBindings.mainScreen(readOnly: readOnly) {
            lines.append([Span(binding.keyNames.padded(to: 18), .header), Span(" " + binding.help)])
        }
        lines.append([])
        let available = KeyBindings.available(readOnly: readOnly)
        for (scope, name) in KeyBindings.modes {
            lines += modeLines(name, available.filter { $0.scope == scope }, width: width)
        }
        lines.append([Span("Ctrl-C".padded(to: 18), .header), Span(" quit; SIGTERM and SIGHUP too, always restoring the terminal")])
        lines.append([Span("Mouse".padded(to: 18), .header), Span(" click a row, a pane tab or a function key; the wheel scrolls")])
        lines.append([])
        lines.append([Span("Columns: ", .dim), Span("NAME container, pod:NAME, short ID or manual; USER when several users' instances show; S process state (Z zombie); API socket yes/no/status or rootlessport; FWD forwards (below); V6 IPv6; NETNS on wide screens (for a container without slirp4netns: why)", .dim)])
        lines.append([Span("FWD:     ", .dim), Span("asked once, then when its log shows a request; dim: as of when asked, see Details; ! not asked or failed", .dim)])
        lines.append([Span("Colours: ", .dim), Span("MISMATCH", .addressMismatch), Span(" address differs from Podman's rules  "), Span("api_handler", .audit), Span(" API request in the log  "), Span("greyed", .gone), Span(" process gone or container stopped  "), Span("FAILED", .warning), Span(" container whose slirp4netns failed (D: doctor)")])
        return lines
    }

    /// One mode's keys after its name: `Enter accept; Esc cancel`, the keys of rows in a row with
    /// the same help joined (`Up k Down j PgUp scroll`); continued under the keys when wider than `width`.
    static func modeLines(_ name: String, _ bindings: [KeyBinding], width: Int) -> [Line] {
        guard !bindings.isEmpty else { return [] }
        var groups: [(keys: String, help: String)] = []
        for binding in bindings {
            if let last = groups.last, last.help == binding.help {
                groups[groups.count - 1].keys += " " + binding.keyNames
            } else {
                groups.append((binding.keyNames, binding.help))
            }
        }
        var lines: [Line] = []
        var line: Line = [Span(name.padded(to: 18), .dim), Span(" ")]
        var used = 19
        for (i, group) in groups.enumerated() {
            let text = group.help + (i == groups.count - 1 ? "" : "; ")
            let columns = TextWidth.of(group.keys) + 1 + TextWidth.of(text)
            if used > 19 && used + columns > width - 1 {
                lines.append(line)
                line = [Span(String(repeating: " ", count: 19))]
                used = 19
            }
            line += [Span(group.keys, .header), Span(" " + text)]
            used += columns
        }
        lines.append(line)
        return lines
    }

    static func draw(_ state: AppState, top: Int, into screen: inout Screen) {
        let all = lines(readOnly: state.readOnly, width: screen.width)
        let height = screen.height - 1
        let first = min(max(0, top), max(0, all.count - height))
        for i in 0..<height where first + i < all.count {
            screen.draw(all[first + i], x: 1, y: i, width: screen.width - 1)
        }
        if first + height < all.count, height > 0 {
            screen.draw([Span(" ↓ more (Down/PgDn) ", .warning)], x: max(0, screen.width - 22), y: height - 1, width: 21)
        }
    }
}
