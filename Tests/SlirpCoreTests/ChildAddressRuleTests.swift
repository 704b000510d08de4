@testable import SlirpCore
import Testing

@Suite("A RootlessKit port's childIP, checked against the port driver before sending")
struct ChildAddressRuleTests {
    @Test("with the slirp4netns driver a container's bridge address or loopback is refused with the reason; slirp's own network or no childIP is not")
    func slirpDriverReachesOnlyItsNetwork() {
        let bridge = ChildAddressRule.refusal(childIP: "172.17.0.2", portDriver: "slirp4netns")
        #expect(bridge?.contains("outside slirp4netns's network 10.0.2.0/24") == true, "\(bridge ?? "nil")")
        #expect(ChildAddressRule.refusal(childIP: "127.0.0.1", portDriver: "slirp4netns") != nil)
        #expect(ChildAddressRule.refusal(childIP: "::1", portDriver: "slirp4netns") != nil)
        #expect(ChildAddressRule.refusal(childIP: "10.0.2.100", portDriver: "slirp4netns") == nil)
        #expect(ChildAddressRule.refusal(childIP: nil, portDriver: "slirp4netns") == nil)
        let cidr = IPv4Network(address: IPv4Address(10, 0, 5, 0), prefixLength: 24)
        #expect(ChildAddressRule.refusal(childIP: "10.0.2.100", portDriver: "slirp4netns", slirpNetwork: cidr) != nil)
        #expect(ChildAddressRule.refusal(childIP: "10.0.5.100", portDriver: "slirp4netns", slirpNetwork: cidr) == nil)
    }

    @Test("with the builtin driver any childIP in the namespace is left to RootlessKit")
    func builtinDriverTakesAnyAddress() {
        #expect(ChildAddressRule.refusal(childIP: "172.17.0.2", portDriver: "builtin") == nil)
        #expect(ChildAddressRule.refusal(childIP: "127.0.0.1", portDriver: "builtin") == nil)
    }
}
