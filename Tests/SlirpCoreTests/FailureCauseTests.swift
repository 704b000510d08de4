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

    /// slirp4netns 1.2.0's log for `--outbound-addr6=eth0`: the error on stderr without a newline,
    /// then the warnings stdout flushes at exit.
    static let outbound6Log = "outbound-addr has to be valid ipv4 address or iterface name.WARNING: Support for seccomp is experimental\nWARNING: Support for IPv6 is experimental\nWARNING: Support for --outbound-addr6 is experimental\n"

    @Test("an error glued to the warning after it is split off; warnings and progress lines are told apart")
    func lines() {
        #expect(FailureCause.logLines(Self.outbound6Log) == [
            "outbound-addr has to be valid ipv4 address or iterface name.", "WARNING: Support for seccomp is experimental",
            "WARNING: Support for IPv6 is experimental", "WARNING: Support for --outbound-addr6 is experimental"])
        #expect(FailureCause.logLines("seccomp: WARNING: can't add extra arch") == ["seccomp: WARNING: can't add extra arch"])
        #expect(FailureCause.role(of: "seccomp: WARNING: can't add extra arch") == .warning)
        #expect(FailureCause.role(of: "(slirp4netns:12): Slirp-WARNING **: 10:00:00.000: x") == .warning)
        #expect(FailureCause.role(of: "sent tapfd=5 for tap0") == .progress)
        #expect(FailureCause.role(of: "-c, --configure          bring up the interface") == .progress)
        #expect(FailureCause.role(of: "--configure conflicts with --target-type=bess") == .error)
    }

    @Test("the quoted line is the error line: never a warning, not a consequence like child failed(1)")
    func errorLine() {
        #expect(FailureCause.errorLine(in: Self.outbound6Log) == "outbound-addr has to be valid ipv4 address or iterface name.")
        #expect(FailureCause.errorLine(in: "WARNING: Support for seccomp is experimental\nsomething odd happened\nchild failed(1)\nWARNING: last") == "something odd happened")
        #expect(FailureCause.errorLine(in: "WARNING: a\nWARNING: b\n") == nil)
        let only = FailureCause.unexplainedExit(status: 1, log: "WARNING: a\nsent tapfd=5 for tap0\nWARNING: b\n")
        #expect(only.cause.contains("only warnings (2: WARNING: a; WARNING: b)"))
        #expect(only.evidence == nil)
    }

    @Test("outbound-addr refusals: which option, and the fix names this host's interfaces")
    func outbound() throws {
        let six = try #require(FailureCause.classify(log: Self.outbound6Log, outboundAddr6: "eth0"))
        #expect(six.kind == .outboundAddressInvalid)
        #expect(six.evidence == "outbound-addr has to be valid ipv4 address or iterface name.")
        let interfaces = [HostChecks.Interface(name: "lo", ipv4: ["127.0.0.1"], ipv6: ["::1"]),
                          HostChecks.Interface(name: "eth0", ipv4: ["192.0.2.2"], ipv6: ["fd00::2"]), HostChecks.Interface(name: "ifb0")]
        let byName = FailureCause.outboundAddressInvalid("outbound_addr6", value: "eth0", outboundAddr: nil, interfaces: interfaces, evidence: nil)
        #expect(byName.fix.hasPrefix("give an IPv6 address of this host: outbound_addr6=fd00::2"))
        let four = FailureCause.outboundAddressInvalid("outbound_addr", value: "ifb0", outboundAddr: "ifb0", interfaces: interfaces, evidence: nil)
        #expect(four.fix.contains("eth0 (192.0.2.2)") && !four.fix.contains("ifb0") && !four.fix.contains("127.0.0.1"))
    }

    @Test("Podman's message for an early exit is its own: the path, then the whole log Go-quoted")
    func podmanMessage() {
        #expect(FailureCause.podmanExitMessage(binary: "/usr/bin/slirp4netns", log: Self.outbound6Log)
                == #"/usr/bin/slirp4netns failed: "outbound-addr has to be valid ipv4 address or iterface name.WARNING: Support for seccomp is experimental\nWARNING: Support for IPv6 is experimental\nWARNING: Support for --outbound-addr6 is experimental\n""#)
    }
}
