import Testing
@testable import SlirpCore

/// The operator asks "which addresses should this container have?" and slirpmon must
/// answer exactly as Podman computes them (GetSlirp4netnsIP/Gateway/DNS, addToIP).
@Suite("Podman address math")
struct PodmanAddressingTests {
    private func message(_ result: Result<IPv4Address, AddressError>) -> String? {
        if case .failure(let error) = result { return error.description }
        return nil
    }

    private func address(_ result: Result<IPv4Address, AddressError>) -> String? {
        if case .success(let address) = result { return address.description }
        return nil
    }

    @Test func defaultNetworkGivesGuest100Gateway2DNS3() throws {
        let expected = ExpectedAddresses(cidr: nil, ipv6: false)
        #expect(address(expected.guest) == "10.0.2.100")
        #expect(address(expected.gateway) == "10.0.2.2")
        #expect(address(expected.dns) == "10.0.2.3")
        #expect(expected.network?.description == "10.0.2.0/24")
        #expect(expected.ipv6 == nil)
        #expect(try PodmanAddressing.guestAddress() == IPv4Address(10, 0, 2, 100))
    }

    @Test func writingTheDefaultCIDRExplicitlyChangesNothing() {
        #expect(ExpectedAddresses(cidr: "10.0.2.0/24", ipv6: true) == ExpectedAddresses(cidr: nil, ipv6: true))
    }

    @Test(arguments: [
        ("10.99.128.0/17", "10.99.128.100", "10.99.128.2", "10.99.128.3"),
        ("192.168.7.0/24", "192.168.7.100", "192.168.7.2", "192.168.7.3"),
        ("172.16.0.0/12", "172.16.0.100", "172.16.0.2", "172.16.0.3"),
        ("10.0.2.0/25", "10.0.2.100", "10.0.2.2", "10.0.2.3"),
    ])
    func customCIDR(cidr: String, guest: String, gateway: String, dns: String) {
        let expected = ExpectedAddresses(cidr: cidr, ipv6: false)
        #expect(address(expected.guest) == guest)
        #expect(address(expected.gateway) == gateway)
        #expect(address(expected.dns) == dns)
    }

    @Test func cidrWithHostBitsSetUsesTheNetworkAddress() {
        // Go's net.ParseCIDR returns the network with host bits cleared; Podman adds to that.
        let expected = ExpectedAddresses(cidr: "10.0.2.5/24", ipv6: false)
        #expect(address(expected.guest) == "10.0.2.100")
        #expect(address(expected.gateway) == "10.0.2.2")
        #expect(expected.network?.description == "10.0.2.0/24")
        #expect(expected.network?.isNetworkAddress == false)
        let odd = ExpectedAddresses(cidr: "10.99.200.77/17", ipv6: false)
        #expect(address(odd.guest) == "10.99.128.100")
    }

    @Test(arguments: ["fd00::/64", "garbage", "10.0.2.0/33", "10.0.2.0", "10.0.2.0/", "/24", "10.0.2/24", "010.0.2.0/24", "10.0.2.0/-1", ""])
    func invalidCIDRIsReportedWithPodmansText(cidr: String) {
        let expected = ExpectedAddresses(cidr: cidr, ipv6: false)
        let text = "invalid cidr \"\(cidr)\""
        #expect(message(expected.guest) == text)
        #expect(message(expected.gateway) == text)
        #expect(message(expected.dns) == text)
        #expect(expected.network == nil)
        #expect(throws: AddressError.invalidCIDR(cidr)) { try PodmanAddressing.network(fromCIDR: cidr) }
    }

    @Test func invalidCIDRQuotesLikeGo() {
        #expect(AddressError.invalidCIDR("a\"b\\c\n").description == #"invalid cidr "a\"b\\c\n""#)
    }

    @Test func overflowPastTheLastAddressIsRefused() {
        // Go: fmt.Errorf("integer overflow while calculating ip address offset, %s + %d", ipFixed, offset)
        let top = ExpectedAddresses(cidr: "255.255.255.255/32", ipv6: false)
        #expect(message(top.guest) == "error calculating expected ip for slirp4netns: integer overflow while calculating ip address offset, 255.255.255.255 + 100")
        #expect(message(top.gateway) == "error calculating expected gateway ip for slirp4netns: integer overflow while calculating ip address offset, 255.255.255.255 + 2")
        #expect(message(top.dns) == "error calculating expected dns ip for slirp4netns: integer overflow while calculating ip address offset, 255.255.255.255 + 3")

        // The base is the network address, not the address as written.
        let slash27 = ExpectedAddresses(cidr: "255.255.255.230/27", ipv6: false)
        #expect(message(slash27.guest) == "error calculating expected ip for slirp4netns: integer overflow while calculating ip address offset, 255.255.255.224 + 100")
        #expect(address(slash27.gateway) == "255.255.255.226")
        #expect(address(slash27.dns) == "255.255.255.227")
    }

