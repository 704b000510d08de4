import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
@testable import SlirpTUI
#if canImport(Glibc)
import Glibc
#endif

/// Small screens and big numbers in the real binary, in tmux, against a real slirp4netns: a
/// thousand forwards added through the API read `1000` in the list and one range when removed;
/// a key typed as the terminal shrinks to 10x3 does nothing unseen; the help at 40x12 keeps its
/// `more` marker on a row of its own.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct SmallScreenMonitorTests {
    /// The FWD cell of the row whose PID column is `pid`: the text ending where the FWD title ends.
    static func fwdCell(_ screen: String, pid: Int32) -> String {
        let rows = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = rows.first(where: { $0.contains("PID") && $0.contains(" FWD") }), let title = header.range(of: "FWD") else { return "" }
        let end = header.distance(from: header.startIndex, to: title.upperBound)
        for row in rows where row.split(separator: " ").dropFirst().first == Substring(String(pid)) {
            let characters = Array(row)
            guard characters.count >= end else { return "" }
            return String(characters[0..<end]).split(separator: " ").last.map(String.init) ?? ""
        }
        return ""
    }

    /// A loopback address of this test's own (127.X.Y.1): its 1000 host ports are free whatever
    /// else runs on the host.
    static func ownLoopback() -> String { "127.\(UInt8.random(in: 16...250)).\(UInt8.random(in: 1...250)).1" }

    @Test func aThousandForwardsReadOneThousandInTheFWDColumnAndFwdRmAllPrintsThemAsOneRange() throws {
        let lab = try TestLab("tui-kfwd")
        defer { withExtendedLifetime(lab) {} }
        let instance = try lab.start(SlirpLab.Spec(name: "k"))
        let address = Self.ownLoopback()
        let added = slirpmon(["fwd", "add", String(instance.pid), "\(address):30000-30999:30000-30999"])
        #expect(added.status == 0, "\(added.combined)")
        #expect(added.stdout == "added 1000 forwards, ids 1-1000\n", "\(added.stdout)")

        let tmux = TmuxHarness()
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: lab.tag)
        let shown = tmux.waitUntil { Self.fwdCell($0, pid: instance.pid) == "1000" }
        #expect(shown.found, "FWD is \(Self.fwdCell(shown.screen, pid: instance.pid)), not 1000:\n\(shown.screen)")

        // `fwd rm all` answers as `fwd add` did: one range, not 1000 numbers on a line.
        let removed = slirpmon(["fwd", "rm", String(instance.pid), "all"])
        #expect(removed.status == 0, "\(removed.combined)")
        #expect(removed.stdout == "removed 1000 forwards, ids 1-1000\n", "\(removed.stdout.prefix(300))")
        let json = slirpmon(["fwd", "rm", String(instance.pid), "all", "--json"])
        let ids = (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) as? [String: [Int]]
        #expect(json.status == 0 && ids == ["removed": [], "sent_no_answer": [], "not_sent": []], "JSON stays a list: \(json.combined)")
        let emptied = tmux.waitUntil { Self.fwdCell($0, pid: instance.pid) == "0" }
        #expect(emptied.found, "FWD did not follow the removal:\n\(emptied.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func aKeyTypedAsTheTerminalShrinksTo10x3DoesNothingUnseenAndTheHelpAt40x12KeepsItsMarkerOnARowOfItsOwn() throws {
        let lab = try TestLab("tui-small")
        defer { withExtendedLifetime(lab) {} }
        let instance = try lab.start(SlirpLab.Spec(name: "s"))
        let tmux = TmuxHarness(width: 100, height: 30)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: lab.tag)
        #expect(tmux.waitFor(" \(instance.pid) ").found)
        tmux.send("3")
        #expect(tmux.waitFor("No forwards added through the API socket").found, "\(tmux.capture())")

        // The resize and the key reach the monitor together (curses reports the resize after the
        // key): `a` is judged at 10x3, where only q acts. Several times: it must never open the form.
        for attempt in 1...3 {
            _ = try tmux.tmux(["resize-window", "-t", tmux.session, "-x", "10", "-y", "3", ";", "send-keys", "-t", tmux.session, "a"])
            let small = tmux.waitFor("q quits", timeout: 5)
            #expect(small.found, "attempt \(attempt): not the too-small screen:\n\(small.screen)")
            tmux.resize(width: 100, height: 30)
            let back = tmux.waitFor("F10Quit", timeout: 5)
            usleep(600_000)
            let screen = tmux.capture()
            #expect(back.found && !screen.contains("Add forward"), "attempt \(attempt): a acted at 10x3:\n\(screen)")
            if screen.contains("Add forward") { tmux.send("Escape") }
        }

        // The help at 40x12: ten rows of help lines as they are, the marker alone on row 10.
        tmux.resize(width: 40, height: 12)
        #expect(tmux.waitFor("F1Help", timeout: 5).found)
        tmux.send("?")
        let help = tmux.waitFor("more (Down/PgDn)", timeout: 5)
        #expect(help.found, "\(help.screen)")
        let rows = help.screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let expected = HelpView.lines(readOnly: false, width: 40).map { " " + $0.map(\.text).joined() }
        #expect(rows.count >= 12, "\(help.screen)")
        for row in 0..<min(10, rows.count) {
            #expect(rows[row].trimmingTrailingSpaces == expected[row].trimmingTrailingSpaces, "row \(row): \(rows[row]) (expected \(expected[row]))")
        }
        if rows.count > 10 {
            #expect(rows[10].trimmingTrailingSpaces == "  ↓ more (Down/PgDn)  1-10 of \(expected.count)", "the marker row: \(rows[10])")
        }
        tmux.send("Escape")

        // At 10x3, q quits.
        tmux.resize(width: 10, height: 3)
        #expect(tmux.waitFor("q quits", timeout: 5).found)
        tmux.send("q")
        tmux.resize(width: 100, height: 30)
        #expect(tmux.waitFor("EXITED 0").found, "\(tmux.capture())")
    }
}
