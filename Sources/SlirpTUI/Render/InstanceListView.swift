import SlirpCore

/// The instance list: one row per slirp4netns process, columns dropped by priority when narrow.
enum InstanceListView {
    struct ColumnSpec {
        let column: Column
        let width: Int
        let rightAligned: Bool
    }

    /// Fixed columns in display order; NETNS takes the rest of a wide screen.
    static let specs: [ColumnSpec] = [
        ColumnSpec(column: .id, width: 14, rightAligned: false),
        ColumnSpec(column: .pid, width: 7, rightAligned: true),
        ColumnSpec(column: .user, width: 8, rightAligned: false),
        ColumnSpec(column: .state, width: 1, rightAligned: false),
        ColumnSpec(column: .uptime, width: 6, rightAligned: true),
        ColumnSpec(column: .cpu, width: 5, rightAligned: true),
        ColumnSpec(column: .rss, width: 5, rightAligned: true),
        ColumnSpec(column: .rx, width: 5, rightAligned: true),
        ColumnSpec(column: .tx, width: 5, rightAligned: true),
        ColumnSpec(column: .cidr, width: 14, rightAligned: false),
        ColumnSpec(column: .guest, width: 14, rightAligned: false),
        ColumnSpec(column: .api, width: 12, rightAligned: false),
        ColumnSpec(column: .forwards, width: 3, rightAligned: true),
        ColumnSpec(column: .ipv6, width: 2, rightAligned: false),
        ColumnSpec(column: .mtu, width: 5, rightAligned: true),
    ]

    /// FWD's width once a count has four digits: exact to 9999, then `12k` (`Format.count`).
    static let forwardsWidth = 4

    /// Which columns to drop first when the screen is narrow.
    /// (The load columns first: a narrow screen keeps what it showed before them.)
    static let dropOrder: [Column] = [.tx, .rx, .rss, .cpu, .ipv6, .mtu, .uptime, .forwards, .cidr, .user, .state, .api]

    /// The columns that fit in `width`, in display order (USER only when it tells rows apart;
    /// API wide enough for `rootlessport` or `unverified` only when a row says it; `wider`: the
    /// columns a row's value or the sort mark needs wider, before any is dropped).
    /// The load columns (CPU%, RSS, RX/s, TX/s): shown once a refresh has read any instance's load.
    static let loadColumns: Set<Column> = [.cpu, .rss, .rx, .tx]

    static func columns(fitting width: Int, showUser: Bool = true, wideAPI: Bool = true, showLoad: Bool = true, wider: [Column: Int] = [:]) -> [ColumnSpec] {
        var chosen = specs.filter { (showUser || $0.column != .user) && (showLoad || !loadColumns.contains($0.column)) }.map { spec in
            if let need = wider[spec.column], need > spec.width { return ColumnSpec(column: spec.column, width: need, rightAligned: spec.rightAligned) }
            return spec.column == .api && !wideAPI ? ColumnSpec(column: .api, width: 7, rightAligned: false) : spec
        }
        func total(_ list: [ColumnSpec]) -> Int { list.reduce(0) { $0 + $1.width } + max(0, list.count - 1) }
        for column in dropOrder where total(chosen) > width {
            chosen.removeAll { $0.column == column }
        }
        return chosen
    }

    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let w = screen.width
        // A count of 1000 or more gets a fourth FWD column (`1000`, not `10…`), and the sorted
        // column room for its mark (`▼FWD`, not `▼F…`).
        var wider: [Column: Int] = [state.sortColumn: TextWidth.of(state.sortColumn.title) + 1]
        if state.rows.contains(where: { (state.forwardCount($0) ?? 0) >= 1000 }) { wider[.forwards] = max(wider[.forwards] ?? 0, forwardsWidth) }
        var columns = columns(fitting: w, showUser: state.showsUserColumn,
                              wideAPI: state.rows.contains { $0.snapshot.api == .rootlessport || $0.snapshot.api == .rootlessKit || $0.snapshot.api == .socket(.unverified) },
                              showLoad: state.rows.contains { $0.snapshot.load != nil }, wider: wider)
        // Long container and user names get room a wide screen has to spare (NETNS keeps at least 30).
        for (column, most) in [(Column.id, 16), (Column.user, 6)] {
            let spare = w - (columns.reduce(0) { $0 + $1.width } + columns.count) - 30
            let longest = state.rows.map { TextWidth.of(column == .id ? $0.snapshot.name : $0.snapshot.user ?? "?") }.max() ?? 0
            if spare > 0, let i = columns.firstIndex(where: { $0.column == column }), longest > columns[i].width {
                columns[i] = ColumnSpec(column: column, width: columns[i].width + min(spare, longest - columns[i].width, most), rightAligned: false)
            }
        }
        let used = columns.reduce(0) { $0 + $1.width } + max(0, columns.count - 1)
        let netnsWidth = w - used - 1 >= 10 ? w - used - 1 : 0

