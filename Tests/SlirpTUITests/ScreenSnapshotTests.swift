import SlirpCore
import Testing
@testable import SlirpTUI

/// Whole screens at fixed sizes, compared with the saved text (and role map) beside the tests.
@Suite struct ScreenSnapshotTests {
    static let sizes = [Size(width: 80, height: 24), Size(width: 120, height: 40), Size(width: 40, height: 12)]

    func name(_ base: String, _ size: Size) -> String { "\(base)-\(size.width)x\(size.height)" }

    @Test(arguments: sizes) func listWithDetails(size: Size) {
        let state = Fixtures.state(size: size)
        assertSnapshot(render(state, size: size), named: name("details", size))
    }

    @Test(arguments: sizes) func addressMismatchIsHighlighted(size: Size) {
        var state = Fixtures.state(size: size)
        state.press(.down)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("details-mismatch", size))
        #expect(screen.cells.contains { $0.role == .addressMismatch })
    }

    @Test(arguments: sizes) func logPane(size: Size) {
        var state = Fixtures.state(size: size)
        let effects = state.press(.character("2"))
        #expect(effects == [.reloadLog(Fixtures.web)])
        _ = state.apply(.logLoaded(Fixtures.web, lines: Fixtures.logLines, truncatedBefore: false, error: nil))
        state.press(.tab, .character("/"))
        state.type("tapfd")
        state.press(.enter)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("log", size))
        #expect(screen.cells.contains { $0.role == .audit } || size.height < 14)
    }

    @Test(arguments: sizes) func forwardsPane(size: Size) {
        var state = Fixtures.state(size: size)
        let effects = state.press(.character("3"))
        #expect(effects == [.listForwards(EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock"))])
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        assertSnapshot(render(state, size: size), named: name("forwards", size))
    }

    @Test(arguments: sizes) func forwardsBlocked(size: Size) {
        var state = Fixtures.state(size: size)
        state.press(.down, .character("3"))
        assertSnapshot(render(state, size: size), named: name("forwards-blocked", size))
    }

    @Test(arguments: sizes) func formWithErrors(size: Size) {
        var state = Fixtures.state(size: size)
        state.press(.character("3"), .character("a"))
        state.type("99x9")
        state.press(.tab)
        state.type("80-81")
        state.press(.tab)
        state.type("10.0.2")
        assertSnapshot(render(state, size: size), named: name("form-errors", size))
    }

    @Test(arguments: sizes) func confirmRemove(size: Size) {
        var state = Fixtures.state(size: size)
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        state.press(.tab, .down, .character("d"))
        assertSnapshot(render(state, size: size), named: name("confirm", size))
    }

    @Test(arguments: sizes) func help(size: Size) {
        var state = Fixtures.state(size: size)
        state.press(.function(1))
        assertSnapshot(render(state, size: size), named: name("help", size))
    }

    @Test func helpReadOnlyHasNoStateChangingKeys() {
        var state = Fixtures.state(readOnly: true, size: Size(width: 100, height: 40))
        state.press(.character("?"))
        let screen = render(state, size: Size(width: 100, height: 40))
        assertSnapshot(screen, named: "help-readonly-100x40")
        #expect(!screen.text.contains("add a forward"))
        #expect(!screen.text.contains("AddFwd"))
    }

    @Test func readOnlyForwardsPaneOffersNoChanges() {
        var state = Fixtures.state(readOnly: true)
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, [], error: nil))
        let screen = render(state, size: Size(width: 80, height: 24))
        assertSnapshot(screen, named: "forwards-readonly-80x24")
        #expect(screen.text.contains("[read-only]"))
        #expect(!screen.text.contains("F7"))
        #expect(!screen.text.contains("Press a"))
    }

    @Test(arguments: sizes) func emptyState(size: Size) {
        var state = AppState(host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0"))
        state.size = size
        _ = state.apply(.inventory([], error: nil, clock: "12:00:00"))
        assertSnapshot(render(state, size: size), named: name("empty", size))
    }

    @Test func waitingForFirstScan() {
        let state = AppState(host: HostInfo(hostName: "testhost", userName: "root"))
        assertSnapshot(render(state, size: Size(width: 80, height: 24)), named: "waiting-80x24")
    }

    @Test(arguments: [Size(width: 30, height: 8), Size(width: 10, height: 3), Size(width: 20, height: 24), Size(width: 120, height: 9)])
    func tooSmall(size: Size) {
        let state = Fixtures.state(size: size)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: name("too-small", size))
        #expect(screen.text.contains("small") || size.width < 12)
    }

    @Test func nothingCrashesAtAnySmallSize() {
        var state = Fixtures.state()
        state.press(.character("3"), .character("a"))
        var wrong: [String] = []
        for width in 0...45 {
            for height in 0...14 {
                if let problem = screenProblem(render(state, size: Size(width: width, height: height)), width: width, height: height) { wrong.append(problem) }
            }
        }
        #expect(wrong.isEmpty, Comment(rawValue: wrong.prefix(5).joined(separator: "\n")))
    }

    @Test func wideCharactersTakeTwoCells() {
        var screen = Screen(size: Size(width: 6, height: 1))
        let used = screen.put("a漢b", x: 0, y: 0)
        #expect(used == 4)
        #expect(screen[2, 0].continuation)
        #expect(screen.text == "a漢b")
        #expect(screen.put("漢漢漢漢", x: 0, y: 0) == 6)
    }
}
