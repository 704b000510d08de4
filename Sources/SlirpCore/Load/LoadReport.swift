/// The JSON shape of an instance's measured load (`list --rates --json`'s `load`): every key always
/// written, `null` when not measured (`unmeasured` says why), never 0 for "not measured". An
/// instance read once (`list` without `--rates`, `show`) has `"load": null` instead: one reading
/// has no rate, and a hundred objects of nulls would cost `list` a millisecond and half its output.
public struct LoadReport: Encodable, Sendable, Equatable {
    public var cpuSeconds: Double
    @NullWhenAbsent public var cpuPercent: Double?
    @NullWhenAbsent public var cpuWindowSeconds: Double?
    @NullWhenAbsent public var demandPercent: Double?
    @NullWhenAbsent public var pinned: Bool?
    @NullWhenAbsent public var pinnedWindowSeconds: Double?
    @NullWhenAbsent public var tap: InterfaceCounters?
    @NullWhenAbsent public var rxBytesPerSecond: Double?
    @NullWhenAbsent public var rxPacketsPerSecond: Double?
    @NullWhenAbsent public var txBytesPerSecond: Double?
    @NullWhenAbsent public var txPacketsPerSecond: Double?
    @NullWhenAbsent public var tapWindowSeconds: Double?
    @NullWhenAbsent public var tapError: String?
    @NullWhenAbsent public var finding: Finding?
    @NullWhenAbsent public var unmeasured: String?

    enum CodingKeys: String, CodingKey {
        case pinned, tap, finding, unmeasured
        case cpuSeconds = "cpu_seconds"
        case cpuPercent = "cpu_percent"
        case cpuWindowSeconds = "cpu_window_seconds"
        case demandPercent = "demand_percent"
        case pinnedWindowSeconds = "pinned_window_seconds"
        case rxBytesPerSecond = "rx_bytes_per_second"
        case rxPacketsPerSecond = "rx_packets_per_second"
        case txBytesPerSecond = "tx_bytes_per_second"
        case txPacketsPerSecond = "tx_packets_per_second"
        case tapWindowSeconds = "tap_window_seconds"
        case tapError = "tap_error"
    }

    public init(_ instance: SlirpInstance, _ load: InstanceLoad) {
        func rounded(_ x: Double?, _ places: Double = 10) -> Double? { x.map { ($0 * places).rounded() / places } }
        cpuSeconds = (load.cpuSeconds * 100).rounded() / 100
        cpuPercent = rounded(load.cpuPercent)
        cpuWindowSeconds = rounded(load.cpuWindow, 1000)
        demandPercent = rounded(load.demandPercent)
        pinned = load.pinned
        pinnedWindowSeconds = rounded(load.pinnedWindow, 1000)
        tap = load.tap
        rxBytesPerSecond = rounded(load.tapRates?.rxBytes)
        rxPacketsPerSecond = rounded(load.tapRates?.rxPackets)
        txBytesPerSecond = rounded(load.tapRates?.txBytes)
        txPacketsPerSecond = rounded(load.tapRates?.txPackets)
        tapWindowSeconds = rounded(load.tapWindow, 1000)
        tapError = load.tapError
        finding = instance.loadFinding
        unmeasured = load.unmeasured
    }
}
