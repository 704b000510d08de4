import SlirpCore

/// The add-forward form: each field with its value, and its error (or hint) under it.
enum FormView {
    static func draw(_ form: ForwardForm, state: AppState, layout: Layout, into screen: inout Screen) {
        let name = state.rows.first { $0.snapshot.identity == form.target }.map { $0.snapshot.shortID } ?? "?"
        let roomy = layout.statusRow >= 16
        let fieldRows = roomy ? 2 : 1
        let height = 2 + ForwardForm.Field.allCases.count * fieldRows + 3
        let box = DialogBox(width: min(100, screen.width - 2), height: height, screen: screen, top: 0, bottom: layout.statusRow)
        let kit = form.rootlessKit ? state.rows.first { $0.snapshot.identity == form.target }?.snapshot.rootlessKit : nil
        let title = kit.map { "Add port to rootlesskit pid \($0.pid) (slirp4netns pid \(form.target.pid))" } ?? "Add forward to pid \(form.target.pid) (\(name))"
        box.frame(title: title, into: &screen)
        let labelW = 15
        let valueW = max(8, min(24, box.innerWidth - labelW - 2))
        var row = 0
        for field in ForwardForm.Field.allCases {
            let focused = field == form.focus
            let error = form.error(for: field)
            let value = form.value(field) + (focused ? "_" : "")
            var line: Line = [Span(field.label.padded(to: labelW), focused ? .header : .normal),
                              Span(value.padded(to: valueW), focused ? .inputFocused : .input)]
            if !roomy {
                line.append(Span(error == nil ? " ✓" : " ✗", error == nil ? .ok : .inputError))
                box.draw(line, row: row, into: &screen)
                row += 1
                continue
            }
            line.append(Span(" " + form.hint(field), .dim))
            box.draw(line, row: row, into: &screen)
            // The error under its field; moved left when it would not fit beside the labels.
            let indent = error.map { labelW + 2 + TextWidth.of($0) > box.innerWidth ? 0 : labelW } ?? labelW
            let under: Line = error.map { [Span(String(repeating: " ", count: indent)), Span("✗ " + $0, .inputError)] }
                ?? [Span(String(repeating: " ", count: labelW)), Span("✓", .ok)]
            box.draw(under, row: row + 1, into: &screen)
            row += 2
        }
        if !roomy {
            // One line for the focused field's error (or the first one).
            let field = form.error(for: form.focus) == nil ? ForwardForm.Field.allCases.first { form.error(for: $0) != nil } : form.focus
            if let field, let error = form.error(for: field) {
                box.draw([Span("✗ \(field.label.lowercased()): \(error)", .inputError)], row: row, into: &screen)
            }
        }
        row += 1
        // Narrow: the short words, so that the keys (Esc above all) and the verdict stay whole.
        let narrow = box.innerWidth < 60
        let sent = form.rootlessKit ? form.ports?.count : form.requests?.count
        if let sent {
            let request = form.rootlessKit ? "POST /v1/ports" : "add_hostfwd"
            let count = sent == 1 ? "1 \(request) request" : "\(sent) \(request) requests"
            box.draw([Span("Mapping ", .dim), Span(form.mappingText, .ok), Span(" = \(count)", .dim)], row: row, into: &screen)
        } else {
            box.draw([Span(narrow ? "" : "Mapping ", .dim), Span(form.mappingText), Span(narrow ? " (invalid)" : " (invalid: nothing will be sent)", .inputError)], row: row, into: &screen)
        }
        box.draw([Span("Enter", .header), Span(" send  "), Span(narrow ? "Tab" : "Tab/↑↓", .header), Span(" field  "), Span("Esc", .header), Span(" cancel")],
                 row: row + 1, into: &screen)
    }
}

/// Asks before `remove_hostfwd`, naming the forward.
enum ConfirmView {
    static func draw(target: EffectTarget, forward: HostForward, state: AppState, layout: Layout, into screen: inout Screen) {
        let box = DialogBox(width: 72, height: 6, screen: screen, top: 0, bottom: layout.statusRow)
        box.frame(title: "Remove forward?", into: &screen)
        box.draw([Span("Remove forward "), Span("\(forward.id)", .header), Span(" of pid \(target.pid)?")], row: 0, into: &screen)
        box.draw([Span(forward.summary, .warning)], row: 1, into: &screen)
        box.draw([Span("y", .header), Span(" remove    "), Span("any other key", .header), Span(" keep it")], row: 3, into: &screen)
    }
}

/// Asks before RootlessKit's `DELETE /v1/ports/{id}`, naming the port and the container it reaches.
enum ConfirmPortView {
    static func draw(target: EffectTarget, port: RootlessKitForward, state: AppState, layout: Layout, into screen: inout Screen) {
        let box = DialogBox(width: 72, height: 6, screen: screen, top: 0, bottom: layout.statusRow)
        box.frame(title: "Remove port?", into: &screen)
        let kit = target.rootlessKit.map { "rootlesskit pid \($0.pid)" } ?? "pid \(target.pid)"
        box.draw([Span("Remove RootlessKit port "), Span("\(port.id)", .header), Span(" of \(kit)?")], row: 0, into: &screen)
        let reaches = port.container?.name.map { " (\(port.origin.rawValue), container \($0))" } ?? ""
        box.draw([Span(port.spec.summary + reaches, .warning)], row: 1, into: &screen)
        box.draw([Span("y", .header), Span(" remove    "), Span("any other key", .header), Span(" keep it")], row: 3, into: &screen)
    }
}

extension Role {
    static let inputError = Role.error
}
