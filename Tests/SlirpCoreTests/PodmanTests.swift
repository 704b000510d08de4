import Testing
@testable import SlirpCore

private let noInterfaces: @Sendable (String) -> Bool = { _ in false }

private func parseError(_ options: [String], engine: [String] = [], interfaceExists: @escaping (String) -> Bool = noInterfaces) -> String? {
    do {
        _ = try SlirpNetworkOptions.parse(options, engineOptions: engine, interfaceExists: interfaceExists)
        return nil
    } catch {
        return error.message
    }
}

/// `--network slirp4netns:OPTIONS` must be read as Podman reads it, refusing what Podman refuses
/// with Podman's exact words (parseSlirp4netnsNetworkOptions).
@Suite("Podman slirp4netns network options")
struct SlirpNetworkOptionsTests {
    @Test func defaults() throws {
        let o = try SlirpNetworkOptions.parse([], interfaceExists: noInterfaces)
        #expect(o.mtu == 65520)
        #expect(o.enableIPv6)
        #expect(o.disableHostLoopback)
        #expect(o.isSlirpHostForward == false) // port_handler=rootlesskit
        #expect(o.cidr == nil)
        #expect(o.outboundAddr == nil && o.outboundAddr6 == nil)
        #expect(o.noPivotRoot == false)
        #expect(try SlirpNetworkOptions.parse([], noPivotRoot: true, interfaceExists: noInterfaces).noPivotRoot)
    }

    @Test func everyOptionTakesEffect() throws {
        let o = try SlirpNetworkOptions.parse(
            ["cidr=10.99.128.0/17", "port_handler=slirp4netns", "allow_host_loopback=true", "enable_ipv6=false",
             "outbound_addr=192.168.1.5", "outbound_addr6=fd12::5", "mtu=1500"], interfaceExists: noInterfaces)
        #expect(o.cidr == "10.99.128.0/17")
        #expect(o.isSlirpHostForward)
        #expect(o.disableHostLoopback == false)
        #expect(o.enableIPv6 == false)
        #expect(o.outboundAddr == "192.168.1.5")
        #expect(o.outboundAddr6 == "fd12::5")
        #expect(o.mtu == 1500)

        let back = try SlirpNetworkOptions.parse(["port_handler=slirp4netns", "port_handler=rootlesskit", "allow_host_loopback=false",
                                                  "enable_ipv6=true", "mtu=68"], interfaceExists: noInterfaces)
        #expect(back.isSlirpHostForward == false)
        #expect(back.disableHostLoopback)
        #expect(back.enableIPv6)
        #expect(back.mtu == 68)
    }

    @Test func valueMayContainEqualsSigns() throws {
        // strings.SplitN(o, "=", 2): only the first "=" separates.
        #expect(parseError(["mtu=1500=2"]) == #"invalid mtu "1500=2""#)
    }

    @Test func messagesQuoteLikeGosPercentQ() {
        // fmt's %q: \a \b \f \v escapes, \xNN for other controls, \uNNNN for non-printable runes.
        #expect(parseError(["frob=\u{7}\u{8}\u{C}\u{B}\u{1B}\u{7F}"]) == #"unknown option for slirp4netns: "frob=\a\b\f\v\x1b\x7f""#)
        #expect(parseError(["frob=é😀\u{A0}\u{200B}\u{85}\u{E0001}"]) == #"unknown option for slirp4netns: "frob=é😀\u00a0\u200b\u0085\U000e0001""#)
        #expect(parseError(["cidr=a\"b\\c\n\t\r"]) == #"invalid cidr "a\"b\\c\n\t\r""#)
    }

    @Test func unknownOptions() {
        #expect(parseError(["frob=1"]) == #"unknown option for slirp4netns: "frob=1""#)
        #expect(parseError(["noequals"]) == #"unknown option for slirp4netns: "noequals""#)
        #expect(parseError([""]) == #"unknown option for slirp4netns: """#)
        #expect(parseError(["MTU=1500"]) == #"unknown option for slirp4netns: "MTU=1500""#)
        #expect(parseError(["mtu=1500", "frob=1"]) == #"unknown option for slirp4netns: "frob=1""#)
    }

