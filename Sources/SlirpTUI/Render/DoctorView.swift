import SlirpCore

/// The startup doctor's report for a container, in a scrollable box: each step passed or
/// failed with its details, the trial's log, then the verdict (cause and fix).
enum DoctorView {
    /// Trial log lines shown (slirp4netns's `--help` after a usage error is collapsed).
    static let logLines = 8

    static func lines(_ run: DoctorRun, width: Int) -> [Line] {
        var lines: [Line] = []
        func wrapped(_ text: String, indent: Int, _ role: Role) {
            for piece in Format.wrap(text, width: max(8, width - indent)) {
                lines.append([Span(String(repeating: " ", count: indent) + piece, role)])
            }
        }
        if let note = run.note { wrapped(note, indent: 0, .warning) }
        for step in run.steps {
            // A long title continues under itself, not cut at the box.
            lines += LineLayout.wrap([Span(step.status.tag + "  ", role(step.status)), Span(step.name.padded(to: 9) + " ", .header), Span(step.title)],
                                     width: width, indent: TextWidth.of(step.status.tag) + 12)
            for detail in step.details { wrapped(detail, indent: 6, step.status == .failed && detail == step.details.last ? .error : .normal) }
        }
        guard let report = run.report else {
            lines.append([Span("running the next step (a trial start waits up to 10 s for ready), waiting...", .warning)])
            return lines
        }
        if let log = report.log, report.verdict != nil {
            let all = collapsingHelp(log.split(separator: "\n").map(String.init))
            lines.append([])
            lines.append([Span("trial log (Podman prints this once, then the file is gone):", .dim)])
            for line in all.prefix(logLines) { wrapped("| " + line, indent: 2, .audit) }
            if all.count > logLines { lines.append([Span("  | ... \(all.count - logLines) more lines (`slirpmon doctor --json` has the whole log)", .dim)]) }
            if all.isEmpty { lines.append([Span("  (empty)", .dim)]) }
        }
        lines.append([])
        if let verdict = report.verdict {
            lines.append([Span("VERDICT: ", .error), Span("the \(verdict.step) step fails: ", .error), Span(verdict.cause.kind.rawValue, .header)])
            wrapped("cause: " + verdict.cause.cause, indent: 2, .normal)
            wrapped("fix:   " + verdict.cause.fix, indent: 2, .ok)
        } else {
            let warnings = report.steps.filter { $0.status == .warning }.map(\.name)
            lines.append([Span("VERDICT: ", .ok), Span("healthy: slirp4netns starts as Podman would start it"
                                                       + (warnings.isEmpty ? "" : " (warnings in: \(warnings.joined(separator: ", ")))"))])
        }
        return lines
    }

    /// The role of a step's tag (`DoctorStep.Status.tag`).
    static func role(_ status: DoctorStep.Status) -> Role {
        switch status {
        case .passed: .ok
        case .failed: .error
        case .skipped: .dim
        case .warning: .warning
        }
    }

    /// slirp4netns prints its whole --help after a usage error: keep the `Usage:` line, drop the option list.
    static func collapsingHelp(_ lines: [String]) -> [String] { DoctorReport.collapsingHelp(lines) }

    static func draw(_ state: AppState, top: Int, layout: Layout, into screen: inout Screen) {
        guard let run = state.doctor else { return }
        let box = DialogBox(width: min(110, screen.width), height: layout.statusRow - 1, screen: screen, top: 1, bottom: layout.statusRow)
        let title = "Doctor: \(run.name)" + (run.isRunning ? " (running...)" : run.report?.healthy == true ? " (healthy)" : " (fails)")
        box.frame(title: title, into: &screen)
        let all = lines(run, width: box.innerWidth)
        let height = max(0, box.innerHeight - 1)
        let first = min(max(0, top), max(0, all.count - height))
        for i in 0..<height where first + i < all.count {
            box.draw(all[first + i], row: i, into: &screen)
        }
        let range = "\(first + 1)-\(min(all.count, first + height)) of \(all.count)"
        // Narrow: the short keys, so that the position is never cut into another number.
        let narrow = box.innerWidth < 50
        let position = all.count > height ? (narrow ? "  " : "  lines ") + range : ""
        box.draw([Span(narrow ? "↑↓" : "↑↓ PgUp PgDn", .header), Span(" scroll  "), Span("Esc", .header), Span(" close" + position, .normal)],
                 row: box.innerHeight - 1, into: &screen)
    }
}
