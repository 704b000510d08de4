/// One expected address set beside what the namespace really has.
public struct AddressCheck: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// The namespace has exactly what Podman computes.
        case match
        /// The namespace has something else: highlighted for the operator.
        case mismatch
        /// The expected value could not be computed (bad cidr, overflow).
        case notComputable = "not-computable"
        /// Nothing to compare with: the namespace could not be read, or the value is virtual.
        case notObserved = "not-observed"
        /// Observed, and nothing in the namespace uses it: a resolv.conf without an IPv6 nameserver.
        case notConfigured = "not-configured"
    }

    /// `guest`, `gateway`, `dns`, `guest6`, `gateway6`, `dns6`, `mtu`.
    public let role: String
    @NullWhenAbsent public private(set) var expected: String?
    @NullWhenAbsent public private(set) var observed: String?
    public let status: Status
    /// Why it is not a match, in words.
    @NullWhenAbsent public private(set) var note: String?

    public init(role: String, expected: String?, observed: String?, status: Status, note: String? = nil) {
        self.role = role
        self.expected = expected
        self.observed = observed
        self.status = status
        self.note = note
    }

    /// Compares what Podman computes for `configuration` with `observed` (nil: not readable, with `reason`).
    public static func compare(_ configuration: SlirpConfiguration, observed: ObservedAddresses?, reason: String? = nil) -> [AddressCheck] {
        let expected = ExpectedAddresses(configuration)
        var rows: [AddressCheck] = []
        let unobserved = reason ?? "namespace not read"

        // guest: an IPv4 address with the network's prefix.
        switch expected.guest {
        case .failure(let error):
            rows.append(AddressCheck(role: "guest", expected: nil, observed: observed?.ipv4.first, status: .notComputable, note: error.description))
        case .success(let guest):
            let want = "\(guest)/\(expected.network?.prefixLength ?? 24)"
            if let observed {
                if !configuration.configure && observed.ipv4.isEmpty {
                    rows.append(AddressCheck(role: "guest", expected: want, observed: nil, status: .notObserved,
                                             note: "started without --configure: the container configures the tap itself"))
                } else if observed.ipv4.contains(want) {
                    rows.append(AddressCheck(role: "guest", expected: want, observed: want, status: .match))
                } else {
                    rows.append(AddressCheck(role: "guest", expected: want, observed: observed.ipv4.isEmpty ? nil : observed.ipv4.joined(separator: ","), status: .mismatch,
                                             note: observed.interfacePresent ? "the tap has other addresses" : "no \(observed.interface) in the namespace"))
                }
            } else {
                rows.append(AddressCheck(role: "guest", expected: want, observed: nil, status: .notObserved, note: unobserved))
            }
        }

        // gateway: the default route.
        switch expected.gateway {
        case .failure(let error):
            rows.append(AddressCheck(role: "gateway", expected: nil, observed: observed?.ipv4Gateway, status: .notComputable, note: error.description))
        case .success(let gateway):
            if let observed, !configuration.configure && observed.ipv4.isEmpty && observed.ipv4Gateway == nil {
                // Same rule as the guest row: without --configure nobody has set up IPv4 yet.
                rows.append(AddressCheck(role: "gateway", expected: gateway.description, observed: nil, status: .notObserved,
                                         note: "started without --configure: the container configures the tap itself"))
            } else {
                rows.append(compareSingle(role: "gateway", expected: gateway.description, observed: observed, value: observed?.ipv4Gateway,
                                          missing: "no default route via the tap", unobserved: unobserved))
            }
        }

        // dns: a virtual address inside slirp4netns; seen only in a process's resolv.conf.
        switch expected.dns {
        case .failure(let error):
            rows.append(AddressCheck(role: "dns", expected: nil, observed: nil, status: .notComputable, note: error.description))
        case .success(let dns):
            rows.append(compareNameserver(role: "dns", expected: dns.description, network: expected.network.map(\.description) ?? "",
                                          observed: observed, disabled: configuration.disableDNS, unobserved: unobserved))
        }

        if let plan = expected.ipv6 {
            let want = plan.prefix
            // The kernel takes IPv6 off a link whose MTU is below 1280 (RFC 8200's minimum): no
            // address, not even link-local, and no router advertisement will ever change that.
            // The MTU seen on the tap, else the configured one, said as such (read through a process, it is not seen).
            let mtu = observed?.mtu ?? configuration.effectiveMTU
            let mtuWords = observed?.mtu != nil ? "MTU \(mtu)" : "configured MTU \(mtu)"
            let ipv6Off = observed.map { $0.ipv6.isEmpty && mtu < Self.ipv6MinimumMTU } ?? false
            let disabled = "IPv6 disabled by the kernel: \(mtuWords) is below IPv6's minimum \(Self.ipv6MinimumMTU)"
            if ipv6Off {
                rows.append(AddressCheck(role: "guest6", expected: "fd00::/64 (SLAAC)", observed: nil, status: .mismatch, note: disabled))
                rows.append(AddressCheck(role: "gateway6", expected: plan.gateway.description, observed: nil, status: .mismatch, note: disabled))
            } else if let observed {
                let matching = observed.ipv6.filter { text in
                    IPv6Address(text.split(separator: "/").first ?? "").map { $0.sharesPrefix64(with: want) } ?? false
                }
                if let first = matching.first {
                    rows.append(AddressCheck(role: "guest6", expected: "fd00::/64 (SLAAC)", observed: first, status: .match))
                } else {
                    rows.append(AddressCheck(role: "guest6", expected: "fd00::/64 (SLAAC)", observed: observed.ipv6.first,
                                             status: observed.ipv6.isEmpty ? .notObserved : .mismatch,
                                             note: observed.ipv6.isEmpty ? "no global IPv6 address yet (router advertisement pending?)" : "address outside fd00::/64"))
                }
                // slirp4netns advertises its router as fe80::2, the link-local twin of fd00::2.
                if let gw = observed.ipv6Gateway.flatMap({ IPv6Address($0) }) {
                    let same = gw == plan.gateway || (gw.isLinkLocal && gw.interfaceIdentifier == plan.gateway.interfaceIdentifier)
                    rows.append(AddressCheck(role: "gateway6", expected: plan.gateway.description, observed: gw.description,
                                             status: same ? .match : .mismatch,
                                             note: same && gw != plan.gateway ? "link-local address of the same router" : nil))
                } else {
                    rows.append(AddressCheck(role: "gateway6", expected: plan.gateway.description, observed: nil, status: .notObserved,
                                             note: "no IPv6 default route yet"))
                }
            } else {
                rows.append(AddressCheck(role: "guest6", expected: "fd00::/64 (SLAAC)", observed: nil, status: .notObserved, note: unobserved))
                rows.append(AddressCheck(role: "gateway6", expected: plan.gateway.description, observed: nil, status: .notObserved, note: unobserved))
            }
            let dns6 = compareNameserver(role: "dns6", expected: plan.dns.description, network: "fd00::/64", observed: observed,
                                         disabled: configuration.disableDNS, unobserved: unobserved)
            // A resolv.conf naming fd00::3 cannot reach it over a link without IPv6.
            rows.append(ipv6Off && dns6.status == .match
                        ? AddressCheck(role: "dns6", expected: dns6.expected, observed: dns6.observed, status: .mismatch, note: "\(dns6.note ?? "resolv.conf"): \(disabled)")
                        : dns6)
        }

        let wantMTU = configuration.effectiveMTU
        if let mtu = observed?.mtu {
            rows.append(AddressCheck(role: "mtu", expected: String(wantMTU), observed: String(mtu), status: wantMTU == mtu ? .match : .mismatch))
        } else {
            // Only a thread inside the namespace can ask the tap's MTU (SIOCGIFMTU): /proc/PID/net has none.
            rows.append(AddressCheck(role: "mtu", expected: String(wantMTU), observed: nil, status: .notObserved,
                                     note: observed == nil ? unobserved : "read through a process in the namespace, whose /proc/PID/net has no MTU"))
        }
        return rows
    }

    private static func compareSingle(role: String, expected: String, observed: ObservedAddresses?, value: String?,
                                      missing: String, unobserved: String) -> AddressCheck {
        guard let observed else { return AddressCheck(role: role, expected: expected, observed: nil, status: .notObserved, note: unobserved) }
        guard let value else {
            return AddressCheck(role: role, expected: expected, observed: nil, status: observed.interfacePresent ? .mismatch : .notObserved, note: missing)
        }
        return AddressCheck(role: role, expected: expected, observed: value, status: value == expected ? .match : .mismatch)
    }

    /// The smallest MTU IPv6 allows on a link (RFC 8200, section 5).
    static let ipv6MinimumMTU = 1280

    /// slirp4netns's DNS address for its default network, which Podman 4.3 writes for a container
    /// with its own user namespace whatever the cidr.
    static let defaultDNS = "10.0.2.3"

    /// The DNS row: `expected` against the nameservers of the same family in the resolv.conf of a
    /// process in the namespace (`dns` against IPv4 ones, `dns6` against IPv6 ones), naming that process.
    private static func compareNameserver(role: String, expected: String, network: String, observed: ObservedAddresses?,
                                          disabled: Bool, unobserved: String) -> AddressCheck {
        if disabled {
            return AddressCheck(role: role, expected: expected, observed: nil, status: .notObserved, note: "--disable-dns: nothing answers at this address")
        }
        guard let observed else { return AddressCheck(role: role, expected: expected, observed: nil, status: .notObserved, note: unobserved) }
        guard let servers = observed.nameservers else {
            return AddressCheck(role: role, expected: expected, observed: nil, status: .notObserved,
                                note: observed.resolvConfProblem.map { "resolv.conf not read: \($0)" }
                                    ?? "resolv.conf not read here (show and the monitor's selected instance read it)")
        }
        let ipv6 = role == "dns6"
        let family = servers.filter { $0.contains(":") == ipv6 }
        let from = observed.nameserverSource.map { "resolv.conf of \($0)" } ?? "resolv.conf"
        guard !family.isEmpty else {
            return AddressCheck(role: role, expected: expected, observed: nil, status: .notConfigured,
                                note: "\(from) names no \(ipv6 ? "IPv6" : "IPv4") nameserver")
        }
        if family.contains(expected) {
            let others = family.filter { $0 != expected }
            return AddressCheck(role: role, expected: expected, observed: expected, status: .match,
                                note: from + (others.isEmpty ? "" : "; also names \(others.joined(separator: ", "))"))
        }
        return AddressCheck(role: role, expected: expected, observed: family.joined(separator: ","), status: .mismatch,
                            note: "\(from): " + whyUnreachable(family[0], expected: expected, network: network))
    }

    /// Why a nameserver that is not slirp4netns's DNS address fails the container, in words.
    private static func whyUnreachable(_ server: String, expected: String, network: String) -> String {
        let bare = server.split(separator: "%", maxSplits: 1).first.map(String.init) ?? server
        if IPv4Address(bare)?.isLoopback == true || IPv6Address(bare) == IPv6Address("::1") {
            return "\(server) is a loopback address: in the namespace only a resolver running there answers (the host's resolver copied in?)"
        }
        if IPv4Address(bare).map({ address in IPv4Network(network).map { $0.contains(address) } ?? false }) == true
            || (IPv6Address(bare).map { $0.sharesPrefix64(with: PodmanAddressing.ipv6Prefix) } ?? false) {
            return "\(server) is in slirp4netns's network \(network) but not its DNS (\(expected)): nothing answers there"
        }
        if server == defaultDNS {
            return "\(server) is slirp4netns's DNS only in its default 10.0.2.0/24; in \(network) it answers at \(expected), and the container"
                + " cannot reach it at \(server) (Podman 4.3 writes \(defaultDNS) for a container with --uidmap)"
        }
        return "\(server) is not slirp4netns's DNS (\(expected)): queries to it leave through slirp4netns to the host's network"
    }
}
