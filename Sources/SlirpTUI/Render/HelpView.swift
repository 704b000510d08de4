/// Every key, generated from the key table (the same table that dispatches them).
enum HelpView {
    /// The help's lines; a mode's keys are wrapped to `width` columns between its rows.
    static func lines(readOnly: Bool, width: Int = .max) -> [Line] {
        var lines: [Line] = LineLayout.wrap([Span("slirpmon: keys", .header), Span("  (from the key table that dispatches them; any other key closes this help)", .dim)],
                                            width: width - 1, indent: 2) + [[]]
        if readOnly {
            lines += LineLayout.wrap([Span("read-only (--readonly): adding and removing forwards is disabled; the doctor stays (it changes nothing)", .warning)], width: width - 1)
            lines.append([])
        }
        for binding in KeyBindings.mainScreen(readOnly: readOnly) {
            lines += LineLayout.wrap([Span(binding.keyNames.padded(to: 18), .header), Span(" " + binding.help)], width: width - 1, indent: 19)
        }
        lines.append([])
        let available = KeyBindings.available(readOnly: readOnly)
        for (scope, name) in KeyBindings.modes {
            lines += modeLines(name, available.filter { $0.scope == scope }, width: width)
        }
        // Every line fits the width (the help scrolls): a line wider than the screen would be cut.
        let notes: [(Line, Int)] = [
            ([Span("Ctrl-C".padded(to: 18), .header), Span(" quit; SIGTERM and SIGHUP too, always restoring the terminal")], 19),
            ([Span("Mouse".padded(to: 18), .header), Span(" click a row, a pane tab or a function key; the wheel scrolls")], 19),
            ([], 0),
            ([Span("Columns: ", .dim), Span("NAME container, pod:NAME, short ID or manual; USER when several users' instances show; S process state (Z zombie); API socket yes/no/status, rootlessport or rootlesskit; FWD forwards (below); V6 IPv6; NETNS on wide screens (for a container without slirp4netns: why)", .dim)], 9),
            ([Span("FWD:     ", .dim), Span("asked once, then when its log shows a request; 12k: thousands; dim: as of when asked, see Details; ! not asked or failed", .dim)], 9),
            ([Span("RootlessKit: ", .dim), Span("forwards pane through its API (api.sock), either port driver: tcp4/tcp6/udp4/udp6, IPv6, childIP; Docker rootless: CONTAINER, ORIGIN (published -p / live), the docker run -p that keeps a live port; FWD from its listing", .dim)], 13),
            ([Span("Colours: ", .dim), Span("MISMATCH", .addressMismatch), Span(" address differs from Podman's rules  "), Span("api_handler", .audit), Span(" API request in the log  "), Span("greyed", .gone), Span(" process gone or container stopped  "), Span("FAILED", .warning), Span(" container whose slirp4netns failed (D: doctor)")], 9),
        ]
        for (line, indent) in notes { lines += line.isEmpty ? [[]] : LineLayout.wrap(line, width: width - 1, indent: indent) }
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
        // A group wider than the room beside the names continues under the keys too.
        return lines.flatMap { LineLayout.wrap($0, width: width - 1, indent: 19) }
    }

    /// The rows the help's lines get at `size` (the function bar below; the `more` marker its own row
    /// when the lines do not all fit), and the first line shown for `top`, kept in range.
    static func page(lineCount: Int, size: Size, top: Int) -> (first: Int, rows: Int, more: Bool) {
        let height = max(0, size.height - 1)
        let rows = lineCount > height ? max(0, height - 1) : height
        let first = min(max(0, top), max(0, lineCount - rows))
        return (first, rows, first + rows < lineCount)
    }

    static func draw(_ state: AppState, top: Int, into screen: inout Screen) {
        let all = lines(readOnly: state.readOnly, width: screen.width)
        let (first, rows, more) = page(lineCount: all.count, size: screen.size, top: top)
        for i in 0..<rows where first + i < all.count {
            screen.draw(all[first + i], x: 1, y: i, width: screen.width - 1)
        }
        if all.count > rows, rows > 0 {
            // Its own row under the lines, never over one of them.
            let position = "\(first + 1)-\(min(all.count, first + rows)) of \(all.count)"
            let marker = more ? " ↓ more (Down/PgDn)  \(position) " : " end (Up/PgUp)  \(position) "
            screen.draw([Span(marker, .warning)], x: 1, y: rows, width: screen.width - 1)
        }
    }
}
