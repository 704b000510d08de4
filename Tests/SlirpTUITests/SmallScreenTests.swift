import SlirpCore
import Testing
@testable import SlirpTUI

/// Small screens and big numbers, as the screen is drawn (`render`) and keys are handled, without
/// a terminal: what the operator sees at 10x3, 40x12 and 80x24 is whole, and nothing acts unseen.
@Suite("Small screens and big numbers")
struct SmallScreenTests {
    /// The FWD cell of the row whose PID is `pid`: the text that ends where the FWD title ends.
    static func fwdCell(_ screen: Screen, pid: Int32) -> String? {
        let rows = (0..<screen.height).map { screen.text(row: $0) }
        guard let header = rows.first(where: { $0.contains("PID") && $0.contains("FWD") }),
              let title = header.range(of: "FWD") else { return nil }
        let end = header.distance(from: header.startIndex, to: title.upperBound)
        for row in rows where row.split(separator: " ").dropFirst().first == Substring(String(pid)) {
            let characters = Array(row)
            guard characters.count >= end else { return nil }
            return String(characters[0..<end]).split(separator: " ").last.map(String.init)
        }
        return nil
    }

    @Test("a thousand forwards read 1000 in the FWD column, not 10…; past 9999 they read 12k")
    func aThousandForwardsFitTheFWDColumn() {
        for (count, expected) in [(2, "2"), (999, "999"), (1000, "1000"), (9999, "9999"), (12_345, "12k"), (131_070, "131k")] {
            var state = Fixtures.state(size: Size(width: 80, height: 24))
            var web = Fixtures.webSnapshot()
            web.forwardCount = count
            _ = state.apply(.inventory([web, Fixtures.customSnapshot(), Fixtures.noapiSnapshot()], error: nil, clock: "12:34:56"))
            let screen = render(state, size: state.size)
            #expect(Self.fwdCell(screen, pid: Fixtures.web.pid) == expected, "\(count) forwards:\n\(screen.text)")
            #expect(!screen.text.contains("…"), "a cut value:\n\(screen.text)")
        }
    }

    @Test("a column sorted on keeps its whole title beside the mark, and an uptime of 100 days fits its column")
    func sortMarksAndLongUptimesAreNotCut() {
        // Wide enough for every column (V6 is the first dropped).
        var state = Fixtures.state(size: Size(width: 120, height: 30))
        var web = Fixtures.webSnapshot()
        web.uptimeSeconds = 123 * 86_400 + 7200
        _ = state.apply(.inventory([web, Fixtures.customSnapshot(), Fixtures.noapiSnapshot()], error: nil, clock: "12:34:56"))
        #expect(render(state, size: state.size).text.contains(" 123d "), "\(render(state, size: state.size).text)")
        for column in [Column.state, .uptime, .forwards, .ipv6] {
            state.sortColumn = column
            let header = render(state, size: state.size).text(row: state.layout.columnHeaderRow)
            #expect(header.contains("▲" + column.title), "sorted by \(column.title): \(header)")
        }
    }

    @Test("at 10x3 ('terminal too small') a key does nothing unseen: a opens no form, F7 and ? nothing; q quits, and says so")
    func tooSmallOnlyQuitActs() {
        var state = Fixtures.state(size: Size(width: 100, height: 30))
        _ = state.press(.character("3"))
        state.size = Size(width: 10, height: 3)
        let before = state.mode
        for key: Key in [.character("a"), .function(7), .character("?"), .character("D"), .character("/"), .enter, .down, .character("d"), .tab] {
            #expect(state.handle(key).effects.isEmpty, "\(key)")
            #expect(state.mode == before, "\(key) changed the mode unseen: \(state.mode)")
        }
        #expect(state.pane == .forwards && state.focus == .list)
        state.size = Size(width: 100, height: 30)
        #expect(render(state, size: state.size).text.contains("Add forward") == false)
        // With the form open when the terminal shrinks, q quits instead of typing into it.
        _ = state.press(.character("a"))
        guard case .form = state.mode else { Issue.record("the form did not open at 100x30"); return }
        state.size = Size(width: 10, height: 3)
        #expect(state.handle(.character("q")).effects == [.quit])
        #expect(render(state, size: state.size).text.contains("q quits"), "\(render(state, size: state.size).text)")
        #expect(render(state, size: Size(width: 20, height: 5)).text.contains("(q quits)"))
    }

