@testable import SlirpCore
import Testing

@Suite("FailureCause: naming a slirp4netns failure from its log, with the fix")
struct FailureCauseTests {
    @Test("slirp4netns 1.2's own messages are classified", arguments: [
        ("MTU must be a positive integer (< 65522)\nUsage: slirp4netns [OPTION]...", FailureCause.Kind.mtuTooLarge),
        ("prefix length needs to be 1-25\nUsage: ...", .cidrPrefixLength),
        ("CIDR needs to be a network address like 10.0.2.0/24, not like 10.0.2.100/24", .cidrNotNetworkAddress),
        ("open(\"/dev/net/tun\"): Permission denied\nchild failed(1)", .tunDenied),
        ("open(\"/dev/net/tun\"): No such file or directory", .tunMissing),
        ("sent tapfd=5 for tap0\nthe specified API socket path is too long (>= 108)\ndo_slirp failed", .apiSocketPathTooLong),
    ])
    func classifiesLog(log: String, kind: FailureCause.Kind) throws {
        let cause = try #require(FailureCause.classify(log: log))
        #expect(cause.kind == kind)
        #expect(!cause.fix.isEmpty)
        #expect(cause.evidence != nil)
    }

    @Test("Podman's quoted error text (%q, with \\n) is classified too")
    func podmanQuoted() throws {
        let text = #"/usr/bin/slirp4netns failed: "open(\"/dev/net/tun\"): Permission denied\nWARNING: Support for sandboxing is experimental\nchild failed(1)\n""#
        #expect(try #require(FailureCause.classify(log: text)).kind == .tunDenied)
    }

    @Test("a healthy log is no failure")
    func healthy() {
        #expect(FailureCause.classify(log: "sent tapfd=7 for tap0\nWARNING: Support for seccomp is experimental\nreceived tapfd=7\napi_handler: got request: {\"execute\":\"list_hostfwd\"}\n") == nil)
    }

    @Test("cidr fixes name the network to use")
    func cidrFixes() throws {
        let hostBits = try #require(FailureCause.classify(log: "CIDR needs to be a network address like 10.0.2.0/24, not like 10.0.2.100/24", cidr: "10.99.3.7/16"))
        #expect(hostBits.fix == "use cidr=10.99.0.0/16")
        let prefix = try #require(FailureCause.classify(log: "prefix length needs to be 1-25", cidr: "10.5.0.0/30"))
        #expect(prefix.fix.contains("cidr=10.5.0.0/24"))
    }

    @Test("Podman's option errors: unknown versus invalid")
    func podmanOptions() {
        #expect(FailureCause.podmanOption(#"unknown option for slirp4netns: "frob=1""#).kind == .unknownOption)
        let mtu = FailureCause.podmanOption(#"invalid mtu "abc""#)
        #expect(mtu.kind == .invalidOption)
        #expect(mtu.fix.contains("68"))
    }

    @Test("a missing feature names the binary and the way around it")
    func feature() {
        let cause = FailureCause.featureMissing("enable_ipv6 not supported", binary: "/opt/old/slirp4netns", version: "0.3.0")
        #expect(cause.kind == .featureMissing)
        #expect(cause.cause.contains("/opt/old/slirp4netns"))
        #expect(cause.fix.contains("enable_ipv6=false"))
    }

    @Test("the longest tmp_dir that fits Podman's API socket path is 38 bytes")
    func tmpDirLimit() {
        #expect(FailureCause.longestTmpDirForAPISocket == 38)
        let path = SlirpCommandBuilder.apiSocketPath(tmpDir: String(repeating: "t", count: 38), containerID: String(repeating: "a", count: 64))
        #expect(path.utf8.count == maximumUnixSocketPathLength)
    }
}