    @Test(arguments: ["fd00::/64", "garbage", "10.0.2.0/33", "10.0.2.0", "", "010.0.2.0/24"])
    func invalidCIDR(cidr: String) {
        #expect(parseError(["cidr=\(cidr)"]) == "invalid cidr \"\(cidr)\"")
    }

    @Test func cidrWithHostBitsIsAccepted() throws {
        // net.ParseCIDR accepts it; Podman keeps the text as written.
        #expect(try SlirpNetworkOptions.parse(["cidr=10.0.2.5/24"], interfaceExists: noInterfaces).cidr == "10.0.2.5/24")
    }

    @Test func enumeratedValues() {
        #expect(parseError(["port_handler=socat"]) == #"unknown port_handler for slirp4netns: "socat""#)
        #expect(parseError(["port_handler="]) == #"unknown port_handler for slirp4netns: """#)
        #expect(parseError(["allow_host_loopback=yes"]) == #"invalid value of allow_host_loopback for slirp4netns: "yes""#)
        #expect(parseError(["allow_host_loopback=True"]) == #"invalid value of allow_host_loopback for slirp4netns: "True""#)
        #expect(parseError(["enable_ipv6=1"]) == #"invalid value of enable_ipv6 for slirp4netns: "1""#)
        #expect(parseError(["enable_ipv6="]) == #"invalid value of enable_ipv6 for slirp4netns: """#)
    }

    @Test func outboundAddresses() throws {
        #expect(parseError(["outbound_addr=nosuch0"]) == #"invalid outbound_addr "nosuch0""#)
        #expect(parseError(["outbound_addr=fd00::5"]) == #"invalid outbound_addr "fd00::5""#)
        #expect(parseError(["outbound_addr=10.0.0.256"]) == #"invalid outbound_addr "10.0.0.256""#)
        // Note the colon: the reference's outbound_addr6 message differs from outbound_addr's.
        #expect(parseError(["outbound_addr6=10.0.0.1"]) == #"invalid outbound_addr6: "10.0.0.1""#)
        #expect(parseError(["outbound_addr6=nosuch0"]) == #"invalid outbound_addr6: "nosuch0""#)
        #expect(parseError(["outbound_addr6=fd00::5::1"]) == #"invalid outbound_addr6: "fd00::5::1""#)

        // net.ParseIP semantics: an IPv4-mapped IPv6 address is an IPv4 address (To4() != nil),
        // and an IPv6 address may end in a dotted quad.
        #expect(try SlirpNetworkOptions.parse(["outbound_addr=::ffff:192.168.1.5"], interfaceExists: noInterfaces).outboundAddr == "::ffff:192.168.1.5")
        #expect(parseError(["outbound_addr6=::ffff:192.168.1.5"]) == #"invalid outbound_addr6: "::ffff:192.168.1.5""#)
        #expect(try SlirpNetworkOptions.parse(["outbound_addr6=64:ff9b::192.0.2.1"], interfaceExists: noInterfaces).outboundAddr6 == "64:ff9b::192.0.2.1")
        #expect(parseError(["outbound_addr6=fe80::1%eth0"]) == #"invalid outbound_addr6: "fe80::1%eth0""#)

        // An interface name is accepted when the interface exists.
        let eth9: (String) -> Bool = { $0 == "eth9" }
        let o = try SlirpNetworkOptions.parse(["outbound_addr=eth9", "outbound_addr6=eth9"], interfaceExists: eth9)
        #expect(o.outboundAddr == "eth9")
        #expect(o.outboundAddr6 == "eth9")
        #expect(parseError(["outbound_addr=eth8"], interfaceExists: eth9) == #"invalid outbound_addr "eth8""#)
    }

