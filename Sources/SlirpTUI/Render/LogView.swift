import SlirpCore

/// The unlinked log of the selected instance, `api_handler` lines marked as the audit trail.
enum LogView {
    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let height = layout.paneHeight
        guard height > 0 else { return }
        let w = screen.width
        guard let row = state.selectedRow else {
            screen.put(state.loaded ? "no instance selected" : "waiting for the first scan...", x: 0, y: layout.paneTop, role: .dim)
            return
        }
        if row.snapshot.isDetached {
            let text = (row.snapshot.logError ?? "no log") + ". Press D (F9) to run the doctor."
            for (i, line) in Format.wrap(text, width: w).prefix(height).enumerated() {
                screen.put(line, x: 0, y: layout.paneTop + i, role: .warning)
            }
            return
        }
        let log = state.log
        if let error = log.error ?? (log.lines.isEmpty ? row.snapshot.logError : nil) {
            for (i, line) in Format.wrap(error, width: w).prefix(height).enumerated() {
                screen.put(line, x: 0, y: layout.paneTop + i, role: .warning)
            }
            return
        }
        if log.identity != row.snapshot.identity {
            screen.put("reading the log...", x: 0, y: layout.paneTop, role: .dim)
            return
        }
        if log.lines.isEmpty {
            screen.put("the log is empty (slirp4netns writes little until something happens)", x: 0, y: layout.paneTop, role: .dim)
            return
        }
        let last = max(0, log.lines.count - height)
        let top = log.follow ? last : min(max(0, log.top), last)
        let needle = log.search.lowercased()
        for i in 0..<height {
            let index = top + i
            guard index < log.lines.count else { break }
            let y = layout.paneTop + i
            if index == 0 && log.truncatedBefore && top == 0 {
                // The first loaded line follows lines not read: say so once.
                screen.put("… earlier lines not loaded (the log is larger than the tail read)", x: 0, y: y, role: .dim)
                continue
            }
            let text = log.lines[index].replacingTabs
            let role: Role = text.contains("api_handler") ? .audit : .normal
            screen.put(text, x: 0, y: y, role: role, limit: w)
            if !needle.isEmpty { highlight(needle, in: text, y: y, into: &screen) }
        }
    }

    /// Paints every occurrence of `needle` (lowercased) in the drawn `text` at row `y`.
    static func highlight(_ needle: String, in text: String, y: Int, into screen: inout Screen) {
        let lower = Array(text.lowercased())
        let pattern = Array(needle)
        guard lower.count == text.count, pattern.count <= lower.count else { return }
        let widths = text.map { TextWidth.of($0) }
        var i = 0
        while i + pattern.count <= lower.count {
            if Array(lower[i..<(i + pattern.count)]) == pattern {
                let x = widths[0..<i].reduce(0, +)
                let width = widths[i..<(i + pattern.count)].reduce(0, +)
                screen.paint(x: x, y: y, count: width, role: .searchMatch)
                i += pattern.count
            } else {
                i += 1
            }
        }
    }
}

extension String {
    var replacingTabs: String {
        contains("\t") ? split(separator: "\t", omittingEmptySubsequences: false).joined(separator: "    ") : self
    }
}
