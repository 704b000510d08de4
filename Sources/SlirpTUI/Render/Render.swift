import SlirpCore

/// The whole screen for `state` at `size`: a pure function, testable without a terminal.
public func render(_ state: AppState, size: Size) -> Screen {
    var screen = Screen(size: size)
    let layout = state.layout(size: size)
    if layout.isTooSmall {
        TooSmallView.draw(into: &screen)
        return screen
    }
    if case .help(let top) = state.mode {
        HelpView.draw(state, top: top, into: &screen)
        FunctionBarView.draw(state, into: &screen, row: layout.barRow)
        return screen
    }
    // The wheel scrolls the list above the pane's tabs, the pane from there down.
    screen.mark(.scrolls(.list), columns: 0..<size.width, rows: 0..<layout.paneTitleRow)
    screen.mark(.scrolls(.pane), columns: 0..<size.width, rows: layout.paneTitleRow..<size.height)
    HeaderView.draw(state, into: &screen)
    InstanceListView.draw(state, layout: layout, into: &screen)
    PaneTitleView.draw(state, layout: layout, into: &screen)
    screen.mark(.pane, columns: 0..<size.width, rows: layout.paneTop..<max(layout.paneTop, layout.statusRow))
    switch state.pane {
    case .details: DetailsView.draw(state, layout: layout, into: &screen)
    case .log: LogView.draw(state, layout: layout, into: &screen)
    case .forwards: ForwardsView.draw(state, layout: layout, into: &screen)
    case .events: EventsView.draw(state, layout: layout, into: &screen)
    }
    switch state.mode {
    case .doctor(let top): DoctorView.draw(state, top: top, layout: layout, into: &screen)
    case .form(let form): FormView.draw(form, state: state, layout: layout, into: &screen)
    case .confirmRemove(let target, let forward): ConfirmView.draw(target: target, forward: forward, state: state, layout: layout, into: &screen)
    case .confirmRemovePort(let target, let port): ConfirmPortView.draw(target: target, port: port, state: state, layout: layout, into: &screen)
    default: break
    }
    StatusView.draw(state, row: layout.statusRow, into: &screen)
    FunctionBarView.draw(state, into: &screen, row: layout.barRow)
    return screen
}

/// Shown instead of the monitor when the terminal is below `Layout.minimum`.
enum TooSmallView {
    static func draw(into screen: inout Screen) {
        let w = screen.width, h = screen.height
        guard w > 0, h > 0 else { return }
        // The longest message that fits: "(q quits)" always shows, as only q acts here.
        let messages = ["terminal too small: \(w)x\(h), slirpmon needs \(Layout.minimum.width)x\(Layout.minimum.height) (q quits)",
                        "too small: \(w)x\(h), needs \(Layout.minimum.width)x\(Layout.minimum.height) (q quits)", "too small (q quits)", "q quits"]
        let lines = messages.lazy.map { Format.wrap($0, width: w) }.first { $0.count <= h } ?? Format.wrap("q quits", width: w)
        let top = max(0, (h - lines.count) / 2)
        for (i, line) in lines.enumerated() where top + i < h {
            let x = max(0, (w - TextWidth.of(line)) / 2)
            screen.put(line, x: x, y: top + i, role: .warning)
        }
    }
}
