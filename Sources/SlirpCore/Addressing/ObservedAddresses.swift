/// What a network namespace really has on the slirp4netns tap interface.
public struct ObservedAddresses: Sendable, Equatable, Codable {
    public var interface: String
    /// True when the interface exists in the namespace (has a route or an address).
    public var interfacePresent: Bool
    /// IPv4 addresses on the interface with prefix, e.g. `10.0.2.100/24`.
    public var ipv4: [String]
    @NullWhenAbsent public var ipv4Gateway: String? = nil
    /// Global (not link-local) IPv6 addresses on the interface, e.g. `fd00::a8b4:ff:fe2d:1/64`.
    public var ipv6: [String]
    @NullWhenAbsent public var ipv6Gateway: String? = nil
    /// Nameservers from `/etc/resolv.conf` of a process in the namespace, when one was found.
    @NullWhenAbsent public var nameservers: [String]? = nil
    /// Why that resolv.conf was not read (a FIFO or device there, a file too large), when it was not.
    @NullWhenAbsent public var resolvConfProblem: String? = nil
    /// The process whose resolv.conf was read (or tried), when one was.
    @NullWhenAbsent public var nameserverSource: NameserverSource? = nil
    @NullWhenAbsent public var mtu: Int? = nil
    /// The interface's counters from the namespace's `/proc/net/dev`, read with the addresses (the
    /// monitor's traffic rates come from them); not written in `show --json`'s `observed`.
    public var counters: InterfaceCounters? = nil

    public init(interface: String) {
        self.interface = interface
        interfacePresent = false
        ipv4 = []
        ipv6 = []
    }

    /// Builds the observation from the texts of `/proc/<pid>/net/{route,fib_trie,if_inet6,ipv6_route}`.
    public static func parse(interface: String, route: String, fibTrie: String, ifInet6: String, ipv6Route: String) -> ObservedAddresses {
        var result = ObservedAddresses(interface: interface)

        // IPv4 routes on the interface: (network, mask) and the default gateway.
        var networks: [(IPv4Address, UInt32)] = []
        for line in route.byteLines.dropFirst() {
            let f = line.byteFields
            guard f.count >= 8, f[0] == interface,
                  let destination = IPv4Address(procHex: f[1]), let gateway = IPv4Address(procHex: f[2]),
                  let mask = IPv4Address(procHex: f[7]) else { continue }
            result.interfacePresent = true
            if destination.isUnspecified && mask.value == 0 {
                if !gateway.isUnspecified { result.ipv4Gateway = gateway.description }
            } else {
                networks.append((destination, mask.value))
            }
        }
        // Local addresses from the fib trie that fall in one of the interface's networks.
        var seen = Set<IPv4Address>()
        var last: IPv4Address?
        for line in fibTrie.byteLines {
            let text = line.trimmingSpaces
            if text.hasPrefix("|-- ") {
                last = IPv4Address(text.dropFirst(4))
            } else if text.hasPrefix("/32 host LOCAL"), let address = last, !address.isLoopback, !seen.contains(address) {
                seen.insert(address)
                if let (_, mask) = networks.first(where: { address.value & $0.1 == $0.0.value }) {
                    result.ipv4.append("\(address)/\(mask.nonzeroBitCount)")
                }
            }
        }
        // IPv6 addresses: "<32 hex> <ifindex> <prefixlen hex> <scope> <flags> <name>".
        for line in ifInet6.byteLines {
            let f = line.byteFields
            guard f.count >= 6, f[5] == interface, let address = IPv6Address(procHex: f[0]),
                  let prefix = Int(f[2], radix: 16) else { continue }
            result.interfacePresent = true
            if !address.isLinkLocal { result.ipv6.append("\(address)/\(prefix)") }
        }
        // IPv6 default route: destination ::/0 with a next hop, on the interface.
        for line in ipv6Route.byteLines {
            let f = line.byteFields
            guard f.count >= 10, f[9] == interface, f[1] == "00",
                  f[0] == "00000000000000000000000000000000",
                  let nextHop = IPv6Address(procHex: f[4]),
                  nextHop.bytes.contains(where: { $0 != 0 }) else { continue }
            result.ipv6Gateway = nextHop.description
        }
        return result
    }

    /// Every non-loopback `/32 host LOCAL` address in a `fib_trie` text.
    public static func localAddresses(fibTrie: String) -> Set<IPv4Address> {
        var result = Set<IPv4Address>()
        var last: IPv4Address?
        for line in fibTrie.byteLines {
            let text = line.trimmingSpaces
            if text.hasPrefix("|-- ") {
                last = IPv4Address(text.dropFirst(4))
            } else if text.hasPrefix("/32 host LOCAL"), let address = last {
                result.insert(address)
            }
        }
        return result
    }

    /// The resolver's nameservers in a resolv.conf text: the first three `nameserver` lines (glibc
    /// and musl use no more, MAXNS). The text is a user's: each value is cut at 64 characters and
    /// escaped for a terminal (an address is left as it is).
    public static func nameservers(inResolvConf text: String) -> [String] {
        let values = text.split(separator: "\n").lazy.compactMap { line -> String? in
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            return f.count >= 2 && f[0] == "nameserver" ? TerminalText.escaping(String(f[1].prefix(64))) : nil
        }
        return Array(values.prefix(3))
    }
}

extension ObservedAddresses {
    /// `show --json`'s `observed`: snake_case like every other key, each always written (`null` when unknown).
    enum CodingKeys: String, CodingKey {
        case interface, ipv4, ipv6, nameservers, mtu
        case interfacePresent = "interface_present"
        case ipv4Gateway = "ipv4_gateway"
        case ipv6Gateway = "ipv6_gateway"
        case resolvConfProblem = "resolv_conf_problem"
        case nameserverSource = "nameserver_source"
    }
}
