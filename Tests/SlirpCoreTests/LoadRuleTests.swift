import Testing
@testable import SlirpCore

@Suite("CPU and traffic readings")
struct LoadRuleTests {
    static let netDev = """
    Inter-|   Receive                                                |  Transmit
     face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
        lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
      tap0:1033652063   36444    0    0    0     0          0         0  1642826   30419    0    0    0     0       0          0
    """

    @Test("list --rates judges pinned only over 2 s or more: a busy tenth of a second is not called pinned, it is not judged")
    func shortIntervalIsNotJudged() {
        let short = InstanceLoad.between(LoadSample(at: 0, cpuSeconds: 0, demandSeconds: 0), LoadSample(at: 0.1, cpuSeconds: 0.1, demandSeconds: 0.1))
        #expect(short.pinned == nil && short.pinnedWindow == nil && short.cpuPercent != nil)
        let long = InstanceLoad.between(LoadSample(at: 0, cpuSeconds: 0, demandSeconds: 0), LoadSample(at: 3, cpuSeconds: 3, demandSeconds: 3))
        #expect(long.pinned == true && long.pinnedWindow == 3)
    }

    @Test("a tap's counters are read from /proc/net/dev, a large first number glued to the name included")
    func readsTapCounters() {
        let c = InterfaceCounters.parse(netDev: Self.netDev, interface: "tap0")
        #expect(c == InterfaceCounters(rxBytes: 1_033_652_063, rxPackets: 36444, txBytes: 1_642_826, txPackets: 30419))
        #expect(InterfaceCounters.parse(netDev: Self.netDev, interface: "tap1") == nil)
        #expect(InterfaceCounters.parse(netDev: "", interface: "tap0") == nil)
    }

    @Test("counters that went back (a new tap) give no rate, not a negative or huge one")
    func countersGoingBackGiveNoRate() {
        let a = InterfaceCounters(rxBytes: 1000, rxPackets: 10, txBytes: 1000, txPackets: 10)
        let b = InterfaceCounters(rxBytes: 10, rxPackets: 1, txBytes: 2000, txPackets: 20)
        #expect(TrafficRates(from: a, to: b, seconds: 1) == nil)
        #expect(TrafficRates(from: b, to: a, seconds: 1e-4) == nil)
        let later = InterfaceCounters(rxBytes: 1000, rxPackets: 10, txBytes: 3000, txPackets: 30)
        #expect(TrafficRates(from: b, to: later, seconds: 2)?.rxBytes == 495)
    }

    @Test("the monitor flags a process that wanted a whole CPU only once it has for the pinned window, and reads schedstat only while busy")
    func pinnedNeedsAWholeWindow() {
        var history = LoadHistory()
        var demandReads = 0
        var demand = 0.0
        // Idle for 5 s: no schedstat read.
        for t in 0...5 {
            let load = history.add(at: Double(t), cpuSeconds: 0.001 * Double(t), demand: { demandReads += 1; return 0 }, tap: nil)
            if t == 0 { #expect(load.cpuPercent == nil && load.unmeasured != nil) }
        }
        #expect(demandReads == 0)
        // Then it gets 30 % of a CPU and waits for one the rest of the time (a busy host).
        var last: InstanceLoad?
        for t in 6...30 {
            demand += 0.99
            last = history.add(at: Double(t), cpuSeconds: 0.005 + 0.3 * Double(t - 5), demand: { demandReads += 1; return demand }, tap: nil)
            if t < 6 + Int(LoadRule.monitorWindow) { #expect(last?.pinned != true, "not yet a whole window at \(t) s") }
        }
        #expect(demandReads == 25)
        #expect(last?.pinned == true && (last?.demandPercent ?? 0) >= 98)
        #expect((last?.cpuPercent ?? 0) < 31, "it got 30 %: the CPU column says so")
        // Idle again: no longer pinned once the window is mostly idle.
        for t in 31...70 { last = history.add(at: Double(t), cpuSeconds: 7.6, demand: { demand }, tap: nil) }
        #expect(last?.pinned == false)
    }

    @Test("tap rates are kept between namespace reads and come from the last two of them")
    func tapRatesAtTheNamespaceCadence() {
        var history = LoadHistory()
        let c0 = InterfaceCounters(rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0)
        let c1 = InterfaceCounters(rxBytes: 30_000, rxPackets: 30, txBytes: 3000, txPackets: 3)
        _ = history.add(at: 0, cpuSeconds: 0, demand: { nil }, tap: c0)
        let between = history.add(at: 1, cpuSeconds: 0, demand: { nil }, tap: nil)
        #expect(between.tapRates == nil && between.tap == c0)
        let read = history.add(at: 30, cpuSeconds: 0, demand: { nil }, tap: c1)
        #expect(read.tapRates == TrafficRates(rxBytes: 1000, rxPackets: 1, txBytes: 100, txPackets: 0.1) && read.tapWindow == 30)
        let kept = history.add(at: 31, cpuSeconds: 0, demand: { nil }, tap: nil)
        #expect(kept.tapRates == read.tapRates, "shown until the next read")
    }

    @Test("rates and percentages fit their columns")
    func compactFormats() {
        #expect(Format.rate(0) == "0" && Format.rate(812) == "812B" && Format.rate(9.5 * 1024) == "9.5K")
        #expect(Format.rate(1023 * 1024) == "1023K" && Format.rate(1.25 * 1048576) == "1.2M" || Format.rate(1.25 * 1048576) == "1.3M")
        #expect(Format.rate(5e12).count <= 5 && Format.rate(1_048_000).count <= 5)
        #expect(Format.percent(97.44) == "97.4" && Format.percent(100) == "100" && Format.percent(0) == "0.0")
    }
}
