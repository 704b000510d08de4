/// Why an expected slirp4netns address could not be computed; the texts are Podman's.
public enum AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The cidr is not IPv4 CIDR notation (Podman: `invalid cidr "..."`).
    case invalidCIDR(String)
    /// network + offset wrapped past 255.255.255.255.
    case overflow(base: IPv4Address, offset: UInt32)
    /// network + offset fell outside the network.
    case outsideSubnet(address: IPv4Address, network: IPv4Network)
    /// One of the above while computing `role` ("ip", "gateway ip", "dns ip").
    indirect case computing(role: String, AddressError)

    public var description: String {
        switch self {
        case .invalidCIDR(let text): "invalid cidr \(goQuoted(text))"
        case .overflow(let base, let offset): "integer overflow while calculating ip address offset, \(base) + \(offset)"
        case .outsideSubnet(let address, let network): "calculated ip address \(address) is not within given subnet \(network)"
        case .computing(let role, let inner): "error calculating expected \(role) for slirp4netns: \(inner)"
        }
    }
}

/// Podman's rules for the addresses of a slirp4netns network (its `GetSlirp4netnsIP`,
/// `GetSlirp4netnsGateway`, `GetSlirp4netnsDNS` and `addToIP`), reimplemented.
public enum PodmanAddressing {
    /// slirp4netns's and Podman's default network.
    public static let defaultNetwork = IPv4Network(address: IPv4Address(10, 0, 2, 0), prefixLength: 24)
    public static let guestOffset: UInt32 = 100
    public static let gatewayOffset: UInt32 = 2
    public static let dnsOffset: UInt32 = 3

    /// The IPv6 network slirp4netns uses with `--enable-ipv6`, whatever `--cidr` says.
    public static let ipv6Prefix = IPv6Address("fd00::")!
    public static let ipv6Gateway = IPv6Address("fd00::2")!
    public static let ipv6DNS = IPv6Address("fd00::3")!

    /// Parses a cidr as Podman does (`net.ParseCIDR` and an IPv4 check).
    public static func network(fromCIDR text: String) throws(AddressError) -> IPv4Network {
        guard let network = IPv4Network(text) else { throw .invalidCIDR(text) }
        return network
    }

    public static func guestAddress(in network: IPv4Network? = nil) throws(AddressError) -> IPv4Address {
        try offset(network, by: guestOffset, role: "ip")
    }

    public static func gatewayAddress(in network: IPv4Network? = nil) throws(AddressError) -> IPv4Address {
        try offset(network, by: gatewayOffset, role: "gateway ip")
    }

    public static func dnsAddress(in network: IPv4Network? = nil) throws(AddressError) -> IPv4Address {
        try offset(network, by: dnsOffset, role: "dns ip")
    }

    /// Podman's `addToIP`: the network address plus `offset`, refusing overflow and
    /// addresses outside the network.
    public static func add(_ offset: UInt32, to network: IPv4Network) throws(AddressError) -> IPv4Address {
        let base = network.network
        let (sum, overflow) = base.value.addingReportingOverflow(offset)
        if overflow { throw .overflow(base: base, offset: offset) }
        let address = IPv4Address(sum)
        guard network.contains(address) else { throw .outsideSubnet(address: address, network: network) }
        return address
    }

    private static func offset(_ network: IPv4Network?, by offset: UInt32, role: String) throws(AddressError) -> IPv4Address {
        do {
            return try add(offset, to: network ?? defaultNetwork)
        } catch {
            throw .computing(role: role, error)
        }
    }
}

/// Go's `%q` (`strconv.Quote`): quote and backslash escaped, controls and non-printable
/// characters written as Go writes them (`\a`, `\x1b`, `\u00a0`, `\U000e0001`).
func goQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{0B}": out += "\\v"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + hex(scalar.value, digits: 2)
            } else if scalar.value < 0x80 || isGoPrintable(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar.value < 0x10000 {
                out += "\\u" + hex(scalar.value, digits: 4)
            } else {
                out += "\\U" + hex(scalar.value, digits: 8)
            }
        }
    }
    return out + "\""
}

private func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

/// Go's `strconv.IsPrint` for non-ASCII: letters, marks, numbers, punctuation and symbols
/// (not spaces other than ASCII space, controls, format characters, private use, unassigned).
private func isGoPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
         .nonspacingMark, .spacingMark, .enclosingMark,
         .decimalNumber, .letterNumber, .otherNumber,
         .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
         .initialPunctuation, .finalPunctuation, .otherPunctuation,
         .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
        true
    default:
        false
    }
}
