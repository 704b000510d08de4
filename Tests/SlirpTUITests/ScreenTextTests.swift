import SlirpCore
import Testing
@testable import SlirpTUI

/// The monitor draws a user's text into cells: what a terminal would obey or not show
/// (`TerminalText.isHidden`) is one `?` cell, never the character itself and never nothing.
@Suite struct ScreenTextTests {
    @Test("a user's path with ESC, C1, a bidi override and a zero-width space is drawn with a ? for each, in its columns")
    func hiddenCharactersAreQuestionMarks() {
        var screen = Screen(size: Size(width: 40, height: 1))
        let path = "/run/a\u{202E}b\u{1B}c\u{9B}d\u{200B}e\u{2066}f"
        let used = screen.put(path, x: 0, y: 0)
        #expect(screen.text(row: 0).hasPrefix("/run/a?b?c?d?e?f "))
        #expect(used == 16)
        #expect(TextWidth.of(path) == 16, "laid out as drawn")
        for x in 0..<40 { #expect(screen[x, 0].character.unicodeScalars.allSatisfy { !TerminalText.isHidden($0) }) }
    }
}