        // Column header, the sorted column marked.
        screen.fill(row: layout.columnHeaderRow, role: .columnHeader)
        var x = 0
        for spec in columns {
            var title = spec.column.title
            if spec.column == state.sortColumn { title = (state.sortAscending ? "▲" : "▼") + title }
            let text = title.padded(to: spec.width, right: spec.rightAligned)
            screen.put(text, x: x, y: layout.columnHeaderRow, role: spec.column == state.sortColumn ? .selection : .columnHeader, limit: spec.width)
            x += spec.width + 1
        }
        if netnsWidth > 0 {
            let title = "NETNS"
            screen.put(title, x: x, y: layout.columnHeaderRow, role: .columnHeader, limit: netnsWidth)
        }

        screen.mark(.list, columns: 0..<w, rows: layout.listTop..<(layout.listTop + layout.listHeight))
        let order = state.visibleOrder
        if order.isEmpty {
            let message: String
            if !state.loaded {
                message = "scanning /proc for slirp4netns, waiting..."
            } else if !state.filter.isEmpty {
                message = "no instance matches the filter \(quoted(state.filter)) (F4, then Esc clears it)"
            } else {
                message = "no slirp4netns instance is running (start one with podman --network slirp4netns, or try `slirpmon demo`)"
            }
            for (i, line) in Format.wrap(message, width: w - 2).prefix(layout.listHeight).enumerated() {
                screen.put(line, x: 1, y: layout.listTop + i, role: .dim)
            }
            return
        }
        let top = min(max(0, state.listTop), max(0, order.count - layout.listHeight))
        let selectedIndex = state.selectedIndex
        for i in 0..<layout.listHeight {
            let index = top + i
            guard index < order.count else { break }
            let row = state.rows[order[index]]
            let y = layout.listTop + i
            screen.mark(.instance(row.snapshot.identity), row: y)
            let isSelected = index == selectedIndex
            // A container without its slirp4netns: a failure in the warning role, a stopped one greyed.
            let rest: Role = row.isGone ? .gone : row.snapshot.detached.map { $0.isFailure ? .warning : .gone } ?? .normal
            let base: Role = isSelected ? (state.focus == .list ? .selection : .selectionUnfocused) : rest
            screen.fill(row: y, role: base)
            var x = 0
            for spec in columns {
                let (text, role) = cell(row, spec.column, state: state)
                let finalRole = isSelected || row.isGone || row.snapshot.isDetached || role == nil ? base : (role ?? base)
                screen.put(text.padded(to: spec.width, right: spec.rightAligned), x: x, y: y, role: finalRole, limit: spec.width)
                if isSelected, let role, role == .addressMismatch || role == .error || (row.snapshot.isDetached && role == .warning) {
                    // Keep the warning visible on the selected row too.
                    screen.paint(x: x, y: y, count: min(spec.width, TextWidth.of(text)), role: role)
                }
                x += spec.width + 1
            }
            if netnsWidth > 0 {
                // A container without a slirp4netns has no namespace: the column says why instead.
                let text = row.snapshot.detached?.reason ?? row.snapshot.netnsPath ?? "-"
                screen.put(text.clipped(to: netnsWidth), x: x, y: y, role: isSelected || row.isGone || row.snapshot.isDetached ? base : .dim, limit: netnsWidth)
            }
        }
    }

    /// The text of one cell, and a role when the cell needs attention.
    static func cell(_ row: InstanceRow, _ column: Column, state: AppState) -> (String, Role?) {
        let s = row.snapshot
        if let detached = s.detached {
            switch column {
            case .id: return (s.name, detached.isFailure ? .warning : nil)
            case .user: return (s.user ?? "?", nil)
            case .uptime: return (detached.isFailure ? (s.container?.state == "created" ? "FAILED" : "NO NET") : "exited", detached.isFailure ? .warning : nil)
            case .cidr: return (s.cidr ?? "?", nil)
            case .mtu: return (s.mtu.map { Format.count($0, width: 5) } ?? "?", nil)
            case .ipv6: return (s.ipv6 ? "on" : "-", nil)
            default: return ("-", nil)
            }
        }
        switch column {
        case .id: return (s.name, s.containerID == nil ? .dim : nil)
        case .pid: return (String(s.pid), nil)
        case .user: return (s.user ?? "?", nil)
        case .state:
            if row.isGone { return ("-", nil) }
            return (s.state, s.isZombie ? .error : nil)
        case .uptime: return (row.isGone ? "gone" : Format.duration(s.uptimeSeconds, .coarse), nil)
        // `?`: its configuration is unknown (a defunct process not seen running); the details say why.
        case .cidr: return (s.cidr ?? "?", s.addressError != nil ? .error : s.cidr == nil ? .dim : nil)
        case .guest:
            if let guest = s.guest { return (guest, s.mismatchCount > 0 ? .addressMismatch : nil) }
            // Unknown (dim, as CIDR says it) is not a failed computation (an error).
            return ("?", s.configuration.isKnown ? .error : .dim)
        case .api:
            // A gone process holds no socket: its last check is not current (nor its forwards, below).
            if row.isGone { return ("-", .dim) }
            // A socket held is plain; none (or rootlessport's) is dim; any other finding a warning.
            let role: Role? = switch s.api {
            case .socket(.held), .rootlessKit: nil
            case .noSocket, .rootlessport: .dim
            default: .warning
            }
            return (s.api.word, role)
        case .forwards:
            if (s.apiSocket == nil && s.rootlessKit == nil) || s.isZombie || row.isGone { return ("-", .dim) }
            // Dim: as of when it was asked (its log cannot show a change since; the details pane says so).
            // A RootlessKit's count always is: RootlessKit logs no request, and it is listed when first seen and by its pane.
            if let count = state.forwardCount(row) {
                return (Format.count(count, width: forwardsWidth), s.forwardsAsOf == nil && s.rootlessKit == nil ? nil : .dim)
            }
            // Not asked (socket not proven its own) or the request failed: the details pane says which.
            if s.forwardsError != nil { return ("!", .warning) }
            return ("?", .dim)
        case .ipv6:
            if !s.configuration.isKnown { return ("?", .dim) }
            return (s.ipv6 ? "on" : "-", s.ipv6 ? nil : .dim)
        case .mtu: return (s.mtu.map { Format.count($0, width: 5) } ?? "?", s.mtu == nil ? .dim : nil)
        // `-`: not measured (a first reading; a gone or defunct process); pinned at a whole CPU: a warning.
        case .cpu:
            guard !row.isGone, !s.isZombie, let percent = s.load?.cpuPercent else { return ("-", .dim) }
            return (Format.percent(percent), s.load?.pinned == true ? .warning : nil)
        case .rss: return (row.isGone || s.isZombie ? "-" : Format.rate(Double(s.residentBytes)), row.isGone || s.isZombie ? .dim : nil)
        case .rx, .tx:
            guard !row.isGone, !s.isZombie, let rates = s.load?.tapRates else { return ("-", .dim) }
            // Older than one refresh (an unselected row's namespace is read every 30 s): dimmed, never shown as current.
            let old = (s.load?.tapAge ?? 0) > state.delay * 1.5
            return (Format.rate(column == .rx ? rates.rxBytes : rates.txBytes), old ? .dim : nil)
        }
    }
}

