/// The monitor's readings of one instance, kept between refreshes (`InventoryCache`): its CPU
/// time every refresh (read with its state anyway), its schedstat while it is busy, and its tap's
/// counters whenever its namespace is read (the addresses' cadence: the selection every refresh,
/// the others every `InventoryCache.monitorAddressMaxAge`).
struct LoadHistory: Sendable {
    /// The CPU readings of the last `kept` seconds, oldest first.
    private var samples: [LoadSample] = []
    private var lastTap: (counters: InterfaceCounters, at: Double)?
    private var rates: (TrafficRates, window: Double)?
    /// How far back readings are kept: the pinned window and some.
    static let kept = LoadRule.monitorWindow * 3

    /// Adds this refresh's reading and says what it shows. `demand` reads schedstat: called only
    /// when the CPU % since the last refresh is at least `LoadRule.busyPercent`. `tap`: the
    /// counters read this refresh (nil: the namespace was not read); `tapFailed`: its read failed
    /// this refresh, so the rates kept are forgotten (what they measured may be gone).
    mutating func add(at now: Double, cpuSeconds: Double, demand: () -> Double?, tap: InterfaceCounters?, tapFailed: Bool = false) -> InstanceLoad {
        var load = InstanceLoad(cpuSeconds: cpuSeconds)
        if tapFailed { (rates, lastTap) = (nil, nil) }
        var sample = LoadSample(at: now, cpuSeconds: cpuSeconds)
        if let last = samples.last, now - last.at >= 0.05 {
            let percent = max(0, cpuSeconds - last.cpuSeconds) / (now - last.at) * 100
            (load.cpuPercent, load.cpuWindow) = (percent, now - last.at)
            if percent >= LoadRule.busyPercent { sample.demandSeconds = demand() }
        } else if samples.last != nil {
            samples.removeLast() // two refreshes at once: keep the later
        }
        samples.removeAll { now - $0.at > Self.kept }
        samples.append(sample)
        judgePinned(&load)
        if let tap {
            if let lastTap {
                let seconds = now - lastTap.at
                if seconds >= 0.05 {
                    // nil when a counter went back: a new tap (namespace), measured from here on.
                    rates = TrafficRates(from: lastTap.counters, to: tap, seconds: seconds).map { ($0, seconds) }
                    self.lastTap = (tap, now)
                }
            } else {
                lastTap = (tap, now)
            }
        }
        load.tap = lastTap?.counters
        (load.tapRates, load.tapWindow) = (rates?.0, rates?.window)
        // The rates end at the last reading of the namespace: now for the selection, up to 30 s ago for the others.
        load.tapAge = rates == nil ? nil : lastTap.map { max(0, now - $0.at) }
        if load.cpuPercent == nil { load.unmeasured = "first reading: rates need a second (the next refresh)" }
        else if load.tapRates == nil && lastTap != nil { load.unmeasured = "tap rates need a second reading of its namespace" }
        return load
    }

    /// Pinned over the trailing run of busy readings (each with schedstat) that spans at least
    /// `LoadRule.monitorWindow`; without schedstat, over the CPU readings of that span.
    private func judgePinned(_ load: inout InstanceLoad) {
        guard let last = samples.last else { return }
        // The busy run: the readings from the end back while each has schedstat.
        var first = samples.count - 1
        while first > 0, samples[first - 1].demandSeconds != nil, samples[first].demandSeconds != nil { first -= 1 }
        let start = samples[first]
        let window = last.at - start.at
        if let a = start.demandSeconds, let b = last.demandSeconds, window >= LoadRule.monitorWindow {
            load.pinnedWindow = window
            load.demandPercent = max(0, b - a) / window * 100
            load.pinned = LoadRule.isPinned(cpuPercent: nil, demandPercent: load.demandPercent)
            return
        }
        // Not busy for a whole window: judged by CPU over the readings kept (pinned only if it used a CPU).
        let oldest = samples[0]
        let span = last.at - oldest.at
        guard span >= LoadRule.monitorWindow else { return }
        load.pinnedWindow = span
        load.pinned = LoadRule.isPinned(cpuPercent: max(0, last.cpuSeconds - oldest.cpuSeconds) / span * 100, demandPercent: nil)
    }
}
