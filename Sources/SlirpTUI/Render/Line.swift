import SlirpCore

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

/// Text laid out in columns (the words themselves are SlirpCore's `Format`, shared with the CLI).
extension Format {
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
