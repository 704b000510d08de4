#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether a query to slirp4netns's IPv4 DNS address can reach slirp4netns at all, seen from
/// inside the namespace while it is asked: the route the namespace's own table gives the address,
/// the packets its tap passed to slirp4netns when the query was sent, and a refusal by the
/// namespace's firewall.
///
/// The namespace belongs to the container's owner, not to the host: a route or a netfilter rule
/// there (`ip route add 10.0.2.3 dev lo`, `iptables -A OUTPUT -p udp --dport 53 -j REJECT`) makes
/// DNS fail exactly like a dead host resolver would (refused, or no answer). Only when the query
/// left through the tap may the host resolver be blamed.
public struct DNSRoute: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Encodable {
        /// Through slirp4netns's tap (as slirp4netns configures it).
        case tap
        /// Through another interface (the loopback, a bridge): slirp4netns never sees the query.
        case other
        /// An unreachable, prohibit or blackhole route: the kernel refuses to send.
        case reject
        /// No route at all.
        case none
        /// The route table was not read.
        case unknown
    }

    /// slirp4netns's tap in the namespace (`tap0`).
    public let tap: String
    public let kind: Kind
    /// The interface the namespace's main IPv4 table sends the DNS address to (`/proc/net/route`'s longest match).
    @NullWhenAbsent public private(set) var interface: String?
    /// Packets slirp4netns read from the tap while an unanswered IPv4 query was sent once more, alone
    /// (`DNSProbe.pathWait`): 0 means the query never reached slirp4netns. Nil when it was answered,
    /// refused by the firewall, or the tap's counters were not read.
    @NullWhenAbsent public private(set) var tapPacketsSent: UInt64?
    /// True when sending the query failed with EPERM: a netfilter rule in the namespace (its
    /// OUTPUT chain: DROP or REJECT) refused it.
    public let blockedByFirewall: Bool

    enum CodingKeys: String, CodingKey {
        case tap, kind, interface
        case tapPacketsSent = "tap_packets_sent", blockedByFirewall = "blocked_by_firewall"
    }

    public init(tap: String, kind: Kind, interface: String?, tapPacketsSent: UInt64?, blockedByFirewall: Bool) {
        (self.tap, self.kind, self.blockedByFirewall) = (tap, kind, blockedByFirewall)
        self.interface = interface
        self.tapPacketsSent = tapPacketsSent
    }

    /// True when something in the namespace itself kept the query from slirp4netns.
    public var blockedInNamespace: Bool {
        blockedByFirewall || kind == .other || kind == .reject || kind == .none || tapPacketsSent == 0
    }

    /// The route `/proc/net/route` text gives `address` (IPv4): the longest prefix, then the
    /// lowest metric. Only the main table is listed there (policy rules are not followed).
    static func lookup(_ address: String, route text: String, tap: String) -> (kind: Kind, interface: String?) {
        var raw = in_addr()
        guard inet_pton(AF_INET, address, &raw) == 1 else { return (.unknown, nil) }
        // /proc/net/route prints each address as the 32-bit word in memory, in hex: compare alike.
        let wanted = raw.s_addr
        var best: (prefix: Int, metric: UInt64, interface: String, flags: UInt32)?
        for line in text.byteLines.dropFirst() {
            let f = line.byteFields
            guard f.count >= 8, let destination = UInt32(f[1], radix: 16), let flags = UInt32(f[3], radix: 16),
                  let metric = UInt64(f[6]), let mask = UInt32(f[7], radix: 16), flags & 0x1 != 0 else { continue }
            guard wanted & mask == destination else { continue }
            let prefix = mask.nonzeroBitCount
            if let b = best, b.prefix > prefix || (b.prefix == prefix && b.metric <= metric) { continue }
            best = (prefix, metric, String(f[0]), flags)
        }
        guard let best else { return (.none, nil) }
        // RTF_REJECT (0x0200): unreachable, prohibit, blackhole; shown with the interface "*".
        if best.flags & 0x0200 != 0 { return (.reject, nil) }
        return (best.interface == tap ? .tap : .other, best.interface)
    }
}
