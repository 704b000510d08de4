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

/// Lines laid out in columns.
enum LineLayout {
    /// `line` in lines of at most `width` columns, broken after a run of blanks (a word longer
    /// than a line is cut across lines), every character keeping its span's role; lines after
    /// the first start with `indent` blanks. Blanks inside a line are kept (padded key columns).
    static func wrap(_ line: Line, width: Int, indent: Int = 0) -> [Line] {
        guard width > indent else { return [line] }
        // Tokens: a word and the blanks after it.
        var tokens: [[(Character, Role)]] = []
        var token: [(Character, Role)] = []
        var inBlanks = false
        for span in line {
            for c in span.text {
                if c == " " {
                    inBlanks = true
                } else if inBlanks {
                    tokens.append(token)
                    token = []
                    inBlanks = false
                }
                token.append((c, span.role))
            }
        }
        if !token.isEmpty { tokens.append(token) }
        var rows: [[(Character, Role)]] = [[]]
        var used = 0
        func breakLine() {
            rows.append(Array(repeating: (" ", .normal), count: indent))
            used = indent
        }
        for token in tokens {
            let word = token.prefix { $0.0 != " " }
            let wordWidth = word.reduce(0) { $0 + TextWidth.of($1.0) }
            if used + wordWidth > width && used > indent { breakLine() }
            for (c, role) in token {
                let w = TextWidth.of(c)
                if c == " " && used + w > width { continue } // blanks at a break are dropped
                if used + w > width { breakLine() }
                rows[rows.count - 1].append((c, role))
                used += w
            }
        }
        return rows.map { row in
            var spans: Line = []
            for (c, role) in row {
                if let last = spans.last, last.role == role { spans[spans.count - 1].text.append(c) } else { spans.append(Span(String(c), role)) }
            }
            return spans
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
