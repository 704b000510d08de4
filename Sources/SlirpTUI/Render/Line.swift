/// A piece of text in one role.
public struct Span: Equatable, Sendable {
    public var text: String
    public var role: Role
    public init(_ text: String, _ role: Role = .normal) {
        self.text = text
        self.role = role
    }
}

/// A line of spans, drawn left to right and clipped.
public typealias Line = [Span]

extension Screen {
    /// Draws `line` at (x, y) within `width` columns; cells after it keep `fill` (if given).
    mutating func draw(_ line: Line, x: Int, y: Int, width: Int, fill: Role? = nil) {
        if let fill {
            for column in max(0, x)..<max(max(0, x), min(self.width, x + width)) { self[column, y] = Cell(" ", role: fill) }
        }
        var used = 0
        for span in line {
            guard used < width else { break }
            used += put(span.text, x: x + used, y: y, role: span.role, limit: width - used)
        }
    }
}

/// Display formats shared by the views.
enum Format {
    /// `59s`, `12m03s`, `3h07m`, `12d04h`.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + two(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + two(s % 3600 / 60) + "m" }
        return "\(s / 86400)d" + two(s % 86400 / 3600) + "h"
    }

    /// For the instance list: `<1m`, `12m`, `3h07m`, `12d04h`. A row does not change every second,
    /// so an idle screen writes almost nothing (the details pane keeps the seconds).
    static func coarseDuration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "<1m" }
        if s < 3600 { return "\(s / 60)m" }
        return duration(seconds)
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `812 KiB`, `2.3 MiB`.
    static func bytes(_ n: Int64) -> String {
        if n < 1 << 20 { return "\(n >> 10) KiB" }
        let tenths = (n * 10) >> 20
        return "\(tenths / 10).\(tenths % 10) MiB"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)).0s" : "\((value * 10).rounded() / 10)s"
    }

    /// Splits `text` into lines of at most `width` columns at spaces where possible.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if TextWidth.of(candidate) <= width {
                current = candidate
                continue
            }
            if !current.isEmpty { lines.append(current) }
            var rest = String(word)
            while TextWidth.of(rest) > width {
                var head = ""
                var used = 0
                for c in rest {
                    let w = TextWidth.of(c)
                    if used + w > width { break }
                    head.append(c)
                    used += w
                }
                if head.isEmpty { break }
                lines.append(head)
                rest = String(rest.dropFirst(head.count))
            }
            current = rest
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
