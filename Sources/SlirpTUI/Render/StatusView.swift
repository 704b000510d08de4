/// The status line: a prompt being typed, the last result, or work in progress.
enum StatusView {
    static func draw(_ state: AppState, row: Int, into screen: inout Screen) {
        let w = screen.width
        if case .prompt(let prompt) = state.mode {
            screen.draw([Span(prompt.label, .header), Span(prompt.text + "_", .inputFocused), Span("  Enter: ok  Esc: cancel", .dim)],
                         x: 0, y: row, width: w)
            return
        }
        if let status = state.status {
            let role: Role = switch status.kind {
            case .info: .status
            case .error: .statusError
            case .waiting, .warning: .warning
            }
            screen.draw([Span(status.text, role)], x: 0, y: row, width: w)
            return
        }
        if let busy = state.busy {
            screen.draw([Span(busy + ", waiting...", .warning)], x: 0, y: row, width: w)
            return
        }
        var hints: Line = []
        if !state.filter.isEmpty { hints += [Span("filter \(quoted(state.filter))", .warning), Span("  ")] }
        screen.draw(hints + [Span("Tab", .header), Span(" focus  "), Span("1 2 3", .header), Span(" details/log/forwards  "),
                     Span("F1", .header), Span(" help", .normal)], x: 0, y: row, width: w)
    }
}

/// htop's function-key bar, from the key table.
enum FunctionBarView {
    static func draw(_ state: AppState, into screen: inout Screen, row: Int) {
        guard row >= 0 else { return }
        screen.fill(row: row, role: .functionLabel)
        var x = 0
        for (n, label) in KeyBindings.bar(readOnly: state.readOnly, pane: state.pane) {
            let key = "F\(n)"
            guard x + key.count < screen.width else { break }
            let start = x
            x += screen.put(key, x: x, y: row, role: .functionKey)
            x += screen.put(label.padded(to: max(6, TextWidth.of(label))), x: x, y: row, role: .functionLabel)
            screen.mark(.functionKey(n), columns: start..<x, rows: row..<(row + 1))
        }
    }
}
