import Testing
@testable import SlirpCore

/// `byteLines` and `byteFields` cut /proc texts in place (`Substring.pieces`): they must give
/// exactly the pieces the generic split gives, for any text, inside a larger string or not.
@Suite("Splitting /proc texts on bytes")
struct TextBytesTests {
    static func reference(_ text: Substring, _ isSeparator: (UInt8) -> Bool) -> [Substring] {
        text.utf8.split(whereSeparator: isSeparator).map { Substring($0) }
    }

    static let samples: [String] = [
        "", "\n", "\n\n\n", "a", "a\n", "\na", "a\n\nb\n", "  lead and trail  ", "\t\tt\tabs \t mixed\t",
        "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes\n  tap0:  110       1    0    0    0     0          0         0      602       7\n",
        "héllo wörld\n€ 1\t2\n日本 語\n", "no-separator-at-all",
    ]

    @Test("the same lines and fields as the generic split, for fixed and random texts, whole or cut out of a larger string")
    func sameAsGenericSplit() {
        var texts = Self.samples
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", " ", "\t", "\n", "é", "1", ":", "|"]
        for _ in 0..<300 {
            texts.append(String((0..<Int.random(in: 0..<80, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" }))
        }
        for text in texts {
            for slice in [Substring(text), Substring("x \n" + text + " \ny").dropFirst(3).dropLast(3)] {
                #expect(slice.byteLines == Self.reference(slice, { $0 == 10 }), "\(Array(slice.utf8))")
                #expect(slice.byteFields == Self.reference(slice, { $0 == 32 || $0 == 9 }), "\(Array(slice.utf8))")
            }
        }
    }
}
