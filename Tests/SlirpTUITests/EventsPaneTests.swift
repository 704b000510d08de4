import Foundation
import SlirpCore
import Testing
@testable import SlirpTUI

/// The Events pane and the status line, from the events a refresh posts (pure: no terminal).
@Suite struct EventsPaneTests {
    static let now = Date().timeIntervalSince1970

    static func event(_ kind: InventoryEvent.Kind, at time: Double, seen: Bool = false, name: String = "web1", forward: HostForward? = nil) -> InventoryEvent {
        InventoryEvent(kind: kind, time: time, timing: kind == .started ? .processStart : .noticed, seen: seen,
                       process: Fixtures.web, name: name, containerID: nil, user: "root", forward: forward)
    }

    static func text(_ screen: Screen) -> String { screen.text }
    static func lines(_ screen: Screen) -> [String] { (0..<screen.height).map { screen.text(row: $0) } }

    @Test("a slirp4netns dying while the monitor runs is said at once in the status line, in the warning colour, with its time")
    func deathInStatusLine() {
        var state = Fixtures.state()
        _ = state.apply(.events([Self.event(.started, at: Self.now - 3600, seen: true)]))
        #expect(state.status == nil, "the state as first seen is not news")
        _ = state.apply(.events([Self.event(.defunct, at: Self.now)]))
        #expect(state.status?.kind == .warning)
        let screen = render(state, size: Size(width: 120, height: 30))
        let row = Self.lines(screen).firstIndex { $0.contains("web1 pid 4242: defunct") } ?? -1
        #expect(row >= 0, "\(Self.text(screen))")
        #expect(row >= 0 && Self.lines(screen)[row].contains(Format.wallTime(at: Self.now)))
        #expect(row >= 0 && screen.cells[row * screen.width].role == .warning, "not in the warning colour")
    }

    @Test("the Events pane (4) lists every event newest first, each with its time; a forward change is not a warning")
    func paneListsEvents() {
        var state = Fixtures.state()
        let forward = HostForward(id: 7, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18080, guestAddr: "10.0.2.100", guestPort: 80)
        _ = state.apply(.events([Self.event(.started, at: Self.now - 60, seen: true), Self.event(.forwardAdded, at: Self.now - 30, forward: forward)]))
        #expect(state.status == nil)
        _ = state.apply(.events([Self.event(.died, at: Self.now)]))
        state.press(.character("4"))
        #expect(state.pane == .events)
        let screen = render(state, size: Size(width: 120, height: 30))
        let text = Self.text(screen)
        #expect(text.contains("4 Events") && text.contains("3 events, newest first"), "\(text)")
        let died = Self.lines(screen).firstIndex { $0.contains("died") && $0.contains("slirp4netns exited") } ?? -1
        let added = Self.lines(screen).firstIndex { $0.contains("forward added") && $0.contains("forward 7: tcp 127.0.0.1:18080 -> 10.0.2.100:80") } ?? -1
        let started = Self.lines(screen).firstIndex { $0.contains("started") && $0.contains("pid 4242") } ?? -1
        #expect(died >= 0 && added > died && started > added, "not newest first:\n\(text)")
        #expect(died >= 0 && Self.lines(screen)[died].hasPrefix(Format.wallTime(at: Self.now)), "\(text)")
        #expect(added >= 0 && Self.lines(screen)[added].hasPrefix(Format.wallTime(at: Self.now - 30)), "\(text)")
        state.press(.character("e"))
        #expect(state.pane == .events)
        // The list's filter narrows the events too (on a busy host, to one instance's).
        state.filter = "forward 7"
        let filtered = Self.text(render(state, size: Size(width: 120, height: 30)))
        #expect(filtered.contains("1 of 3 events (filter), newest first") && filtered.contains("forward added") && !filtered.contains("pid 4242  slirp4netns exited"), "\(filtered)")
    }
}
