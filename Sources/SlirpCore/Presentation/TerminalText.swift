/// Text from outside slirpmon, made safe to write to a terminal.
///
/// Almost everything slirpmon shows as root belongs to someone else: a user's process named
/// slirp4netns (its command line, socket and namespace paths, its log), Podman's words about a
/// user's container. A terminal obeys escape sequences in what it is given: ESC (0x1B) and the
/// C1 CSI (U+009B, or the byte 0x9B on a terminal not in UTF-8 mode) retitle it, clear it,
/// report back into its input; bidi overrides (U+202E) and invisible characters make text read
/// as something else. So every character a terminal would obey, or would not show, is written
/// as a visible escape instead. One rule, used by the CLI for every line it writes and by the
/// monitor for every cell it draws.
///
/// The visible form:
/// - `\xNN` (two upper-case hex digits) for one byte: an ASCII control (0x00-0x1F, apart from
///   the newline and tab a block of text keeps), DEL (0x7F), or a byte that is not part of
///   valid UTF-8 (such as a lone 0x9B).
/// - `\u{N}` (upper-case hex, as in Swift and Rust) for a Unicode character: the C1 controls
///   U+0080-U+009F, the format characters (general category Cf: bidi embeddings, overrides,
///   isolates and marks U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C; zero-width
///   spaces and joiners; the soft hyphen; the BOM; tags), the line and paragraph separators
///   U+2028 and U+2029, and the Hangul fillers (letters that draw nothing).
///
/// Everything else passes as it is, backslashes included: the form is for reading, not for
/// parsing back (`--json` and `slirpmon log --raw` give the exact text).
public enum TerminalText {
    /// What the text is: one line (a table cell, a field in a sentence, an error), or a block
    /// of lines that keeps its newlines and tabs.
    public enum Layout: Sendable {
        /// Newline and tab are escaped too: a newline in a user's path cannot start a line
        /// that reads as slirpmon's own.
        case line
        /// Newline and tab are kept.
        case block
    }

    /// `text` with every character a terminal would obey or hide written as a visible escape.
    public static func escaping(_ text: String, as layout: Layout = .line) -> String {
        // Printable ASCII (nearly every text): nothing to look at per character, no copy.
        if text.utf8.allSatisfy({ isPlainASCII($0, layout) }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if isHidden(scalar, layout) { appendEscape(of: scalar, to: &out) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// `bytes` as text (UTF-8), with a byte that is not part of valid UTF-8 written as `\xNN`
    /// and every character a terminal would obey or hide escaped as in `escaping(_:as:)`.
    /// (Decoding first would turn a lone 0x9B into U+FFFD and hide what the file holds.)
    public static func escaping<Bytes: Collection>(bytes: Bytes, as layout: Layout = .block) -> String where Bytes.Element == UInt8 {
        if bytes.allSatisfy({ isPlainASCII($0, layout) }) { return String(decoding: bytes, as: UTF8.self) }
        return decodingByHand(bytes: Array(bytes), layout: layout)
    }

    /// True when `scalar` is written as an escape in `layout`.
    public static func isHidden(_ scalar: Unicode.Scalar, _ layout: Layout = .line) -> Bool {
        let v = scalar.value
        if v < 0x20 { return !(layout == .block && (v == 0x0A || v == 0x09)) }
        if v < 0x7F { return false }
        if v <= 0x9F { return true } // DEL and C1
        // Ranges without a format character or separator (Unicode 14, checked against its
        // data): most text is decided without a look-up of its general category.
        if v < 0x600 { return v == 0xAD }
        if v >= 0x2070 && v < 0xFEFF { return v == 0x3164 }
        if v >= 0x1D17B && v < 0xE0000 { return false } // emoji and the rest of planes 1-13
        switch v {
        case 0x115F, 0x1160, 0xFFA0: return true // Hangul fillers (and U+3164 above): letters that draw nothing
        default: break
        }
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// True for a byte that is printable ASCII, or a newline or tab a block keeps.
    @inline(__always)
    private static func isPlainASCII(_ byte: UInt8, _ layout: Layout) -> Bool {
        (byte >= 0x20 && byte < 0x7F) || (layout == .block && (byte == 0x0A || byte == 0x09))
    }

    private static let hexDigits: [Character] = Array("0123456789ABCDEF")

    private static func appendEscape(of scalar: Unicode.Scalar, to out: inout String) {
        let v = scalar.value
        if v < 0x80 {
            appendByteEscape(UInt8(v), to: &out)
        } else {
            out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
        }
    }

    private static func appendByteEscape(_ byte: UInt8, to out: inout String) {
        out += "\\x"
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0xF)])
    }

    /// The slow path of `escaping(bytes:)`: decodes by hand, so that each byte that is not part
    /// of a valid sequence is shown by its value.
    private static func decodingByHand(bytes: [UInt8], layout: Layout) -> String {
        var out = ""
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        while i < bytes.count {
            let length = validSequenceLength(bytes, at: i)
            guard length > 0 else {
                appendByteEscape(bytes[i], to: &out)
                i += 1
                continue
            }
            let scalar = decodeScalar(bytes, at: i, length: length)
            if isHidden(scalar, layout) { appendEscape(of: scalar, to: &out) } else { out.unicodeScalars.append(scalar) }
            i += length
        }
        return out
    }

    /// The length of the valid UTF-8 sequence at `i` (1-4), or 0 when the byte there does not
    /// start one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
    private static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool { i + k < b.count && range.contains(b[i + k]) }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    private static func decodeScalar(_ b: [UInt8], at i: Int, length: Int) -> Unicode.Scalar {
        var v: UInt32
        switch length {
        case 1: v = UInt32(b[i])
        case 2: v = UInt32(b[i] & 0x1F)
        case 3: v = UInt32(b[i] & 0x0F)
        default: v = UInt32(b[i] & 0x07)
        }
        for k in 1..<length { v = v << 6 | UInt32(b[i + k] & 0x3F) }
        return Unicode.Scalar(v) ?? "\u{FFFD}" // unreachable: the sequence was checked
    }
}

extension StringProtocol {
    /// The text as one line safe for a terminal (`TerminalText.escaping(_:as: .line)`): for a
    /// field from outside slirpmon set into a sentence or a table cell.
    public var terminalSafe: String { TerminalText.escaping(String(self), as: .line) }
}
