import Foundation
import Testing
@testable import SlirpCore

/// `TerminalText`: what a terminal would obey or not show is written as a visible escape, and
/// `--json` spells the same characters as `\uXXXX` that read back to the exact text.
@Suite("Text safe for a terminal")
struct TerminalTextUnitTests {
    /// Every kind the rule covers, with the form it is shown in.
    static let cases: [(String, String)] = [
        ("\u{1B}", #"\x1B"#), ("\u{7}", #"\x07"#), ("\r", #"\x0D"#), ("\u{0}", #"\x00"#), ("\u{7F}", #"\x7F"#),
        ("\u{9B}", #"\u{9B}"#), ("\u{80}", #"\u{80}"#), ("\u{9F}", #"\u{9F}"#),
        ("\u{202A}", #"\u{202A}"#), ("\u{202E}", #"\u{202E}"#), ("\u{2066}", #"\u{2066}"#), ("\u{2069}", #"\u{2069}"#),
        ("\u{200E}", #"\u{200E}"#), ("\u{200F}", #"\u{200F}"#), ("\u{061C}", #"\u{61C}"#),
        ("\u{200B}", #"\u{200B}"#), ("\u{200D}", #"\u{200D}"#), ("\u{00AD}", #"\u{AD}"#), ("\u{FEFF}", #"\u{FEFF}"#),
        ("\u{2028}", #"\u{2028}"#), ("\u{2029}", #"\u{2029}"#), ("\u{3164}", #"\u{3164}"#), ("\u{E0041}", #"\u{E0041}"#),
    ]

    @Test("each control, C1, bidi and invisible character is shown as its escape, in place")
    func escapes() {
        for (raw, shown) in Self.cases {
            #expect(TerminalText.escaping("a\(raw)b") == "a\(shown)b", "\(raw.unicodeScalars.map { $0.value })")
        }
    }

    @Test("a line escapes newline and tab; a block keeps them")
    func layouts() {
        #expect(TerminalText.escaping("x\ny\tz", as: .line) == #"x\x0Ay\x09z"#)
        #expect(TerminalText.escaping("x\ny\tz\u{1B}", as: .block) == "x\ny\tz\\x1B")
    }

    @Test("printable text passes as it is: ASCII, accents, CJK, emoji, backslashes")
    func plain() {
        for text in ["10.0.2.0/24", "/run/netns/netns-1234", "café", "容器", "🐳", #"C:\path\x1B"#, ""] {
            #expect(TerminalText.escaping(text) == text)
            #expect(TerminalText.escaping(bytes: Array(text.utf8)) == text)
        }
    }

    @Test("bytes that are not UTF-8 are shown by their value; valid characters around them are kept or escaped")
    func invalidBytes() {
        #expect(TerminalText.escaping(bytes: [0x61, 0x9B, 0x62]) == #"a\x9Bb"#)
        #expect(TerminalText.escaping(bytes: [0xC2, 0x9B, 0x9B]) == #"\u{9B}\x9B"#)
        #expect(TerminalText.escaping(bytes: [0xE2, 0x80]) == #"\xE2\x80"#, "a cut sequence")
        #expect(TerminalText.escaping(bytes: [0xC0, 0xAF]) == #"\xC0\xAF"#, "an overlong slash")
        #expect(TerminalText.escaping(bytes: [0xED, 0xA0, 0x80]) == #"\xED\xA0\x80"#, "a surrogate")
        #expect(TerminalText.escaping(bytes: Array("é容🐳\n".utf8) + [0xFF]) == "é容🐳\n\\xFF")
    }

    @Test("--json escapes DEL, C1, bidi and invisible characters as \\uXXXX and reads back to the exact string")
    func jsonRoundTrip() throws {
        let all = "x" + Self.cases.map(\.0).joined() + "é容🐳\"\\/"
        let bytes = try JSONText.encode(["k": all], pretty: false)
        for byte in bytes { #expect(byte >= 0x20 && byte != 0x7F, "raw byte \(byte)") }
        let text = try #require(String(validating: bytes, as: UTF8.self))
        for scalar in text.unicodeScalars { #expect(!TerminalText.isHidden(scalar), "raw U+\(String(scalar.value, radix: 16))") }
        #expect(text.contains(#"\u009b"#) && text.contains(#"\u202e"#) && text.contains(#"\u007f"#))
        #expect(text.contains(#"\udb40\udc41"#), "a tag beyond the BMP as a surrogate pair")
        #expect(text.contains("é容🐳"), "printable characters stay as UTF-8")
        let back = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
        #expect(back["k"] == all)
        #expect(try JSONValue.parse(Array(bytes)) == .object(["k": .string(all)]))
    }

    @Test("a reply's text from an API peer is one safe line")
    func apiPeerText() {
        #expect(APIMessage.printable("bad\u{1B}[2J\u{9B}\u{202E}\n") == #"bad\x1B[2J\u{9B}\u{202E}\x0A"#)
    }
}
