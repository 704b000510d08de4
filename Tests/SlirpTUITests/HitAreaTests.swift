import SlirpCore
import Testing
@testable import SlirpTUI

/// A click reaches what the screen shows under it: the areas the views record as they draw.
@Suite struct HitAreaTests {
    /// The row of `screen` whose text contains `text`.
    static func row(of text: String, in screen: Screen) -> Int? {
        (0..<screen.height).first { screen.text(row: $0).contains(text) }
    }

    @Test("a click on a forward selects the forward drawn there, also under a 'last refresh failed' line")
    func aClickOnAForwardSelectsTheOneDrawnThere() throws {
        var state = Fixtures.state()
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        _ = state.apply(.forwards(Fixtures.web, nil, error: "no answer within 2 s"))
        let screen = render(state, size: state.size)
        #expect(screen.text.contains("last refresh failed"))
        let y = try #require(Self.row(of: "0.0.0.0:5353", in: screen))
        state.press(.click(x: 12, y: y))
        #expect(state.selectedForward?.id == 2, "clicked the row of forward 2:\n\(screen.text)")
        #expect(state.focus == .pane)
        // The line above the table is not a forward: a click there only focuses the pane.
        state.press(.click(x: 12, y: try #require(Self.row(of: "last refresh failed", in: screen))))
        #expect(state.selectedForward?.id == 2)
    }

    @Test("a click on each list row selects the instance shown on it; on each tab, that pane; on each function key, what the key does")
    func everyDrawnAreaReachesWhatItShows() throws {
        var state = Fixtures.state()
        let screen = render(state, size: state.size)
        for name in ["4242", "4243", "4244"] {
            state.press(.click(x: 3, y: try #require(Self.row(of: " \(name) ", in: screen))))
            #expect(state.selectedRow.map { String($0.snapshot.pid) } == name)
            #expect(state.focus == .list)
        }
        let tabs = try #require(Self.row(of: " 1 Details ", in: screen))
        for pane in Pane.allCases.reversed() {
            let label = " \(pane.rawValue + 1) \(pane.title) "
            let x = try #require(screen.text(row: tabs).range(of: label).map { screen.text(row: tabs).distance(from: screen.text(row: tabs).startIndex, to: $0.lowerBound) })
            state.press(.click(x: x + label.count - 1, y: tabs))
            #expect(state.pane == pane)
        }
        let bar = screen.height - 1
        let barText = screen.text(row: bar)
        for (key, expected) in [("F4Filter", Mode.prompt(Prompt(kind: .filter, text: ""))), ("F1Help", .help(top: 0))] {
            var pressed = Fixtures.state()
            let x = try #require(barText.range(of: key).map { barText.distance(from: barText.startIndex, to: $0.lowerBound) })
            pressed.press(.click(x: x + key.count - 1, y: bar))
            #expect(pressed.mode == expected, "clicked \(key)")
        }
    }
}