    @Test func realHostLoopbackInterface() throws {
        #expect(SlirpNetworkOptions.hostHasInterface("lo"))
        #expect(!SlirpNetworkOptions.hostHasInterface("slirpmon-none0"))
        #expect(!SlirpNetworkOptions.hostHasInterface(""))
        let o = try SlirpNetworkOptions.parse(["outbound_addr=lo", "outbound_addr6=lo"])
        #expect(o.outboundAddr == "lo")
        #expect(o.outboundAddr6 == "lo")
        #expect(throws: SlirpNetworkOptions.ParseError(message: #"invalid outbound_addr "nosuchif0""#)) {
            try SlirpNetworkOptions.parse(["outbound_addr=nosuchif0"])
        }
    }

    @Test func invalidMTU() {
        #expect(parseError(["mtu=67"]) == #"invalid mtu "67""#)
        #expect(parseError(["mtu=abc"]) == #"invalid mtu "abc""#)
        #expect(parseError(["mtu=-1"]) == #"invalid mtu "-1""#)
        #expect(parseError(["mtu="]) == #"invalid mtu """#)
        #expect(parseError(["mtu=99999999999999999999999"]) == #"invalid mtu "99999999999999999999999""#)
    }

    @Test func engineOptionsComeFirstAndContainerOptionsOverride() throws {
        let o = try SlirpNetworkOptions.parse(["mtu=9000", "enable_ipv6=true"],
                                              engineOptions: ["mtu=1500", "port_handler=slirp4netns", "enable_ipv6=false"],
                                              interfaceExists: noInterfaces)
        #expect(o.mtu == 9000)
        #expect(o.enableIPv6)
        #expect(o.isSlirpHostForward) // from the engine, not overridden
        // A bad engine option fails even when the container's own options are fine.
        #expect(parseError(["mtu=1500"], engine: ["frob=1"]) == #"unknown option for slirp4netns: "frob=1""#)
        // The first bad option wins, and engine options are read first.
        #expect(parseError(["mtu=1"], engine: ["enable_ipv6=maybe"]) == #"invalid value of enable_ipv6 for slirp4netns: "maybe""#)
    }

    @Test func splittingTheNetworkArgument() {
        #expect(SlirpNetworkOptions.split("port_handler=slirp4netns,enable_ipv6=true") == ["port_handler=slirp4netns", "enable_ipv6=true"])
        #expect(SlirpNetworkOptions.split("") == [])
        #expect(SlirpNetworkOptions.split("mtu=1500,,cidr=10.0.2.0/24") == ["mtu=1500", "", "cidr=10.0.2.0/24"])
        #expect(parseError(SlirpNetworkOptions.split("mtu=1500,")) == #"unknown option for slirp4netns: """#)
    }
}

/// An older `slirp4netns --help` (0.3-era shape: no --enable-sandbox, --enable-seccomp,
/// --cidr, --enable-ipv6, --outbound-addr).
let oldHelpText = """
Usage: slirp4netns [OPTION]... PID TAPNAME
User-mode networking for unprivileged network namespaces.

-c, --configure          bring up the interface
-e, --exit-fd=FD         specify the FD for terminating slirp4netns
-r, --ready-fd=FD        specify the FD to write to when the network is configured
-m, --mtu=MTU            specify MTU (default=1500, max=65521)
--disable-host-loopback  prohibit connecting to 127.0.0.1:* on the host namespace
-a, --api-socket=PATH    specify API socket path
-h, --help               show this help and exit
-v, --version            show version and exit
"""

@Suite("slirp4netns features and Podman's command line")
struct SlirpFeaturesAndBuilderTests {
    @Test func realInstalledBinaryHasEveryFeature() throws {
        let binary = try SlirpBinary.probe().get()
        #expect(binary.path.hasSuffix("slirp4netns"))
        #expect(binary.version?.hasPrefix("1.") == true)
        #expect(binary.features == .all)
        #expect(binary.features.names == ["mtu", "cidr", "ipv6", "disable-host-loopback", "sandbox", "seccomp", "outbound-addr"])
    }

