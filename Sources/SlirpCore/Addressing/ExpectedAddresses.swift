/// The addresses Podman computes for one slirp4netns configuration.
public struct ExpectedAddresses: Sendable, Equatable {
    public let network: IPv4Network?
    public let guest: Result<IPv4Address, AddressError>
    public let gateway: Result<IPv4Address, AddressError>
    public let dns: Result<IPv4Address, AddressError>
    /// Present when IPv6 is enabled.
    public let ipv6: IPv6Plan?

    /// slirp4netns's fixed IPv6 layout.
    public struct IPv6Plan: Sendable, Equatable {
        public let prefix = PodmanAddressing.ipv6Prefix
        public let prefixLength = 64
        public let gateway = PodmanAddressing.ipv6Gateway
        public let dns = PodmanAddressing.ipv6DNS
    }

    /// Computes the guest, gateway and DNS addresses for `cidr` (default 10.0.2.0/24).
    public init(cidr: String?, ipv6: Bool) {
        if let cidr {
            switch Result(catching: { () throws(AddressError) in try PodmanAddressing.network(fromCIDR: cidr) }) {
            case .success(let network):
                self.network = network
                guest = Result { () throws(AddressError) in try PodmanAddressing.guestAddress(in: network) }
                gateway = Result { () throws(AddressError) in try PodmanAddressing.gatewayAddress(in: network) }
                dns = Result { () throws(AddressError) in try PodmanAddressing.dnsAddress(in: network) }
            case .failure(let error):
                network = nil
                guest = .failure(error)
                gateway = .failure(error)
                dns = .failure(error)
            }
        } else {
            network = PodmanAddressing.defaultNetwork
            guest = Result { () throws(AddressError) in try PodmanAddressing.guestAddress() }
            gateway = Result { () throws(AddressError) in try PodmanAddressing.gatewayAddress() }
            dns = Result { () throws(AddressError) in try PodmanAddressing.dnsAddress() }
        }
        self.ipv6 = ipv6 ? IPv6Plan() : nil
    }

    public init(_ configuration: SlirpConfiguration) {
        self.init(cidr: configuration.cidr, ipv6: configuration.enableIPv6)
    }
}

extension ExpectedAddresses {
    /// The guest, gateway and DNS addresses as text (nil when not computable), and why not.
    public var guestText: String? { try? guest.get().description }
    public var gatewayText: String? { try? gateway.get().description }
    public var dnsText: String? { try? dns.get().description }
    public var errorText: String? {
        if case .failure(let error) = guest { return error.description }
        return nil
    }
}