    @Test func addressOutsideASmallSubnetIsRefused() {
        let small = ExpectedAddresses(cidr: "10.0.2.0/26", ipv6: false)
        #expect(message(small.guest) == "error calculating expected ip for slirp4netns: calculated ip address 10.0.2.100 is not within given subnet 10.0.2.0/26")
        #expect(address(small.gateway) == "10.0.2.2")
        #expect(address(small.dns) == "10.0.2.3")

        let tiny = ExpectedAddresses(cidr: "10.0.2.1/31", ipv6: false)
        #expect(message(tiny.gateway) == "error calculating expected gateway ip for slirp4netns: calculated ip address 10.0.2.2 is not within given subnet 10.0.2.0/31")
        #expect(message(tiny.dns) == "error calculating expected dns ip for slirp4netns: calculated ip address 10.0.2.3 is not within given subnet 10.0.2.0/31")
    }

    @Test func addToIPDirectly() throws {
        let net = try #require(IPv4Network("10.0.2.0/24"))
        #expect(try PodmanAddressing.add(255, to: net) == IPv4Address(10, 0, 2, 255))
        #expect(throws: AddressError.outsideSubnet(address: IPv4Address(10, 0, 3, 0), network: net)) {
            try PodmanAddressing.add(256, to: net)
        }
        let all = try #require(IPv4Network("0.0.0.0/0"))
        #expect(try PodmanAddressing.add(100, to: all).description == "0.0.0.100")
    }

    @Test func ipv6PlanIsFixedWhateverTheCIDR() throws {
        let plan = try #require(ExpectedAddresses(cidr: "10.99.128.0/17", ipv6: true).ipv6)
        #expect(plan.prefix.description == "fd00::")
        #expect(plan.gateway.description == "fd00::2")
        #expect(plan.dns.description == "fd00::3")
        #expect(plan.prefixLength == 64)
    }

    @Test func expectationFollowsTheDecodedCommandLine() {
        let config = SlirpCommandLine.decode(["slirp4netns", "--configure", "--cidr=10.99.128.0/17", "--enable-ipv6", "1234", "tap0"])
        let expected = ExpectedAddresses(config)
        #expect(address(expected.guest) == "10.99.128.100")
        #expect(expected.ipv6 != nil)
        let plain = ExpectedAddresses(SlirpCommandLine.decode(["slirp4netns", "1234"]))
        #expect(address(plain.guest) == "10.0.2.100")
        #expect(plain.ipv6 == nil)
    }
}

@Suite("IPv4 parsing")
struct IPv4AddressTests {
    @Test(arguments: ["10.0.2.100", "0.0.0.0", "255.255.255.255", "1.2.3.4", "127.0.0.1"])
    func dottedQuadRoundTrips(text: String) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.description == text)
    }

    @Test func valueIsBigEndianNumber() {
        #expect(IPv4Address("10.0.2.100")?.value == 0x0A00_0264)
        #expect(IPv4Address(10, 0, 2, 2) == IPv4Address("10.0.2.2"))
    }

    @Test(arguments: ["010.0.2.1", "10.0.02.1", "10.0.2.00", "256.0.0.1", "10.0.2.256", "1000.0.0.1", "localhost",
                      "example.com", "10.0.2", "10.0.2.1.5", "10..2.1", "10.0.2.", ".10.0.2", "", " 10.0.2.1",
                      "10.0.2.1 ", "fd00::2", "::ffff:10.0.2.1", "+1.2.3.4", "1.2.3.-4", "0x0A.0.2.1"])
    func strictParsingRejects(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func procRouteHexIsLittleEndian() {
        #expect(IPv4Address(procHex: "0202000A")?.description == "10.0.2.2")
        #expect(IPv4Address(procHex: "00FFFFFF")?.description == "255.255.255.0")
        #expect(IPv4Address(procHex: "0080FFFF")?.description == "255.255.128.0")
        // Every width of octet, written digit by digit.
        for text in ["0.9.10.99", "100.199.200.255", "1.0.0.1", "255.255.255.255", "0.0.0.0"] {
            #expect(IPv4Address(text)?.description == text)
        }
        #expect(IPv4Address(procHex: "00000000")?.isUnspecified == true)
        #expect(IPv4Address(procHex: "202000A") == nil)
        #expect(IPv4Address(procHex: "0202000A0") == nil)
        #expect(IPv4Address(procHex: "ZZ02000A") == nil)
    }

    @Test func networkParsing() throws {
        let net = try #require(IPv4Network("10.99.200.77/17"))
        #expect(net.network.description == "10.99.128.0")
        #expect(net.contains(IPv4Address(10, 99, 255, 255)))
        #expect(!net.contains(IPv4Address(10, 100, 0, 0)))
        #expect(IPv4Network("10.0.2.0/32")?.prefixLength == 32)
        #expect(IPv4Network("10.0.2.0/0")?.description == "0.0.0.0/0")
        #expect(IPv4Network("10.0.2.0/33") == nil)
        #expect(IPv4Network("10.0.2.0/24/1") == nil)
        #expect(IPv4Network("10.0.2.0/+4") == nil)
        #expect(IPv4Network("10.0.2.0/ 4") == nil)
        #expect(IPv4Network("10.0.2.0/4 ") == nil)
        #expect(IPv4Network("10.0.2.0/0x10") == nil)
        // Go's dtoi accepts leading zeros in the prefix length.
        #expect(IPv4Network("10.0.2.0/024")?.description == "10.0.2.0/24")
        #expect(IPv4Network("10.0.2.0/00000000000000000000033") == nil)
    }

    @Test func loopbackDetection() {
        #expect(IPv4Address("127.0.0.1")?.isLoopback == true)
        #expect(IPv4Address("127.255.255.255")?.isLoopback == true)
        #expect(IPv4Address("10.0.2.2")?.isLoopback == false)
    }
}

