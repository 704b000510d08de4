#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Podman's slirp4netns network options (`--network slirp4netns:OPT=VAL,...`), parsed
/// with Podman's defaults and error messages (its `parseSlirp4netnsNetworkOptions`).
public struct SlirpNetworkOptions: Sendable, Equatable, Codable {
    /// Podman's own default MTU for slirp4netns.
    public static let podmanDefaultMTU = 65520

    public var cidr: String?
    public var disableHostLoopback = true
    public var enableIPv6 = true
    /// `port_handler=slirp4netns`: forwards go through the API socket.
    public var isSlirpHostForward = false
    public var noPivotRoot = false
    public var mtu = SlirpNetworkOptions.podmanDefaultMTU
    public var outboundAddr: String?
    public var outboundAddr6: String?

    public init(noPivotRoot: Bool = false) { self.noPivotRoot = noPivotRoot }

    /// An option Podman refuses, with Podman's exact message.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Parses `engineOptions` (containers.conf `network_cmd_options`) followed by `options`.
    /// `interfaceExists` answers for `outbound_addr=IFNAME` (default: the host's interfaces).
    public static func parse(_ options: [String], engineOptions: [String] = [], noPivotRoot: Bool = false,
                             interfaceExists: (String) -> Bool = SlirpNetworkOptions.hostHasInterface) throws(ParseError) -> SlirpNetworkOptions {
        var result = SlirpNetworkOptions(noPivotRoot: noPivotRoot)
        for option in engineOptions + options {
            guard let eq = option.firstIndex(of: "=") else {
                throw ParseError(message: "unknown option for slirp4netns: \(goQuoted(option))")
            }
            let name = String(option[..<eq])
            let value = String(option[option.index(after: eq)...])
            switch name {
            case "cidr":
                guard IPv4Network(value) != nil else { throw ParseError(message: "invalid cidr \(goQuoted(value))") }
                result.cidr = value
            case "port_handler":
                switch value {
                case "slirp4netns": result.isSlirpHostForward = true
                case "rootlesskit": result.isSlirpHostForward = false
                default: throw ParseError(message: "unknown port_handler for slirp4netns: \(goQuoted(value))")
                }
            case "allow_host_loopback":
                switch value {
                case "true": result.disableHostLoopback = false
                case "false": result.disableHostLoopback = true
                default: throw ParseError(message: "invalid value of allow_host_loopback for slirp4netns: \(goQuoted(value))")
                }
            case "enable_ipv6":
                switch value {
                case "true": result.enableIPv6 = true
                case "false": result.enableIPv6 = false
                default: throw ParseError(message: "invalid value of enable_ipv6 for slirp4netns: \(goQuoted(value))")
                }
            case "outbound_addr":
                // net.ParseIP(value).To4() != nil: dotted quad or IPv4-mapped IPv6.
                let isIPv4 = IPv4Address(value) != nil || IPv6Address(value)?.ipv4Mapped != nil
                if !isIPv4 && !interfaceExists(value) {
                    throw ParseError(message: "invalid outbound_addr \(goQuoted(value))")
                }
                result.outboundAddr = value
            case "outbound_addr6":
                let isIPv6 = IPv6Address(value).map { $0.ipv4Mapped == nil } ?? false
                if !isIPv6 && !interfaceExists(value) {
                    throw ParseError(message: "invalid outbound_addr6: \(goQuoted(value))")
                }
                result.outboundAddr6 = value
            case "mtu":
                guard let mtu = Int(value), mtu >= 68 else { throw ParseError(message: "invalid mtu \(goQuoted(value))") }
                result.mtu = mtu
            default:
                throw ParseError(message: "unknown option for slirp4netns: \(goQuoted(option))")
            }
        }
        return result
    }

    /// Splits the text after `slirp4netns:` in `--network slirp4netns:a=b,c=d`.
    public static func split(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// Whether the host has a network interface named `name` (Go's `net.InterfaceByName`).
    public static func hostHasInterface(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count < 16 && if_nametoindex(name) != 0
    }
}