/// The row under the list: the pane tabs, and what the pane is about.
enum PaneTitleView {
    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let y = layout.paneTitleRow
        screen.fill(row: y, role: .paneTitle)
        var x = 0
        for pane in Pane.allCases {
            let label = " \(pane.rawValue + 1) \(pane.title) "
            let role: Role = pane == state.pane ? (state.focus == .pane ? .paneTitleFocused : .selectionUnfocused) : .paneTitle
            let used = screen.put(label, x: x, y: y, role: role)
            screen.mark(.paneTab(pane), columns: x..<(x + used), rows: y..<(y + 1))
            x += used
        }
        if state.pane == .events {
            // The events of every instance, not of the selection.
            let shown = state.filter.isEmpty ? state.events.count : EventsView.shown(state).count
            let info = " \(shown)\(shown == state.events.count ? "" : " of \(state.events.count)") event\(state.events.count == 1 ? "" : "s")"
                + (shown == state.events.count ? "" : " (filter)") + ", newest first"
            screen.put(info, x: x + 1, y: y, role: .paneTitle, limit: max(0, screen.width - x - 1))
            return
        }
        guard let row = state.selectedRow else { return }
        var info = row.snapshot.isDetached ? " \(row.snapshot.name) (no slirp4netns)" : " pid \(row.snapshot.pid) \(row.snapshot.name)"
        switch state.pane {
        case .details, .events: break
        case .log:
            if let path = row.snapshot.logPath { info += "  " + path + (row.snapshot.logDeleted ? " (deleted)" : "") }
            info += state.log.follow ? "  [follow]" : "  [paused]"
            info += "  \(state.log.lines.count) lines"
        case .forwards:
            if let entry = state.forwards[row.snapshot.identity], let count = entry.count {
                let what = entry.ports == nil ? "forward" : "RootlessKit port"
                info += "  \(count) \(what)\(count == 1 ? "" : "s")" + (entry.pending ? " (refreshing...)" : "")
            }
        }
        if row.isGone { info += "  (gone)" }
        screen.put(info, x: x + 1, y: y, role: .paneTitle, limit: max(0, screen.width - x - 1))
    }
}