@Suite("IPv6 parsing")
struct IPv6AddressTests {
    @Test(arguments: [
        ("fd00::2", "fd00::2"),
        ("fe80::2", "fe80::2"),
        ("::1", "::1"),
        ("::", "::"),
        ("fd00:0:0:0:0:0:0:2", "fd00::2"),
        ("FD00:0000:0000:0000:0000:0000:0000:0003", "fd00::3"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
        ("fd00::e098:3bff:feb6:16bb", "fd00::e098:3bff:feb6:16bb"),
        ("fd00::", "fd00::"),
    ])
    func textRoundTrip(input: String, canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test(arguments: ["fd00::2::3", "fd00:::2", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
                      "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7", "", ":", "10.0.2.2", "fe80::2%tap0"])
    func invalidTextIsRejected(text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func embeddedIPv4AsGoParsesIt() throws {
        let mapped = try #require(IPv6Address("::ffff:10.0.2.1"))
        #expect(mapped.ipv4Mapped == IPv4Address(10, 0, 2, 1))
        #expect(mapped == IPv6Address("::ffff:a00:201"))
        let nat64 = try #require(IPv6Address("64:ff9b::192.0.2.1"))
        #expect(nat64.description == "64:ff9b::c000:201")
        #expect(nat64.ipv4Mapped == nil)
        #expect(try #require(IPv6Address("fd00::2")).ipv4Mapped == nil)
        for bad in ["::1.2.3", "::256.0.0.1", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", "::010.0.2.1", "1.2.3.4", "::1.2.3.4%eth0"] {
            #expect(IPv6Address(bad) == nil, "\(bad)")
        }
    }

    @Test func procHexParsing() {
        #expect(IPv6Address(procHex: "fe800000000000000000000000000002")?.description == "fe80::2")
        #expect(IPv6Address(procHex: "fd00000000000000e0983bfffeb616bb")?.description == "fd00::e098:3bff:feb6:16bb")
        #expect(IPv6Address(procHex: "fe80000000000000000000000000002") == nil)
        #expect(IPv6Address(procHex: "fe80000000000000000000000000000x") == nil)
    }

    @Test func slaacPrefixCheck() throws {
        let slaac = try #require(IPv6Address("fd00::e098:3bff:feb6:16bb"))
        #expect(slaac.sharesPrefix64(with: PodmanAddressing.ipv6Prefix))
        #expect(try #require(IPv6Address("fd00:0:0:1::5")).sharesPrefix64(with: PodmanAddressing.ipv6Prefix) == false)
        #expect(try #require(IPv6Address("fe80::e098:3bff:feb6:16bb")).sharesPrefix64(with: PodmanAddressing.ipv6Prefix) == false)
    }

    @Test func linkLocalAndInterfaceIdentifier() throws {
        let router = try #require(IPv6Address("fe80::2"))
        #expect(router.isLinkLocal)
        #expect(try #require(IPv6Address("febf::1")).isLinkLocal)
        #expect(try #require(IPv6Address("fec0::1")).isLinkLocal == false)
        #expect(try #require(IPv6Address("fd00::2")).isLinkLocal == false)
        #expect(router.interfaceIdentifier == PodmanAddressing.ipv6Gateway.interfaceIdentifier)
        #expect(IPv6Address(bytes: [1, 2, 3]) == nil)
    }
}
