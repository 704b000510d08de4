/// The subset of TOML that slirpmon needs to read containers.conf: tables, strings
/// (basic, literal and multi-line), booleans, arrays (of strings, across lines, with
/// comments). Other values (numbers, dates, inline tables) are skipped without
/// failing, so a real containers.conf with every key set reads fine.
public enum TOMLSubset {
    /// A value slirpmon can use; everything else is `.other` with its raw text.
    public enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case array([Value])
        case other(String)

        /// The strings of an array of strings, or nil for any other value.
        public var strings: [String]? {
            guard case .array(let items) = self else { return nil }
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { return nil }
                result.append(text)
            }
            return result
        }
    }

    /// A syntax error, with its 1-based line.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses `text` into dotted keys (`engine.network_cmd_path`) and their values.
    public static func parse(_ text: String) throws(SyntaxError) -> [String: Value] {
        var scalars: [Unicode.Scalar] = [] // one decoding pass (Array(_:) counts them first: twice the work)
        scalars.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars { scalars.append(scalar) }
        var parser = Parser(scalars)
        return try parser.document()
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        var line = 1

        init(_ scalars: [Unicode.Scalar]) { s = scalars }

        var atEnd: Bool { i >= s.count }
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

        mutating func advance() {
            if s[i] == "\n" { line += 1 }
            i += 1
        }

        func error(_ message: String) -> SyntaxError { SyntaxError(line: line, message: message) }

        mutating func skipSpaces() { while let c = peek(), c == " " || c == "\t" { advance() } }

        /// Spaces, newlines and comments (inside arrays, between entries).
        mutating func skipBlank() {
            while let c = peek() {
                if c == " " || c == "\t" || c == "\n" || c == "\r" { advance() } else if c == "#" { skipComment() } else { return }
            }
        }

        mutating func skipComment() { while let c = peek(), c != "\n" { advance() } }

        /// After a value or header: only spaces and a comment may follow on the line.
        mutating func endOfLine() throws(SyntaxError) {
            skipSpaces()
            if peek() == "#" { skipComment() }
            if peek() == "\r" { advance() }
            guard atEnd || peek() == "\n" else { throw error("unexpected text after the value") }
        }

        mutating func document() throws(SyntaxError) -> [String: Value] {
            var result: [String: Value] = [:]
            var table: [String] = []
            while true {
                skipBlank()
                guard let c = peek() else { return result }
                if c == "[" {
                    advance()
                    let arrayOfTables = peek() == "["
                    if arrayOfTables { advance() }
                    table = try keyPath(until: "]")
                    guard peek() == "]" else { throw error("a table header must end with ]") }
                    advance()
                    if arrayOfTables {
                        guard peek() == "]" else { throw error("an array-of-tables header must end with ]]") }
                        advance()
                    }
                    try endOfLine()
                } else {
                    let key = try keyPath(until: "=")
                    guard peek() == "=" else { throw error("expected = after the key \(key.joined(separator: "."))") }
                    advance()
                    skipSpaces()
                    let v = try value()
                    result[(table + key).joined(separator: ".")] = v
                    try endOfLine()
                }
            }
        }

        /// `a.b."c d"` up to (not including) `terminator`.
        mutating func keyPath(until terminator: Unicode.Scalar) throws(SyntaxError) -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                guard let c = peek() else { throw error("unexpected end of file in a key") }
                if c == "\"" || c == "'" {
                    parts.append(try singleLineString())
                } else {
                    var part = ""
                    while let k = peek(), isBareKey(k) { part.unicodeScalars.append(k); advance() }
                    guard !part.isEmpty else { throw error("invalid character \(goQuoted(String(c))) in a key") }
                    parts.append(part)
                }
                skipSpaces()
                if peek() == "." { advance(); continue }
                guard peek() == terminator else { throw error("expected \(terminator) after the key") }
                return parts
            }
        }

        func isBareKey(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
        }

        mutating func value() throws(SyntaxError) -> Value {
            guard let c = peek() else { throw error("missing value") }
            switch c {
            case "\"", "'":
                if peek(1) == c && peek(2) == c { return .string(try multiLineString()) }
                return .string(try singleLineString())
            case "[":
                advance()
                var items: [Value] = []
                while true {
                    skipBlank()
                    guard let next = peek() else { throw error("unterminated array") }
                    if next == "]" { advance(); return .array(items) }
                    items.append(try value())
                    skipBlank()
                    if peek() == "," { advance(); continue }
                    skipBlank()
                    guard peek() == "]" else { throw error("expected , or ] in an array") }
                }
            case "{":
                // Inline table: skipped, keeping strings intact.
                var raw = ""
                var depth = 0
                while let k = peek() {
                    if k == "\"" || k == "'" { raw += goQuoted(try singleLineString()); continue }
                    if k == "\n" { throw error("an inline table must be on one line") }
                    raw.unicodeScalars.append(k)
                    advance()
                    if k == "{" { depth += 1 } else if k == "}" { depth -= 1; if depth == 0 { return .other(raw) } }
                }
                throw error("unterminated inline table")
            default:
                var raw = ""
                while let k = peek(), k != "\n", k != "\r", k != "#", k != ",", k != "]" { raw.unicodeScalars.append(k); advance() }
                raw = raw.trimmingSpaces
                if raw == "true" { return .bool(true) }
                if raw == "false" { return .bool(false) }
                guard !raw.isEmpty else { throw error("missing value") }
                return .other(raw)
            }
        }

        mutating func singleLineString() throws(SyntaxError) -> String {
            guard let quote = peek() else { throw error("missing string") }
            advance()
            var out = ""
            while let c = peek() {
                if c == "\n" { break }
                advance()
                if c == quote { return out }
                if c == "\\" && quote == "\"" { out += try escape() } else { out.unicodeScalars.append(c) }
            }
            throw error("unterminated string")
        }

        mutating func multiLineString() throws(SyntaxError) -> String {
            guard let quote = peek() else { throw error("missing string") }
            advance(); advance(); advance()
            if peek() == "\n" { advance() } else if peek() == "\r" && peek(1) == "\n" { advance(); advance() }
            var out = ""
            while let c = peek() {
                if c == quote && peek(1) == quote && peek(2) == quote {
                    advance(); advance(); advance()
                    return out
                }
                advance()
                if c == "\\" && quote == "\"" {
                    if let n = peek(), n == "\n" || n == " " || n == "\t" || n == "\r" {
                        skipBlank() // line-ending backslash: trim the newline and leading spaces
                    } else {
                        out += try escape()
                    }
                } else {
                    out.unicodeScalars.append(c)
                }
            }
            throw error("unterminated multi-line string")
        }

        /// The character after a backslash in a basic string.
        mutating func escape() throws(SyntaxError) -> String {
            guard let c = peek() else { throw error("unterminated escape") }
            advance()
            switch c {
            case "n": return "\n"
            case "t": return "\t"
            case "r": return "\r"
            case "b": return "\u{8}"
            case "f": return "\u{C}"
            case "\"": return "\""
            case "\\": return "\\"
            case "u", "U":
                let count = c == "u" ? 4 : 8
                var hex = ""
                for _ in 0..<count {
                    guard let h = peek() else { throw error("short unicode escape") }
                    hex.unicodeScalars.append(h)
                    advance()
                }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else { throw error("invalid unicode escape \\\(c)\(hex)") }
                return String(Character(scalar))
            default:
                throw error("invalid escape \\\(c)")
            }
        }
    }
}
