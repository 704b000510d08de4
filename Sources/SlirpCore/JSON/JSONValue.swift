/// A JSON value, parsed from bytes by a small strict parser (RFC 8259).
///
/// The slirp4netns replies are read on every refresh, once per instance; Foundation's
/// `JSONSerialization` spends most of its time on generic metadata look-ups per string.
/// This parser makes one pass over the bytes and allocates only the values.
public indirect enum JSONValue: Sendable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// A number written without fraction or exponent that fits `Int` (kept exact).
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    public struct SyntaxError: Error, Sendable, Equatable {
        public let offset: Int
    }

    /// Parses one JSON object or array, with white space around it; any other top-level value
    /// (a string, a number, `null`) only when `fragmentsAllowed` (as `JSONSerialization`'s option).
    public static func parse(_ bytes: [UInt8], fragmentsAllowed: Bool = false) throws(SyntaxError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        guard let first = parser.peek, fragmentsAllowed || first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { throw SyntaxError(offset: parser.i) }
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.i == bytes.count else { throw SyntaxError(offset: parser.i) }
        return value
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// A number with an exact integer value (not `true`, not `1.5`, not `1e30`).
    public var integer: Int? {
        switch self {
        case .integer(let n): return n
        case .number(let n): return Int(exactly: n)
        default: return nil
        }
    }

    public var string: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    public var bool: Bool? {
        guard case .bool(let b) = self else { return nil }
        return b
    }

    /// The items of an array.
    public var array: [JSONValue]? {
        guard case .array(let items) = self else { return nil }
        return items
    }

    /// The members of an object.
    public var object: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    /// An array of strings, or nil when it is not an array or one item is not a string.
    public var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    /// A string's own text; any other value as compact JSON-like text (for messages).
    public var compactDescription: String {
        switch self {
        case .string(let s): return s
        case .integer(let n): return String(n)
        case .number(let n): return Int(exactly: n).map(String.init) ?? String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.quoted).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value.quoted)" }.joined(separator: ",") + "}"
        }
    }

    private var quoted: String {
        if case .string(let s) = self { return "\"" + s + "\"" }
        return compactDescription
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        static let maximumDepth = 128

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        func fail() -> SyntaxError { SyntaxError(offset: i) }

        mutating func expect(_ literal: StaticString) throws(SyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard i + count <= bytes.count else { throw fail() }
            for k in 0..<count where bytes[i + k] != literal.utf8Start[k] { throw fail() }
            i += count
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth < Self.maximumDepth else { throw fail() }
            skipSpace()
            guard let c = peek else { throw fail() }
            switch c {
            case UInt8(ascii: "{"):
                i += 1
                var members: [String: JSONValue] = [:]
                members.reserveCapacity(8) // a forward has 6 members: no regrowth on the way
                skipSpace()
                if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard peek == UInt8(ascii: "\"") else { throw fail() }
                    let key = try string()
                    skipSpace()
                    guard peek == UInt8(ascii: ":") else { throw fail() }
                    i += 1
                    members[key] = try value(depth: depth + 1)
                    skipSpace()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
                    throw fail()
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSONValue] = []
                skipSpace()
                if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw fail()
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return try number()
            }
        }

        mutating func number() throws(SyntaxError) -> JSONValue {
            let start = i
            func digits() -> Int {
                let s = i
                while let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
                return i - s
            }
            if peek == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            guard digits() > 0 else { throw fail() }
            if bytes[intStart] == 0x30 && i - intStart > 1 { throw fail() } // no leading zeros
            var whole = true
            if peek == UInt8(ascii: ".") {
                i += 1
                whole = false
                guard digits() > 0 else { throw fail() }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                whole = false
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail() }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if whole, let exact = Int(text) { return .integer(exact) }
            guard let value = Double(text) else { throw fail() }
            return .number(value)
        }

        mutating func string() throws(SyntaxError) -> String {
            i += 1 // the opening quote
            let start = i
            // Fast path: no escapes.
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    let s = String(decoding: bytes[start..<i], as: UTF8.self)
                    i += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw fail() }
                i += 1
            }
            var out = Array(bytes[start..<i])
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if c < 0x20 { throw fail() }
                if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
                i += 1
                guard let e = peek else { throw fail() }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            Self.append(scalar, to: &out) // a lone high surrogate: U+FFFD
                            scalar = low
                        }
                    }
                    Self.append(scalar, to: &out)
                default: throw fail()
                }
            }
            throw fail()
        }

        /// Appends the UTF-8 of a scalar, or of U+FFFD for a surrogate.
        static func append(_ scalar: UInt32, to out: inout [UInt8]) {
            if let u = Unicode.Scalar(scalar) { out.append(contentsOf: String(u).utf8) } else { out += [0xEF, 0xBF, 0xBD] }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail() }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail()
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }
    }
}
