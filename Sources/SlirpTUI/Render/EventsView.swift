import SlirpCore

/// What changed among the instances, newest first, each with its time (`InventoryEvent`, the same
/// events `slirpmon events` prints).
enum EventsView {
    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let height = layout.paneHeight
        guard height > 0 else { return }
        let events = shown(state)
        guard !events.isEmpty else {
            let text = !state.loaded ? "waiting for the first scan..." : state.events.isEmpty ? "No events yet." : "No event matches the filter."
            screen.draw([Span(text, .dim)], x: 0, y: layout.paneTop, width: screen.width)
            return
        }
        let top = min(max(0, state.paneTop), events.count - 1)
        for (i, event) in events.dropFirst(top).prefix(height).enumerated() {
            screen.draw(line(event), x: 0, y: layout.paneTop + i, width: screen.width)
        }
    }

    /// The events shown, newest first: those the list's filter matches (by name, pid, container ID,
    /// kind or words), all without a filter.
    static func shown(_ state: AppState) -> [InventoryEvent] {
        state.events.reversed().filter(state.filterKeeps)
    }

    /// `06:01:02  died             web1  pid 1234  slirp4netns exited`; the state as first seen is marked so.
    static func line(_ event: InventoryEvent) -> Line {
        let role: Role = event.kind.isLoss ? .warning : (event.kind == .started ? .ok : .normal)
        var line: Line = [Span(Format.wallTime(at: event.time), .dim), Span("  "), Span(event.kind.word.padded(to: 16), role), Span("  "),
                          Span(event.name), Span(event.process.map { "  pid \($0.pid)" } ?? "", .dim), Span("  " + event.message)]
        if event.seen && event.timing == .noticed { line.append(Span("  (so at the first look)", .dim)) }
        return line
    }
}
