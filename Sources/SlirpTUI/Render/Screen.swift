import SlirpCore

/// What a cell means, never what colour it is: the terminal layer maps roles to attributes.
public enum Role: UInt8, CaseIterable, Sendable {
    case normal, header, columnHeader, selection, selectionUnfocused, dim, warning, error
    case addressMismatch, ok, functionKey, functionLabel, audit, searchMatch
    case paneTitle, paneTitleFocused, input, inputFocused, status, statusError, gone

    /// One letter per role, for snapshot files.
    public var code: Character {
        switch self {
        case .normal: "."
        case .header: "H"
        case .columnHeader: "C"
        case .selection: "S"
        case .selectionUnfocused: "s"
        case .dim: "d"
        case .warning: "W"
        case .error: "E"
        case .addressMismatch: "M"
        case .ok: "o"
        case .functionKey: "K"
        case .functionLabel: "k"
        case .audit: "A"
        case .searchMatch: "/"
        case .paneTitle: "t"
        case .paneTitleFocused: "T"
        case .input: "i"
        case .inputFocused: "I"
        case .status: "u"
        case .statusError: "X"
        case .gone: "g"
        }
    }
}

/// One character cell. A wide character occupies its cell and a `continuation` cell after it.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var role: Role
    public var continuation: Bool

    public init(_ character: Character = " ", role: Role = .normal, continuation: Bool = false) {
        self.character = character
        self.role = role
        self.continuation = continuation
    }
}

/// A size in character cells.
public struct Size: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
    }
}

/// A grid of cells: what the terminal should show, built without a terminal.
public struct Screen: Equatable, Sendable {
    public let size: Size
    public private(set) var cells: [Cell]
    /// Where a click or the wheel reaches what, as the views drew it (`HitArea.swift`).
    public internal(set) var hitAreas: [HitArea] = []

    public init(size: Size) {
        self.size = size
        cells = Array(repeating: Cell(), count: size.width * size.height)
    }

    public var width: Int { size.width }
    public var height: Int { size.height }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * size.width + x] }
        set { cells[y * size.width + x] = newValue }
    }

    /// Writes `text` at (x, y) clipped to `limit` columns (and the screen); returns the columns used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: Role = .normal, limit: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let end = min(width, x + (limit ?? width))
        var column = x
        for character in text {
            let w = TextWidth.of(character)
            if w == 0 { continue }
            if column + w > end { break }
            if column >= 0 {
                let printable: Character = character.isControlLike ? "?" : character
                self[column, y] = Cell(printable, role: role)
                if w == 2 { self[column + 1, y] = Cell(" ", role: role, continuation: true) }
            }
            column += w
        }
        return column - x
    }

    /// Sets the role of `count` cells from (x, y), keeping their characters.
    public mutating func paint(x: Int, y: Int, count: Int, role: Role) {
        guard y >= 0, y < height else { return }
        for column in max(0, x)..<max(max(0, x), min(width, x + count)) { self[column, y].role = role }
    }

    /// Fills a whole row with blanks of `role`.
    public mutating func fill(row y: Int, role: Role) {
        guard y >= 0, y < height else { return }
        for column in 0..<width { self[column, y] = Cell(" ", role: role) }
    }

    /// The characters of one row.
    public func text(row y: Int) -> String {
        var line = ""
        for x in 0..<width where !self[x, y].continuation { line.append(self[x, y].character) }
        return line
    }

    /// Rows of text, trailing blanks removed: what a snapshot stores.
    public var text: String {
        (0..<height).map { text(row: $0).trimmingTrailingSpaces }.joined(separator: "\n")
    }

    /// Rows of role codes (one per cell), trailing normal cells removed.
    public var roleMap: String {
        (0..<height).map { y in
            var line = String((0..<width).map { self[$0, y].role.code })
            while line.last == "." { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}

/// Display width of characters: 0 for combining marks, 2 for East Asian wide and emoji, else 1.
public enum TextWidth {
    public static func of(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let v = scalar.value
        if v < 0x300 { return 1 }
        if TerminalText.isHidden(scalar) { return 1 } // drawn as one `?` (see Character.isControlLike)
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x20000...0x3FFFD).contains(v) {
            return 2
        }
        return 1
    }

    public static func of(_ text: String) -> Int {
        // Printable ASCII (nearly every cell of a frame): one column a byte, no grapheme breaking.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text.utf8.count }
        return text.reduce(0) { $0 + of($1) }
    }
}

extension Character {
    /// A character the terminal would obey or not show (`TerminalText.isHidden`: controls, DEL,
    /// C1, bidi and other format characters): never written as it is, but as one `?` cell, so a
    /// hidden character takes one column and the grid's columns stay where they were laid out
    /// (the CLI, which has no grid, writes the same characters as `\xNN` / `\u{N}`).
    var isControlLike: Bool {
        if let first = unicodeScalars.first, first.value >= 0x20, first.value < 0x7F, unicodeScalars.count == 1 { return false }
        return unicodeScalars.contains { TerminalText.isHidden($0) }
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }

    /// Clipped to `width` columns, with `…` when something was cut.
    func clipped(to width: Int) -> String {
        guard width > 0 else { return "" }
        if TextWidth.of(self) <= width { return self }
        return prefix(columns: width - 1) + "…"
    }

    /// The longest start of the text that fits `columns` display columns (`TextWidth`): a
    /// double-width character that would straddle the edge is left out.
    func prefix(columns: Int) -> String {
        var out = ""
        var used = 0
        for c in self {
            let w = TextWidth.of(c)
            if used + w > columns { break }
            out.append(c)
            used += w
        }
        return out
    }

    /// Padded with spaces (or clipped) to exactly `width` columns.
    func padded(to width: Int, right: Bool = false) -> String {
        let clipped = self.clipped(to: width)
        let pad = String(repeating: " ", count: max(0, width - TextWidth.of(clipped)))
        return right ? pad + clipped : clipped + pad
    }
}
