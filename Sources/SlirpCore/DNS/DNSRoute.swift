import CSlirpSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether a query to slirp4netns's IPv4 DNS address can reach slirp4netns at all, seen from
/// inside the namespace while it is asked: the route the kernel gives the query there (policy
/// rules followed, as `ip route get` asks), the packets its tap passed to slirp4netns when the
/// query was sent, and a refusal by the namespace's firewall.
///
/// The namespace belongs to the container's owner, not to the host: a route, a policy rule or a
/// netfilter rule there (`ip route add 10.0.2.3 dev lo`, `ip rule add to 10.0.2.3 lookup 77`,
/// `iptables -A OUTPUT -p udp --dport 53 -j REJECT`) makes DNS fail exactly like a dead host
/// resolver would (refused, or no answer). Only when the query left through the tap may the host
/// resolver be blamed.
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
    /// The interface the kernel's route lookup in the namespace sends the DNS address to.
    @NullWhenAbsent public private(set) var interface: String?
    /// Packets slirp4netns read from the tap while an unanswered IPv4 query was sent once more, alone
    /// (`DNSProbe.pathWait`): 0 means the query never reached slirp4netns. Nil when it was answered,
    /// refused by the firewall, or the tap's counters were not read.
    @NullWhenAbsent public private(set) var tapPacketsSent: UInt64?
    /// True when the tap sent packets in the quiet moment watched before that query (a busy
    /// container, a ping): then a count above 0 does not show that the query was among them.
    public let tapBusy: Bool
    /// True when sending the query failed with EPERM: a netfilter rule in the namespace (its
    /// OUTPUT chain: DROP or REJECT) refused it.
    public let blockedByFirewall: Bool

    enum CodingKeys: String, CodingKey {
        case tap, kind, interface
        case tapPacketsSent = "tap_packets_sent", tapBusy = "tap_busy", blockedByFirewall = "blocked_by_firewall"
    }

    public init(tap: String, kind: Kind, interface: String?, tapPacketsSent: UInt64?, tapBusy: Bool = false, blockedByFirewall: Bool) {
        (self.tap, self.kind, self.tapBusy, self.blockedByFirewall) = (tap, kind, tapBusy, blockedByFirewall)
        self.interface = interface
        self.tapPacketsSent = tapPacketsSent
    }

    /// True when something in the namespace itself kept the query from slirp4netns.
    public var blockedInNamespace: Bool {
        blockedByFirewall || kind == .other || kind == .reject || kind == .none || tapPacketsSent == 0
    }

    /// True when only the tap's counter could tell whether the query left (the route was not
    /// looked up) and it cannot: other packets went out around it. Neither the namespace nor the
    /// host resolver may be blamed then.
    public var pathUnknown: Bool {
        kind == .unknown && !blockedByFirewall && tapBusy && (tapPacketsSent ?? 0) > 0
    }

    /// RTN_UNICAST and RTN_LOCAL of linux/rtnetlink.h (an enum Swift does not import).
    static let routeUnicast: Int32 = 1, routeLocal: Int32 = 2

    /// The route the kernel gives a UDP packet from this thread's user to `address` (IPv4) port 53
    /// in the calling thread's network namespace (RTM_GETROUTE: policy rules followed, unlike the
    /// main table in `/proc/net/route`), as a kind and the interface's name.
    static func lookup(_ address: String, tap: String) -> (kind: Kind, interface: String?) {
        var raw = in_addr()
        guard inet_pton(AF_INET, address, &raw) == 1 else { return (.unknown, nil) }
        var oif: Int32 = 0, type: Int32 = 0
        guard cslirp_route_get_ipv4(raw.s_addr, in_port_t(53).bigEndian, UInt8(IPPROTO_UDP), geteuid(), &oif, &type) == 0 else {
            switch Errno.current {
            case .networkUnreachable: return (.none, nil)
            // unreachable, prohibit, blackhole routes (`ip route add unreachable ...`).
            case .hostUnreachable, .permissionDenied, .invalidArgument: return (.reject, nil)
            default: return (.unknown, nil)
            }
        }
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        let interface = oif > 0 && if_indextoname(UInt32(oif), &name) != nil ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        // A local route (the address is the namespace's own) delivers on the loopback.
        if type == routeLocal { return (.other, interface ?? "lo") }
        guard type == routeUnicast else { return (.reject, interface) }
        guard let interface else { return (.unknown, nil) }
        return (interface == tap ? .tap : .other, interface)
    }
}
