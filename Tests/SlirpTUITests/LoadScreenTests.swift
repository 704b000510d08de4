import SlirpCore
import Testing
@testable import SlirpTUI

/// The monitor's load columns (CPU%, RSS, RX/s, TX/s), their sort, and a pinned slirp4netns said
/// at once in the status line and in its details.
@Suite struct LoadScreenTests {
    static func load(cpu: Double?, rx: Double, tx: Double, pinned: Bool? = false, demand: Double? = nil) -> InstanceLoad {
        var load = InstanceLoad(cpuSeconds: 12)
        (load.cpuPercent, load.cpuWindow) = (cpu, cpu == nil ? nil : 1)
        load.tapRates = TrafficRates(rxBytes: rx, rxPackets: rx / 1000, txBytes: tx, txPackets: tx / 1000)
        load.tapWindow = 30
        load.pinned = pinned
        (load.demandPercent, load.pinnedWindow) = (demand, demand == nil ? nil : 12)
        return load
    }

    /// The fixture's three instances with loads: web pinned (30 % on a CPU, 99 % wanted), custom busy, noapi idle.
    static func snapshots() -> [InstanceSnapshot] {
        var web = Fixtures.webSnapshot(), custom = Fixtures.customSnapshot(), noapi = Fixtures.noapiSnapshot()
        web.load = load(cpu: 30.2, rx: 40 * 1048576, tx: 2 * 1048576, pinned: true, demand: 99.1)
        web.findings = [LoadRule.finding(pid: web.pid, load: web.load!, restart: "podman restart web")].compactMap { $0 }
        custom.load = load(cpu: 3.5, rx: 900 * 1024, tx: 100 * 1024)
        noapi.load = load(cpu: 0, rx: 0, tx: 0)
        web.residentBytes = 3 << 20
        custom.residentBytes = 5 << 20
        noapi.residentBytes = 2 << 20
        return [web, custom, noapi]
    }

    static func state(size: Size) -> AppState {
        var state = AppState(readOnly: false, banner: "demo", delay: 1, useColor: true,
                             host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0", features: []))
        state.size = size
        _ = state.apply(.inventory(snapshots(), error: nil, clock: "12:34:56"))
        return state
    }

    @Test(arguments: [Size(width: 120, height: 40), Size(width: 80, height: 24)])
    func loadColumnsAndThePinnedInstance(size: Size) throws {
        let state = Self.state(size: size)
        let screen = render(state, size: size)
        assertSnapshot(screen, named: "load-\(size.width)x\(size.height)")
        let text = (0..<size.height).map { screen.text(row: $0) }.joined(separator: "\n")
        #expect(text.contains("is pinned at a whole CPU"), "status and details say it:\n\(text)")
        if size.width >= 120 {
            #expect(text.contains("CPU%") && text.contains("RSS") && text.contains("RX/s") && text.contains("TX/s"), "\(text)")
            #expect(text.contains("30.2") && text.contains("40.0M") || text.contains("40M"), "\(text)")
        }
    }

    @Test("a refresh that finds a slirp4netns newly pinned says so in the status line, in the warning colour, once")
    func newlyPinnedIsSaidAtOnce() {
        var state = AppState(readOnly: false, banner: nil, delay: 1, useColor: true, host: HostInfo(hostName: "h", userName: "root", slirpVersion: "1.2.0", features: []))
        var calm = Self.snapshots()
        calm[0].load?.pinned = false
        _ = state.apply(.inventory(calm, error: nil, clock: "12:00:00"))
        #expect(state.status == nil)
        _ = state.apply(.inventory(Self.snapshots(), error: nil, clock: "12:00:01"))
        #expect(state.status?.kind == .error)
        #expect(state.status?.text.contains("slirp4netns 4242") == true && state.status?.text.contains("pinned at a whole CPU") == true)
        state.status = nil
        _ = state.apply(.inventory(Self.snapshots(), error: nil, clock: "12:00:02"))
        #expect(state.status == nil, "still pinned: not said again every refresh")
    }

    @Test("CPU%, RSS, RX/s and TX/s sort the list; not measured sorts below every measured value")
    func loadColumnsSort() {
        var state = Self.state(size: Size(width: 160, height: 40))
        // Each column in an order of its own, none the PID order (the tie-break).
        var rows = Self.snapshots()
        rows[1].load = Self.load(cpu: 50, rx: 80 * 1048576, tx: 1024)
        rows[2].load = Self.load(cpu: 0, rx: 10, tx: 4 * 1048576)
        rows.append({ var s = Fixtures.noapiSnapshot(); s.identity = ProcessIdentity(pid: 4250, startTicks: 9); s.load = nil; return s }())
        _ = state.apply(.inventory(rows, error: nil, clock: "12:00:00"))
        func order() -> [Int32] { state.visibleRows.map(\.snapshot.pid) }
        state.sortAscending = false
        for (column, expected) in [(Column.cpu, [4243, 4242, 4244, 4250]), (.rx, [4243, 4242, 4244, 4250]), (.tx, [4244, 4242, 4243, 4250]),
                                   (.rss, [4243, 4242, 4244, 4250])] as [(Column, [Int32])] {
            state.sortColumn = column
            #expect(order() == expected, "\(column.title) descending")
        }
        state.sortAscending = true
        state.sortColumn = .rx
        #expect(order() == [4250, 4244, 4242, 4243], "not measured first when ascending, then 10 B/s, 2 MiB/s, 80 MiB/s")
        // The sort key reaches each load column.
        state.sortColumn = .user
        state.press(.character(">"))
        #expect(state.sortColumn == .cpu)
    }
}
