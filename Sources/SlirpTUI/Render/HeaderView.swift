import SlirpCore

/// Two header lines: who and what (host, user, slirp4netns version), then counts and refresh.
enum HeaderView {
    static func draw(_ state: AppState, into screen: inout Screen) {
        let w = screen.width
        var first: Line = [Span("slirpmon", .header)]
        if let banner = state.banner { first.append(Span(" [\(banner)]", .warning)) }
        if state.readOnly { first.append(Span(" [read-only]", .warning)) }
        first.append(Span(" on \(state.host.hostName.isEmpty ? "?" : state.host.hostName) as \(state.host.userName.isEmpty ? "?" : state.host.userName)"))
        first.append(Span("  slirp4netns ", .dim))
        first.append(Span(state.host.slirpVersion ?? "(probing...)"))
        if !state.host.features.isEmpty {
            first.append(Span(" (" + state.host.features.joined(separator: " ") + ")", .dim))
        }
        screen.draw(first, x: 0, y: 0, width: w)

        let c = state.counts
        var second: Line = [Span("Instances: ", .dim), Span("\(c.running) running", .header)]
        second.append(Span(", "))
        second.append(Span("\(c.failed) failed", c.failed > 0 ? .error : .normal))
        second.append(Span(", \(c.withAPI) with API"))
        if c.stopped > 0 { second.append(Span(", \(c.stopped) stopped", .gone)) }
        if c.gone > 0 { second.append(Span(", \(c.gone) gone", .gone)) }
        second.append(Span("  every \(Format.seconds(state.delay))", .dim))
        if state.refreshing && !state.loaded {
            second.append(Span("  scanning...", .warning))
        } else if let last = state.lastRefresh {
            second.append(Span("  last \(last)", .dim))
        }
        if !state.filter.isEmpty { second.append(Span("  filter: \(quoted(state.filter))", .warning)) }
        if let error = state.inventoryError { second.append(Span("  scan failed: \(error)", .error)) }
        screen.draw(second, x: 0, y: 1, width: w)

        // Podman's failures as one line (nothing when Podman is not installed or answered), then
        // the port holders left by containers that no longer run.
        for (i, line) in state.podman.headerLines.enumerated() {
            screen.draw([Span(line, .warning)], x: 0, y: 2 + i, width: w)
        }
    }
}
