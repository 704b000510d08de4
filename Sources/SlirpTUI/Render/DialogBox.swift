/// A framed box drawn over the screen (form, confirmation).
struct DialogBox {
    let x: Int
    let y: Int
    let width: Int
    let height: Int

    /// A box of at most `width` x `height`, centred in the rows `top..<bottom`.
    init(width: Int, height: Int, screen: Screen, top: Int, bottom: Int) {
        self.width = min(width, screen.width)
        self.height = min(height, max(3, bottom - top))
        x = max(0, (screen.width - self.width) / 2)
        y = max(0, top + max(0, (bottom - top - self.height) / 2))
    }

    var innerWidth: Int { max(0, width - 4) }
    var innerHeight: Int { max(0, height - 2) }

    func frame(title: String, into screen: inout Screen) {
        guard width >= 2, height >= 2 else { return }
        for row in y..<min(screen.height, y + height) {
            for column in x..<min(screen.width, x + width) { screen[column, row] = Cell(" ", role: .normal) }
            screen.put("│", x: x, y: row, role: .border)
            screen.put("│", x: x + width - 1, y: row, role: .border)
        }
        let horizontal = String(repeating: "─", count: max(0, width - 2))
        screen.put("┌" + horizontal + "┐", x: x, y: y, role: .border)
        screen.put("└" + horizontal + "┘", x: x, y: y + height - 1, role: .border)
        screen.put(" " + title.clipped(to: max(0, width - 6)) + " ", x: x + 2, y: y, role: .header)
    }

    /// Draws a line inside the frame at inner row `row`; a line wider than the box ends in `…`
    /// (a value cut at the frame would read as a shorter one).
    func draw(_ line: Line, row: Int, into screen: inout Screen) {
        guard row >= 0, row < innerHeight else { return }
        screen.draw(Self.clipped(line, to: innerWidth), x: x + 2, y: y + 1 + row, width: innerWidth)
    }

    /// `line` in `width` columns, its last one `…` when it is wider.
    static func clipped(_ line: Line, to width: Int) -> Line {
        guard width > 0, line.reduce(0, { $0 + TextWidth.of($1.text) }) > width else { return line }
        var out: Line = []
        var used = 0
        for span in line {
            let room = width - 1 - used
            guard room > 0 else { break }
            // Cut by display width: a double-width character counts two (it would push the `…` out).
            guard TextWidth.of(span.text) > room else {
                out.append(span)
                used += TextWidth.of(span.text)
                continue
            }
            out.append(Span(span.text.prefix(columns: room), span.role))
            break
        }
        out.append(Span("…", line.last?.role ?? .normal))
        return out
    }
}

extension Role {
    static let border = Role.dim
}
