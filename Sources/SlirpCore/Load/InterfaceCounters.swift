/// Four figures of one network interface, received and transmitted: bytes and packets.
public struct InterfaceFigures<Value: Sendable & Equatable>: Sendable, Equatable {
    public var rxBytes: Value
    public var rxPackets: Value
    public var txBytes: Value
    public var txPackets: Value

    public init(rxBytes: Value, rxPackets: Value, txBytes: Value, txPackets: Value) {
        self.rxBytes = rxBytes
        self.rxPackets = rxPackets
        self.txBytes = txBytes
        self.txPackets = txPackets
    }
}

/// The counters of an interface as its namespace's `/proc/net/dev` shows them: totals since the
/// interface was created (slirp4netns's tap: since it started).
public typealias InterfaceCounters = InterfaceFigures<UInt64>

/// Traffic per second on an interface between two readings of its counters.
public typealias TrafficRates = InterfaceFigures<Double>

extension InterfaceFigures where Value == UInt64 {
    /// The counters of `interface` in a `/proc/net/dev` text; nil when it has no such line.
    ///
    /// A line is `NAME: rx_bytes rx_packets errs drop fifo frame compressed multicast tx_bytes
    /// tx_packets ...`; a large first number may follow the colon with no space (`tap0:1033652063`).
    public static func parse(netDev text: String, interface: String) -> InterfaceCounters? {
        for line in text.byteLines.dropFirst(2) {
            guard let colon = line.utf8.firstIndex(of: UInt8(ascii: ":")) else { continue }
            guard line[..<colon].trimmingSpaces == interface else { continue }
            let f = line[line.index(after: colon)...].byteFields
            guard f.count >= 10, let rxBytes = UInt64(f[0]), let rxPackets = UInt64(f[1]),
                  let txBytes = UInt64(f[8]), let txPackets = UInt64(f[9]) else { return nil }
            return InterfaceCounters(rxBytes: rxBytes, rxPackets: rxPackets, txBytes: txBytes, txPackets: txPackets)
        }
        return nil
    }
}

extension InterfaceFigures where Value == Double {
    /// The rates from `earlier` to `later`, `seconds` apart; nil when a counter went back (the
    /// interface was created again: a new namespace or tap) or the interval is too short to say.
    public init?(from earlier: InterfaceCounters, to later: InterfaceCounters, seconds: Double) {
        guard seconds >= 0.05, later.rxBytes >= earlier.rxBytes, later.rxPackets >= earlier.rxPackets,
              later.txBytes >= earlier.txBytes, later.txPackets >= earlier.txPackets else { return nil }
        func rate(_ a: UInt64, _ b: UInt64) -> Double { Double(b - a) / seconds }
        self.init(rxBytes: rate(earlier.rxBytes, later.rxBytes), rxPackets: rate(earlier.rxPackets, later.rxPackets),
                  txBytes: rate(earlier.txBytes, later.txBytes), txPackets: rate(earlier.txPackets, later.txPackets))
    }
}

/// Written as `load.tap` (`{rx_bytes, rx_packets, tx_bytes, tx_packets}`).
extension InterfaceFigures: Encodable where Value: Encodable {
    enum CodingKeys: String, CodingKey {
        case rxBytes = "rx_bytes"
        case rxPackets = "rx_packets"
        case txBytes = "tx_bytes"
        case txPackets = "tx_packets"
    }
}