    @Test func probingAMissingBinaryFailsClearly() {
        let result = SlirpBinary.probe(path: "/nonexistent/slirp4netns")
        guard case .failure(let error) = result else {
            Issue.record("probe of a missing binary succeeded")
            return
        }
        #expect(error.description.contains("/nonexistent/slirp4netns"))
        #expect(SlirpBinary.ProbeError.notFound.description.contains("apt-get install slirp4netns"))
    }

    @Test func olderHelpTextLacksTheNewerFeatures() {
        let f = SlirpFeatures(helpText: oldHelpText)
        #expect(f.hasMTU && f.hasDisableHostLoopback)
        #expect(!f.hasIPv6 && !f.hasCIDR && !f.hasEnableSandbox && !f.hasEnableSeccomp && !f.hasOutboundAddr)
        #expect(f.names == ["mtu", "disable-host-loopback"])
        #expect(SlirpFeatures(helpText: "") == SlirpFeatures())
    }

    @Test func defaultOptionsBuildPodmansArguments() throws {
        let options = try SlirpNetworkOptions.parse([], interfaceExists: noInterfaces)
        #expect(try SlirpCommandBuilder.basicArguments(options, features: .all) ==
                ["--disable-host-loopback", "--mtu=65520", "--enable-sandbox", "--enable-seccomp", "--enable-ipv6"])
    }

    @Test func fullCommandLineEqualsWhatPodman431Ran() throws {
        // The exact command line seen from `podman run --network slirp4netns:port_handler=slirp4netns,enable_ipv6=true -p ...`.
        let id = "3f1e2d4c5b6a79880123456789abcdef0123456789abcdef0123456789abcdef"
        let netns = "/run/netns/netns-6c2e4c7a-1b9d-2f3e-8a4b-5c6d7e8f9a0b"
        let options = try SlirpNetworkOptions.parse(SlirpNetworkOptions.split("port_handler=slirp4netns,enable_ipv6=true"),
                                                    interfaceExists: noInterfaces)
        let args = try SlirpCommandBuilder.fullArguments(options, features: .all, containerID: id, tmpDir: "/run/libpod",
                                                         target: .netnsPath(netns), hasPortMappings: true)
        let seen = "--disable-host-loopback --mtu=65520 --enable-sandbox --enable-seccomp --enable-ipv6 -c -e 3 -r 4 --api-socket /run/libpod/\(id).net --netns-type=path \(netns) tap0"
        #expect(args.joined(separator: " ") == seen)
        // And slirpmon decodes what it builds back to the same options.
        let decoded = SlirpCommandLine.decode(["/usr/bin/slirp4netns"] + args)
        #expect(decoded.apiSocket == SlirpCommandBuilder.apiSocketPath(tmpDir: "/run/libpod", containerID: id))
        #expect(decoded.mtu == options.mtu && decoded.enableIPv6 == options.enableIPv6)
        #expect(decoded.disableHostLoopback == options.disableHostLoopback)
        #expect(decoded.unrecognized.isEmpty)
        #expect(SlirpCommandBuilder.logPath(tmpDir: "/run/libpod", containerID: id) == "/run/libpod/slirp4netns-\(id).log")
    }

    @Test func cidrMTUAndOutboundAddresses() throws {
        let options = try SlirpNetworkOptions.parse(["cidr=10.99.128.0/17", "mtu=1500", "outbound_addr=192.168.1.5",
                                                     "outbound_addr6=fd12::5", "allow_host_loopback=true"], interfaceExists: noInterfaces)
        #expect(try SlirpCommandBuilder.basicArguments(options, features: .all) ==
                ["--mtu=1500", "--enable-sandbox", "--enable-seccomp", "--cidr=10.99.128.0/17", "--enable-ipv6",
                 "--outbound-addr=192.168.1.5", "--outbound-addr6=fd12::5"])
    }

    @Test func noPivotRootDropsTheSandbox() throws {
        let options = try SlirpNetworkOptions.parse(["enable_ipv6=false"], noPivotRoot: true, interfaceExists: noInterfaces)
        #expect(try SlirpCommandBuilder.basicArguments(options, features: .all) == ["--disable-host-loopback", "--mtu=65520", "--enable-seccomp"])
    }

    @Test func missingFeaturesAreSkippedOrRefusedAsPodmanDoes() throws {
        let old = SlirpFeatures(helpText: oldHelpText)
        func failure(_ opts: [String], _ features: SlirpFeatures) throws -> String? {
            let options = try SlirpNetworkOptions.parse(opts, interfaceExists: noInterfaces)
            do { _ = try SlirpCommandBuilder.basicArguments(options, features: features); return nil } catch { return error.message }
        }
        // Podman's default enable_ipv6=true fails on a binary without --enable-ipv6.
        #expect(try failure([], old) == "enable_ipv6 not supported")
        #expect(try failure(["cidr=10.0.2.0/24"], old) == "cidr not supported")
        #expect(try failure(["enable_ipv6=false", "outbound_addr=1.2.3.4"], old) == "outbound_addr not supported")
        #expect(try failure(["enable_ipv6=false", "outbound_addr6=fd00::9"], old) == "outbound_addr6 not supported")
        var noIPv6 = SlirpFeatures.all
        noIPv6.hasIPv6 = false
        #expect(try failure(["enable_ipv6=false", "outbound_addr6=fd00::9"], noIPv6) == "outbound_addr6 not supported")
        #expect(try failure(["enable_ipv6=false", "outbound_addr6=fd00::9"], .all) == "enable_ipv6=true is required for outbound_addr6")
        // Flags the binary lacks are silently left out.
        let options = try SlirpNetworkOptions.parse(["enable_ipv6=false"], interfaceExists: noInterfaces)
        #expect(try SlirpCommandBuilder.basicArguments(options, features: old) == ["--disable-host-loopback", "--mtu=65520"])
        #expect(try SlirpCommandBuilder.basicArguments(options, features: SlirpFeatures()) == [])
    }

    @Test(arguments: [
        ("port_handler=slirp4netns", true, true),
        ("port_handler=slirp4netns", false, false),
        ("port_handler=rootlesskit", true, false),
        ("port_handler=rootlesskit", false, false),
    ])
    func apiSocketOnlyWithSlirpPortHandlerAndPorts(handler: String, ports: Bool, expectSocket: Bool) throws {
        let options = try SlirpNetworkOptions.parse([handler], interfaceExists: noInterfaces)
        let args = try SlirpCommandBuilder.fullArguments(options, features: .all, containerID: "abc", tmpDir: "/tmp/x",
                                                         target: .netnsPath("/run/netns/n"), hasPortMappings: ports)
        #expect(args.contains("--api-socket") == expectSocket)
        if expectSocket {
            #expect(args[args.firstIndex(of: "--api-socket")! + 1] == "/tmp/x/abc.net")
        }
    }

    @Test func pidAndPathTargets() throws {
        let options = try SlirpNetworkOptions.parse(["enable_ipv6=false"], interfaceExists: noInterfaces)
        let byPID = try SlirpCommandBuilder.fullArguments(options, features: .all, containerID: "c", tmpDir: "/t",
                                                          target: .pid(12345), hasPortMappings: false)
        #expect(Array(byPID.suffix(7)) == ["-c", "-e", "3", "-r", "4", "12345", "tap0"])
        #expect(!byPID.contains("--netns-type=path"))
        let decoded = SlirpCommandLine.decode(byPID, includesProgramName: false)
        #expect(decoded.targetPID == 12345)

        let byPath = try SlirpCommandBuilder.fullArguments(options, features: .all, containerID: "c", tmpDir: "/t",
                                                           target: .netnsPath("/run/netns/x"), hasPortMappings: false)
        #expect(Array(byPath.suffix(3)) == ["--netns-type=path", "/run/netns/x", "tap0"])
        #expect(SlirpCommandLine.decode(byPath, includesProgramName: false).netnsPath == "/run/netns/x")
    }
}
