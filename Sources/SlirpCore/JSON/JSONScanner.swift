/// A forward-only reader of JSON tokens over bytes, for a reader that knows the exact shape it
/// expects (the quick `list_hostfwd` reader, `APIMessage+QuickList.swift`).
///
/// It builds no tree: `take` consumes one structural character, `string` hands back the range of
/// a string's bytes, `integer` a whole number. It accepts only the plain forms: a string with an
/// escape or a control character, a number with a fraction or exponent or more than 18 digits,
/// give nil, and the caller then reads the bytes whole with `JSONValue.parse`. The two readers
/// are one family: the scanner is the fast path for a shape known in advance, `JSONValue` is the
/// rule for everything else.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// True when only white space is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return i == bytes.count
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    /// Consumes `c` after any white space.
    mutating func take(_ c: Unicode.Scalar) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: c) else { return false }
        i += 1
        return true
    }

    /// The bytes of a string without escapes or control characters, after any white space.
    mutating func string() -> Range<Int>? {
        guard take("\"") else { return nil }
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return start..<(i - 1)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// The text of a string `string()` found.
    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// A JSON integer (no fraction, no exponent, no leading zero) that fits 18 digits.
    mutating func integer() -> Int? {
        skipSpace()
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let start = i
        var value = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            value = value &* 10 &+ Int(bytes[i] - 0x30) // wraps past 18 digits: refused below
            i += 1
        }
        let digits = i - start
        guard digits > 0, digits <= 18, !(digits > 1 && bytes[start] == 0x30) else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") { return nil }
        return negative ? -value : value
    }

    /// True when the string at `range` is exactly `text`.
    func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        for k in 0..<range.count where bytes[range.lowerBound + k] != text.utf8Start[k] { return false }
        return true
    }
}
