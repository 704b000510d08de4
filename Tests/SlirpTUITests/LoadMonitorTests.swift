import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The load columns in the real monitor, in tmux, over real slirp4netns with real traffic.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun, "\(TmuxHarness.unavailableReason ?? "")"))
struct LoadMonitorTests {
    /// The text of the column titled `title` (right-aligned, `width` wide) in the row showing `marker`.
    static func cell(_ screen: String, title: String, width: Int, row marker: String) -> String? {
        let lines = screen.components(separatedBy: "\n")
        guard let header = lines.first(where: { $0.contains("PID") && $0.contains(title) }),
              let line = lines.first(where: { $0.contains(marker) }),
              let range = header.range(of: title) else { return nil }
        let end = header.distance(from: header.startIndex, to: range.upperBound)
        let chars = Array(line)
        guard end <= chars.count else { return nil }
        let start = max(0, end - max(width, title.count))
        return String(chars[start..<end]).trimmingCharacters(in: .whitespaces)
    }

    @Test("a slirp4netns carrying a stream shows its RX/s in the monitor (not selected: at the namespace's 30 s cadence), and sorting by RX/s puts it above an idle one")
    func rxColumnShowsTrafficAndSorts() throws {
        let lab = try TestLab("tui-ld")
        defer { withExtendedLifetime(lab) {} }
        // The idle one first: the lower PID, so the selection (read every refresh) is the idle row.
        let idle = try lab.start(.init(name: "i", cidr: "10.77.42.0/24", apiSocket: false))
        let port = try DemoFleet.freeTCPPort()
        var spec = SlirpLab.Spec(name: "b", cidr: "10.77.41.0/24", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)])
        spec.server = .init(command: ["socat", "-u", "TCP-LISTEN:80,reuseaddr,fork", "OPEN:/dev/null"], ports: [80])
        let busy = try lab.start(spec)
        // About 1 MB/s into the busy one's namespace for the whole test, in a process group of its own (stopped whole).
        let setsid = try #require(Executables.find("setsid"))
        let stream = try Executables.spawn(setsid, ["sh", "-c", "while head -c 200000 /dev/zero; do sleep 0.2; done | socat -u - TCP:127.0.0.1:\(port.value)"]).get()
        defer { kill(-stream, SIGKILL); Executables.waitFor(stream) }

        let tmux = TmuxHarness(width: 170, height: 30)
        defer { tmux.tearDown() }
        try tmux.startMonitor(filteredTo: lab.tag)
        let both = tmux.waitUntil { $0.contains("10.77.41.100") && $0.contains("10.77.42.100") }
        #expect(both.found, "both rows shown:\n\(both.screen)")
        #expect(both.screen.contains("CPU%") && both.screen.contains("RSS") && both.screen.contains("RX/s") && both.screen.contains("TX/s"), "\(both.screen)")
        // Its second namespace read comes InventoryCache.monitorAddressMaxAge after the first.
        let measured = tmux.waitUntil(timeout: InventoryCache.monitorAddressMaxAge + 20) { screen in
            guard let text = Self.cell(screen, title: "RX/s", width: 5, row: "10.77.41.100") else { return false }
            return text.hasSuffix("K") || text.hasSuffix("M")
        }
        #expect(measured.found, "the streaming row's RX/s shows its traffic:\n\(measured.screen)")
        let cpu = Self.cell(measured.screen, title: "CPU%", width: 5, row: "10.77.41.100")
        #expect(cpu.flatMap(Double.init) != nil, "CPU% is a number: \(cpu ?? "nil")\n\(measured.screen)")

        // Sort by RX/s, descending: the streaming row first.
        var sorted = (found: false, screen: "")
        for _ in 0..<16 where !sorted.found {
            tmux.send(">")
            sorted = tmux.waitFor("RX/s ascending", timeout: 1)
        }
        #expect(sorted.found, "the sort key reaches RX/s:\n\(sorted.screen)")
        tmux.send("<")
        let descending = tmux.waitUntil { screen in
            guard screen.contains("▼RX/s"), let b = screen.range(of: "10.77.41.100"), let i = screen.range(of: "10.77.42.100") else { return false }
            return b.lowerBound < i.lowerBound
        }
        #expect(descending.found, "sorted by RX/s descending, the streaming row is above the idle one:\n\(descending.screen)")
        tmux.send("<")
        let ascending = tmux.waitUntil { screen in
            guard screen.contains("▲RX/s"), let b = screen.range(of: "10.77.41.100"), let i = screen.range(of: "10.77.42.100") else { return false }
            return i.lowerBound < b.lowerBound
        }
        #expect(ascending.found, "ascending: the idle row first:\n\(ascending.screen)")
        _ = idle
        _ = busy
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    /// The SGR attributes (1 bold, 2 dim, 7 reverse...) in effect at each character of one line of a
    /// `capture-pane -e` screen, with the line's text: tmux writes an attribute only where it changes.
    static func attributed(_ line: String) -> [(Character, Set<Int>)] {
        var out: [(Character, Set<Int>)] = []
        var active = Set<Int>()
        let chars = Array(line)
        var i = 0
        while i < chars.count {
            if chars[i] == "\u{1B}", i + 1 < chars.count, chars[i + 1] == "[" {
                var j = i + 2, body = ""
                while j < chars.count, chars[j] != "m", body.count < 32 { body.append(chars[j]); j += 1 }
                for p in body.split(separator: ";", omittingEmptySubsequences: false).map({ Int($0) ?? 0 }) {
                    switch p {
                    case 0: active = []
                    case 22: active.subtract([1, 2])
                    case 27: active.remove(7)
                    default: if p < 10 { active.insert(p) }
                    }
                }
                i = j + 1
                continue
            }
            out.append((chars[i], active))
            i += 1
        }
        return out
    }

    /// Whether the RX/s cell of the row showing `marker` is dimmed, and its text; nil when not found.
    static func rxCell(_ tmux: TmuxHarness, row marker: String) -> (text: String, dim: Bool)? {
        let plain = tmux.capture(), escaped = tmux.capture(escapes: true)
        guard let header = plain.components(separatedBy: "\n").first(where: { $0.contains("PID") && $0.contains("RX/s") }),
              let range = header.range(of: "RX/s") else { return nil }
        let end = header.distance(from: header.startIndex, to: range.upperBound)
        guard let line = escaped.components(separatedBy: "\n").map(attributed).first(where: { String($0.map(\.0)).contains(marker) }),
              end <= line.count else { return nil }
        let cell = line[(end - 5)..<end]
        let text = String(cell.map(\.0)).trimmingCharacters(in: .whitespaces)
        return (text, cell.filter { $0.0 != " " }.allSatisfy { $0.1.contains(2) })
    }

    @Test("tap rates are never shown as current when they are not: an unselected row's (its namespace read every 30 s) are dimmed after one refresh, the selected row's are not; a namespace whose read fails shows none")
    func oldTapRatesAreDimmedAndFailedOnesCleared() throws {
        let lab = try TestLab("tui-age")
        defer { withExtendedLifetime(lab) {} }
        // The first started, with the lower PID, is the selection (read every refresh).
        let selected = try lab.start(.init(name: "s", cidr: "10.77.44.0/24", apiSocket: false))
        let other = try lab.start(.init(name: "o", cidr: "10.77.45.0/24", apiSocket: false))
        let tmux = TmuxHarness(width: 170, height: 30)
        defer { tmux.tearDown() }
        // Monochrome (the test runner's NO_COLOR): the dim role is SGR 2.
        try tmux.startMonitor(filteredTo: lab.tag)
        #expect(tmux.waitUntil { $0.contains("10.77.44.100") && $0.contains("10.77.45.100") }.found)
        // The other row has rates once its namespace was read a second time.
        let measured = eventually(InventoryCache.monitorAddressMaxAge + 20) { Self.rxCell(tmux, row: "10.77.45.100").map { $0.text != "-" } ?? false }
        try #require(measured, "the unselected row never got tap rates:\n\(tmux.capture())")
        #expect(eventually(3) { Self.rxCell(tmux, row: "10.77.45.100")?.dim == true },
                "the unselected row's rates, read up to 30 s ago, are shown as current:\n\(tmux.capture(escapes: true))")
        let current = try #require(Self.rxCell(tmux, row: "10.77.44.100"))
        #expect(current.text != "-" && !current.dim, "the selected row's rates, read every refresh: \(current)")

        // The selected namespace goes away under its slirp4netns: its read fails, its rates go.
        let gone = sh("ip", ["netns", "del", try #require(selected.netnsName)])
        try #require(gone.status == 0, "ip netns del: \(gone.stderr)")
        #expect(eventually(5) { Self.rxCell(tmux, row: "10.77.44.100")?.text == "-" },
                "the rates of a namespace that can no longer be read are still shown:\n\(tmux.capture())")
        _ = other
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