    @Test("at 40x12 the forwards pane shows each guest port whole, the form its Esc key, and a line wider than a box ends in …")
    func panesAndDialogsAtFortyByTwelve() {
        var state = Fixtures.state(size: Size(width: 40, height: 12))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        _ = state.press(.character("3"))
        let pane = render(state, size: state.size).text
        #expect(pane.contains(" 1 127.0.0.1:18080 -> 10.0.2.100:80/tcp"), "\(pane)")
        _ = state.press(.tab, .down)
        let second = render(state, size: state.size).text
        #expect(second.contains(" 2 0.0.0.0:5353    -> 10.0.2.100:53/udp"), "\(second)")
        _ = state.press(.tab)
        _ = state.press(.character("a"))
        let form = render(state, size: state.size).text
        #expect(form.contains("Enter send  Tab field  Esc cancel") && form.contains("(invalid)"), "\(form)")
        #expect(DialogBox.clipped([Span("ab", .header), Span("cdef")], to: 4) == [Span("ab", .header), Span("c"), Span("…")])
        #expect(DialogBox.clipped([Span("abcd")], to: 4) == [Span("abcd")])
    }

    @Test("at 40x12 a host name typed in double-width characters is cut by its display width: its lines in the add-forward box end in … inside the frame")
    func doubleWidthNameInADialogAtFortyByTwelve() {
        var state = Fixtures.state(size: Size(width: 40, height: 12))
        _ = state.press(.character("a"))
        _ = state.press(.up)
        for _ in 0..<9 { _ = state.press(.backspace) }
        for c in "ウェブサーバー.例え.テスト.jp" { _ = state.press(.character(c)) }
        guard case .form(let form) = state.mode, form.value(.hostAddress) == "ウェブサーバー.例え.テスト.jp" else { Issue.record("not typed: \(state.mode)"); return }
        let screen = render(state, size: state.size)
        // The box's columns, in cells (a double-width character takes two): from ┌ to ┐.
        let top = (0..<screen.height).first { y in (0..<screen.width).contains { screen[$0, y].character == "┌" } } ?? 0
        let left = (0..<screen.width).first { screen[$0, top].character == "┌" } ?? 0
        let right = (0..<screen.width).first { screen[$0, top].character == "┐" } ?? 0
        func inside(_ y: Int) -> String {
            String(String((left + 1..<right).map { screen[$0, y] }.filter { !$0.continuation }.map(\.character)).drop { $0 == " " }).trimmingTrailingSpaces
        }
        let rows = (top..<screen.height).filter { y in inside(y).contains("ウェブ") }
        #expect(rows.map(inside) == ["Host address   ウェブサーバー.…  ✗", "ウェブサーバー.例え.テスト.jp::/t…"], "\(screen.text)")
        for y in rows { #expect(screen[right, y].character == "│", "the frame, row \(y): \(screen.text(row: y))") }
        #expect(DialogBox.clipped([Span("東京東京")], to: 5) == [Span("東京"), Span("…")])
        #expect(DialogBox.clipped([Span("東京東", .header), Span("ab")], to: 6) == [Span("東京", .header), Span("…")])
    }

    @Test("the help at 40x12 keeps its more marker on a row of its own, every line whole, and scrolls to its end and back")
    func helpAtFortyByTwelve() {
        var state = Fixtures.state(size: Size(width: 40, height: 12))
        _ = state.press(.character("?"))
        let all = HelpView.lines(readOnly: false, width: 40).map { line in line.map(\.text).joined() }
        for line in all { #expect(TextWidth.of(line) <= 39, "cut at the right edge: \(line)") }
        var seen = Set<Int>()
        var previous = -1
        for _ in 0..<(all.count + 5) {
            guard case .help(let top) = state.mode else { Issue.record("the help closed"); return }
            guard top + 10 <= all.count else { Issue.record("scrolled past the end: top \(top) of \(all.count) lines"); break }
            let screen = render(state, size: state.size)
            // Rows 0...9: help lines as they are; row 10: the marker alone; row 11: the function bar.
            let marker = screen.text(row: 10)
            let word = top + 10 < all.count ? "↓ more (Down/PgDn)" : "end (Up/PgUp)"
            #expect(marker.trimmingTrailingSpaces == "  \(word)  \(top + 1)-\(top + 10) of \(all.count)", "row 10: \(marker)")
            for row in 0..<10 {
                #expect(screen.text(row: row).trimmingTrailingSpaces == (" " + all[top + row]).trimmingTrailingSpaces,
                        "top \(top), row \(row): \(screen.text(row: row))")
                seen.insert(top + row)
            }
            #expect(screen.text(row: 11).hasPrefix("F1Help"))
            previous = top
            _ = state.press(.down)
        }
        #expect(seen == Set(0..<all.count), "lines never shown: \(Set(0..<all.count).subtracting(seen).sorted())")
        #expect(previous == all.count - 10)
        // Past the end, Up moves at once.
        _ = state.press(.up)
        #expect(state.mode == .help(top: all.count - 11))
        #expect(render(state, size: state.size).text(row: 10).contains("more"))
    }
}
