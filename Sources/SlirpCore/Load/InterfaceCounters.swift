/// The counters of one network interface, as its namespace's `/proc/net/dev` shows them: totals
/// since the interface was created (slirp4netns's tap: since it started).
public struct InterfaceCounters: Sendable, Equatable, Codable {
    public var rxBytes: UInt64
    public var rxPackets: UInt64
    public var txBytes: UInt64
    public var txPackets: UInt64

    public init(rxBytes: UInt64, rxPackets: UInt64, txBytes: UInt64, txPackets: UInt64) {
        self.rxBytes = rxBytes
        self.rxPackets = rxPackets
        self.txBytes = txBytes
        self.txPackets = txPackets
    }

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

    enum CodingKeys: String, CodingKey {
        case rxBytes = "rx_bytes"
        case rxPackets = "rx_packets"
        case txBytes = "tx_bytes"
        case txPackets = "tx_packets"
    }
}

/// Traffic per second on an interface between two readings of its counters.
public struct TrafficRates: Sendable, Equatable {
    public var rxBytes: Double
    public var rxPackets: Double
    public var txBytes: Double
    public var txPackets: Double

    public init(rxBytes: Double, rxPackets: Double, txBytes: Double, txPackets: Double) {
        self.rxBytes = rxBytes
        self.rxPackets = rxPackets
        self.txBytes = txBytes
        self.txPackets = txPackets
    }

    /// The rates from `earlier` to `later`, `seconds` apart; nil when a counter went back (the
    /// interface was created again: a new namespace or tap) or the interval is too short to say.
    public init?(from earlier: InterfaceCounters, to later: InterfaceCounters, seconds: Double) {
        guard seconds >= 0.05, later.rxBytes >= earlier.rxBytes, later.rxPackets >= earlier.rxPackets,
              later.txBytes >= earlier.txBytes, later.txPackets >= earlier.txPackets else { return nil }
        rxBytes = Double(later.rxBytes - earlier.rxBytes) / seconds
        rxPackets = Double(later.rxPackets - earlier.rxPackets) / seconds
        txBytes = Double(later.txBytes - earlier.txBytes) / seconds
        txPackets = Double(later.txPackets - earlier.txPackets) / seconds
    }
}
