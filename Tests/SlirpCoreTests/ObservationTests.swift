#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import SlirpCore

/// slirpmon compares what Podman computes with what the namespace really has, read from
/// real /proc/net texts of a namespace served by slirp4netns.
@Suite("Observed addresses from /proc/net")
struct ObservedAddressesTests {
    static func observed(_ interface: String = "tap0") -> ObservedAddresses {
        ObservedAddresses.parse(interface: interface, route: ProcFixtures.route, fibTrie: ProcFixtures.fibTrie,
                                ifInet6: ProcFixtures.ifInet6, ipv6Route: ProcFixtures.ipv6Route)
    }

    @Test func defaultNetworkAsSlirp4netnsConfiguresIt() {
        let o = Self.observed()
        #expect(o.interfacePresent)
        #expect(o.ipv4 == ["10.0.2.100/24"])
        #expect(o.ipv4Gateway == "10.0.2.2")
        #expect(o.ipv6 == ["fd00::a0b6:dcff:fe1b:101c/64"]) // SLAAC; the fe80:: address is left out
        #expect(o.ipv6Gateway == "fe80::2")
        #expect(o.nameservers == nil)
        #expect(o.mtu == nil)
    }

    @Test func customCIDRNetwork() {
        let o = ObservedAddresses.parse(interface: "tap0", route: ProcFixtures.cidrRoute, fibTrie: ProcFixtures.cidrFibTrie,
                                        ifInet6: ProcFixtures.cidrIfInet6, ipv6Route: ProcFixtures.cidrIpv6Route)
        #expect(o.ipv4 == ["10.99.128.100/17"])
        #expect(o.ipv4Gateway == "10.99.128.2")
        #expect(o.ipv6 == ["fd00::10f2:eff:fe38:a189/64"])
        #expect(o.ipv6Gateway == "fe80::2")
    }

    @Test func anotherInterfaceSeesNothing() {
        let o = Self.observed("eth0")
        #expect(!o.interfacePresent)
        #expect(o.ipv4.isEmpty && o.ipv6.isEmpty)
        #expect(o.ipv4Gateway == nil && o.ipv6Gateway == nil)
    }

    @Test func loopbackIsNotTheTap() {
        let o = Self.observed("lo")
        #expect(o.ipv4.isEmpty) // 127.0.0.1 is never reported
    }

    @Test func emptyNamespace() {
        let o = ObservedAddresses.parse(interface: "tap0", route: "Iface\tDestination\n", fibTrie: "", ifInet6: "", ipv6Route: "")
        #expect(o == ObservedAddresses(interface: "tap0"))
    }

    @Test func localAddressesOfTheTrie() {
        let local = ObservedAddresses.localAddresses(fibTrie: ProcFixtures.fibTrie)
        #expect(local.contains(IPv4Address(10, 0, 2, 100)))
        #expect(local.contains(IPv4Address(127, 0, 0, 1)))
        #expect(!local.contains(IPv4Address(10, 0, 2, 255)))
        #expect(!local.contains(IPv4Address(10, 0, 2, 2)))
    }

    @Test func resolvConfNameservers() {
        let text = "# generated\nsearch example.com\nnameserver 10.0.2.3\nnameserver\tfd00::3\nnameserver\n"
        #expect(ObservedAddresses.nameservers(inResolvConf: text) == ["10.0.2.3", "fd00::3"])
    }
}

@Suite("Expected against observed")
struct AddressCheckTests {
    static let config = SlirpCommandLine.decode(["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-ipv6",
                                                 "--netns-type=path", "/run/netns/t1", "tap0"])

    private func row(_ rows: [AddressCheck], _ role: String) throws -> AddressCheck {
        try #require(rows.first { $0.role == role }, "no \(role) row")
    }

    @Test func realNamespaceMatches() throws {
        var observed = ObservedAddressesTests.observed()
        observed.mtu = 65520
        let rows = AddressCheck.compare(Self.config, observed: observed)
        #expect(rows.map(\.role) == ["guest", "gateway", "dns", "guest6", "gateway6", "dns6", "mtu"])
        #expect(try row(rows, "guest") == AddressCheck(role: "guest", expected: "10.0.2.100/24", observed: "10.0.2.100/24", status: .match))
        #expect(try row(rows, "gateway").status == .match)
        #expect(try row(rows, "gateway").observed == "10.0.2.2")
        #expect(try row(rows, "guest6").status == .match)
        #expect(try row(rows, "guest6").observed == "fd00::a0b6:dcff:fe1b:101c/64")
        #expect(try row(rows, "mtu").status == .match)
        // DNS is virtual: without a resolv.conf there is nothing to compare.
        #expect(try row(rows, "dns").status == .notObserved)
        #expect(try row(rows, "dns6").status == .notObserved)
        #expect(AddressCheck.compare(Self.config, observed: observed).allSatisfy { $0.status != .mismatch })
    }

    @Test func linkLocalRouterCountsAsTheGateway() throws {
        let gateway6 = try row(AddressCheck.compare(Self.config, observed: ObservedAddressesTests.observed()), "gateway6")
        #expect(gateway6.expected == "fd00::2")
        #expect(gateway6.observed == "fe80::2")
        #expect(gateway6.status == .match)
        #expect(gateway6.note?.contains("link-local") == true)

        var other = ObservedAddressesTests.observed()
        other.ipv6Gateway = "fe80::5"
        #expect(try row(AddressCheck.compare(Self.config, observed: other), "gateway6").status == .mismatch)
        other.ipv6Gateway = "fd00::2"
        let exact = try row(AddressCheck.compare(Self.config, observed: other), "gateway6")
        #expect(exact.status == .match && exact.note == nil)
    }

    @Test func wrongGuestAddressIsAMismatch() throws {
        var observed = ObservedAddressesTests.observed()
        observed.ipv4 = ["10.0.2.99/24"]
        observed.mtu = 1500
        let rows = AddressCheck.compare(Self.config, observed: observed)
        let guest = try row(rows, "guest")
        #expect(guest.status == .mismatch)
        #expect(guest.expected == "10.0.2.100/24")
        #expect(guest.observed == "10.0.2.99/24")
        #expect(try row(rows, "mtu") == AddressCheck(role: "mtu", expected: "65520", observed: "1500", status: .mismatch))

        // Right address, wrong prefix length is also a mismatch.
        observed.ipv4 = ["10.0.2.100/16"]
        #expect(try row(AddressCheck.compare(Self.config, observed: observed), "guest").status == .mismatch)
        // A wrong default route.
        observed.ipv4Gateway = "10.0.2.1"
        #expect(try row(AddressCheck.compare(Self.config, observed: observed), "gateway").status == .mismatch)
        observed.ipv4Gateway = nil
        #expect(try row(AddressCheck.compare(Self.config, observed: observed), "gateway").status == .mismatch)
        // A SLAAC address outside fd00::/64.
        observed.ipv6 = ["fd01::1/64"]
        #expect(try row(AddressCheck.compare(Self.config, observed: observed), "guest6").status == .mismatch)
    }

    @Test func missingTapIsAMismatchWithAReason() throws {
        let observed = ObservedAddressesTests.observed("eth0")
        let guest = try row(AddressCheck.compare(Self.config, observed: observed), "guest")
        #expect(guest.status == .mismatch)
        #expect(guest.note?.contains("no eth0") == true)
    }

    @Test func unreadableNamespaceIsNotObserved() {
        let rows = AddressCheck.compare(Self.config, observed: nil, reason: "cannot enter network namespace: permission denied")
        #expect(rows.map(\.role) == ["guest", "gateway", "dns", "guest6", "gateway6", "dns6", "mtu"])
        #expect(rows.allSatisfy { $0.status == .notObserved })
        #expect(rows.allSatisfy { $0.note == "cannot enter network namespace: permission denied" })
        #expect(rows.first?.expected == "10.0.2.100/24")
    }

    @Test func badCIDRIsNotComputable() throws {
        let config = SlirpCommandLine.decode(["slirp4netns", "--configure", "--cidr=10.0.2.0/26", "1234", "tap0"])
        let rows = AddressCheck.compare(config, observed: ObservedAddressesTests.observed())
        let guest = try row(rows, "guest")
        #expect(guest.status == .notComputable)
        #expect(guest.note == "error calculating expected ip for slirp4netns: calculated ip address 10.0.2.100 is not within given subnet 10.0.2.0/26")
        #expect(try row(rows, "gateway").status == .match) // 10.0.2.2 is still inside /26
        #expect(!rows.contains { $0.role == "guest6" }) // no --enable-ipv6

        let garbage = SlirpCommandLine.decode(["slirp4netns", "--cidr=nonsense", "1234"])
        let all = AddressCheck.compare(garbage, observed: nil)
        #expect(all.filter { $0.role != "mtu" }.allSatisfy { $0.status == .notComputable && $0.note == #"invalid cidr "nonsense""# })
    }

    @Test func disabledDNSIsNeverExpectedToAnswer() throws {
        let config = SlirpCommandLine.decode(["slirp4netns", "--configure", "--disable-dns", "--enable-ipv6", "1234", "tap0"])
        var observed = ObservedAddressesTests.observed()
        observed.nameservers = ["10.0.2.3"]
        let rows = AddressCheck.compare(config, observed: observed)
        for role in ["dns", "dns6"] {
            let dns = try row(rows, role)
            #expect(dns.status == .notObserved)
            #expect(dns.note?.contains("--disable-dns") == true)
        }
    }

    /// The rows for a namespace whose resolv.conf, read from PID 7 (sleep), names `servers`.
    private func compared(_ servers: [String]) -> [AddressCheck] {
        var observed = ObservedAddressesTests.observed()
        observed.nameservers = servers
        observed.nameserverSource = NameserverSource(pid: 7, command: "sleep")
        return AddressCheck.compare(Self.config, observed: observed)
    }

    @Test func nameserversFromResolvConf() throws {
        var rows = compared(["10.0.2.3", "fd00::3"])
        #expect(try row(rows, "dns") == AddressCheck(role: "dns", expected: "10.0.2.3", observed: "10.0.2.3", status: .match,
                                                     note: "resolv.conf of PID 7 (sleep)"))
        #expect(try row(rows, "dns6").status == .match)
        rows = compared(["8.8.8.8"])
        #expect(try row(rows, "dns") == AddressCheck(role: "dns", expected: "10.0.2.3", observed: "8.8.8.8", status: .mismatch,
                                                     note: "resolv.conf of PID 7 (sleep): 8.8.8.8 is not slirp4netns's DNS (10.0.2.3): queries to it leave through slirp4netns to the host's network"))
    }

    @Test("dns6 is compared with IPv6 nameservers only: none is 'not configured', never a mismatch with 10.0.2.3")
    func dnsComparesLikeWithLike() throws {
        let rows = compared(["10.0.2.3", "10.255.255.53"])
        #expect(try row(rows, "dns").note == "resolv.conf of PID 7 (sleep); also names 10.255.255.53")
        #expect(try row(rows, "dns6") == AddressCheck(role: "dns6", expected: "fd00::3", observed: nil, status: .notConfigured,
                                                      note: "resolv.conf of PID 7 (sleep) names no IPv6 nameserver"))
        #expect(try row(compared(["fd00::3"]), "dns").status == .notConfigured)
        let other6 = try row(compared(["fd00::5"]), "dns6")
        #expect(other6.status == .mismatch && other6.note?.contains("in slirp4netns's network fd00::/64 but not its DNS") == true, "\(other6)")
    }

    @Test("a host's 127.0.0.53 copied in, and Podman 4.3's 10.0.2.3 under a custom cidr, are mismatches that say why")
    func wrongNameserversSayWhy() throws {
        var observed = ObservedAddressesTests.observed()
        observed.nameservers = ["127.0.0.53"]
        let loopback = try row(AddressCheck.compare(Self.config, observed: observed), "dns")
        #expect(loopback.status == .mismatch && loopback.note?.hasPrefix("resolv.conf: 127.0.0.53 is a loopback address") == true, "\(loopback)")

        let custom = SlirpCommandLine.decode(["slirp4netns", "--configure", "--cidr=10.9.0.0/24", "1234", "tap0"])
        observed.nameservers = ["10.0.2.3", "10.255.255.53"]
        let podman = try row(AddressCheck.compare(custom, observed: observed), "dns")
        #expect(podman.expected == "10.9.0.3" && podman.observed == "10.0.2.3,10.255.255.53" && podman.status == .mismatch)
        #expect(podman.note?.contains("in 10.9.0.0/24 it answers at 10.9.0.3, and the container cannot reach it at 10.0.2.3") == true, "\(podman)")
        // Inside a wider network 10.0.2.3 is an ordinary address there, not the DNS.
        let wide = SlirpCommandLine.decode(["slirp4netns", "--configure", "--cidr=10.0.0.0/16", "1234", "tap0"])
        let inside = try row(AddressCheck.compare(wide, observed: observed), "dns")
        #expect(inside.note?.contains("10.0.2.3 is in slirp4netns's network 10.0.0.0/16 but not its DNS (10.0.0.3)") == true, "\(inside)")
    }

    @Test("an MTU below 1280 with --enable-ipv6: the kernel disabled IPv6, not 'router advertisement pending'")
    func lowMTUDisablesIPv6() throws {
        let config = SlirpCommandLine.decode(["slirp4netns", "--configure", "--mtu=1200", "--enable-ipv6", "--netns-type=path", "/run/netns/t1", "tap0"])
        var observed = ObservedAddressesTests.observed()
        observed.ipv6 = []
        observed.ipv6Gateway = nil
        observed.mtu = 1200
        let rows = AddressCheck.compare(config, observed: observed)
        let note = "IPv6 disabled by the kernel: MTU 1200 is below IPv6's minimum 1280"
        #expect(try row(rows, "guest6") == AddressCheck(role: "guest6", expected: "fd00::/64 (SLAAC)", observed: nil, status: .mismatch, note: note))
        #expect(try row(rows, "gateway6").note == note)
        // fd00::3 in a resolv.conf is unreachable then.
        observed.nameservers = ["10.0.2.3", "fd00::3"]
        let dns6 = try row(AddressCheck.compare(config, observed: observed), "dns6")
        #expect(dns6.status == .mismatch && dns6.note == "resolv.conf: \(note)", "\(dns6)")
        // At 1280 IPv6 stays on: no address yet is still a router advertisement to wait for.
        observed.mtu = 1280
        #expect(try row(AddressCheck.compare(config, observed: observed), "guest6").note?.contains("router advertisement") == true)
    }

    @Test("IPv6 off read through a process (no MTU seen there) rests on the configured MTU, and says 'configured MTU'")
    func ipv6OffOnConfiguredMTUSaysSo() throws {
        let config = SlirpCommandLine.decode(["slirp4netns", "--configure", "--mtu=1200", "--enable-ipv6", "--netns-type=path", "/run/netns/t1", "tap0"])
        var observed = ObservedAddressesTests.observed()
        (observed.ipv6, observed.ipv6Gateway, observed.mtu) = ([], nil, nil)
        let guest6 = try row(AddressCheck.compare(config, observed: observed), "guest6")
        #expect(guest6.note == "IPv6 disabled by the kernel: configured MTU 1200 is below IPv6's minimum 1280", "\(guest6)")
    }

    @Test("a kernel thread is told by PF_KTHREAD in its stat, a user's process is not (its command line is never read)")
    func kernelThreadFromStatFlags() throws {
        let kthreadd = try #require(ProcessStat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 18446744073709551615"))
        #expect(kthreadd.isKernelThread && kthreadd.flags == 2129984)
        let sleep = try #require(ProcessStat("4242 (sleep) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 900 0 0 18446744073709551615"))
        #expect(!sleep.isKernelThread)
    }

    @Test("the MTU is a row even when it could not be read: read through a process (/proc/PID/net has none), or not read at all")
    func unreadMTUIsSaid() throws {
        let mtu = try row(AddressCheck.compare(Self.config, observed: ObservedAddressesTests.observed()), "mtu")
        #expect(mtu == AddressCheck(role: "mtu", expected: "65520", observed: nil, status: .notObserved,
                                    note: "read through a process in the namespace, whose /proc/PID/net has no MTU"))
        #expect(try row(AddressCheck.compare(Self.config, observed: nil, reason: "not read"), "mtu").note == "not read")
    }

    @Test("a resolv.conf is a user's text: control characters in a nameserver value are escaped, and only three servers count")
    func hostileResolvConf() {
        let text = "nameserver 10.0.2.3\nnameserver fe80::1%\u{1B}[2Jevil\nnameserver fd00::3\nnameserver 10.0.2.4\n"
        let servers = ObservedAddresses.nameservers(inResolvConf: text)
        #expect(servers.count == 3)
        #expect(!servers.joined().contains("\u{1B}"), "\(servers)")
        #expect(servers[0] == "10.0.2.3" && servers[2] == "fd00::3")
    }

    @Test func withoutConfigureAnEmptyTapIsNotAMismatch() throws {
        let config = SlirpCommandLine.decode(["slirp4netns", "1234", "tap0"])
        let rows = AddressCheck.compare(config, observed: ObservedAddresses(interface: "tap0"))
        let guest = try row(rows, "guest")
        #expect(guest.status == .notObserved)
        #expect(guest.note?.contains("--configure") == true)

        // The tap exists (it has its link-local IPv6 address) but nobody configured IPv4:
        // the missing default route is not a mismatch either.
        var bare = ObservedAddresses(interface: "tap0")
        bare.interfacePresent = true
        let gateway = try row(AddressCheck.compare(config, observed: bare), "gateway")
        #expect(gateway.status == .notObserved)
        #expect(gateway.note?.contains("--configure") == true)
        // With --configure the same picture is a mismatch.
        let configured = SlirpCommandLine.decode(["slirp4netns", "-c", "1234", "tap0"])
        #expect(try row(AddressCheck.compare(configured, observed: bare), "gateway").status == .mismatch)
        #expect(try row(AddressCheck.compare(configured, observed: bare), "guest").status == .mismatch)
    }
}

@Suite("Unix sockets and targets")
struct UnixSocketAndTargetTests {
    static let unixTable = """
    Num       RefCount Protocol Flags    Type St Inode Path
    0000000000000000: 00000002 00000000 00010000 0001 01 31337 /run/libpod/abc.net
    0000000000000000: 00000003 00000000 00000000 0001 03 31338 /run/libpod/abc.net
    0000000000000000: 00000003 00000000 00000000 0001 03  1453
    0000000000000000: 00000002 00000000 00010000 0001 01 2222 @/tmp/.X11-unix/X0
    0000000000000000: 00000002 00000000 00010000 0001 01 4444 /tmp/my dir/api.sock
    0000000000000000: 00000002 00000000 00010000 0001 01    22 /run/user/0/libpod/tmp/short.net
    """

    @Test func unixSocketTable() {
        let entries = UnixSocketTable.parse(Self.unixTable)
        #expect(entries == [
            .init(inode: 31337, isListening: true, path: "/run/libpod/abc.net"),
            .init(inode: 31338, isListening: false, path: "/run/libpod/abc.net"),
            .init(inode: 2222, isListening: true, path: "@/tmp/.X11-unix/X0"),
            .init(inode: 4444, isListening: true, path: "/tmp/my dir/api.sock"),
            // The kernel pads the inode to five columns ("%5lu").
            .init(inode: 22, isListening: true, path: "/run/user/0/libpod/tmp/short.net"),
        ])
        #expect(UnixSocketTable.parse("") == [])
        #expect(UnixSocketTable.parse("Num RefCount\nnot a row\n") == [])
    }

    /// A unix stream socket bound to a fresh path (not listening yet); close it and unlink the path.
    func boundSocket() throws -> (fd: Int32, path: String) {
        let path = "/tmp/slirpmon-unit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if bound != 0 { close(fd) }
        try #require(bound == 0)
        return (fd, path)
    }

    @Test func realHostUnixTableParses() throws {
        // One named socket at least (this test's own), so an empty parse cannot pass.
        let (fd, path) = try boundSocket()
        defer { close(fd); unlink(path) }
        let text = try Files.readText("/proc/net/unix")
        let named = text.split(separator: "\n").dropFirst().filter { $0.split(separator: " ").count >= 8 }.count
        let entries = UnixSocketTable.parse(text)
        #expect(named >= 1 && entries.count == named, "\(entries.count) entries of \(named) named rows")
        #expect(entries.allSatisfy { $0.inode > 0 && !$0.path.isEmpty })
        #expect(entries.contains { $0.path == path }, "this test's own socket \(path)")
    }

    @Test func aRealListeningSocketShowsUpAsListening() throws {
        let (fd, path) = try boundSocket()
        defer { close(fd); unlink(path) }
        let before = UnixSocketTable.parse(try Files.readText("/proc/net/unix")).filter { $0.path == path }
        #expect(before.count == 1)
        #expect(before.first?.isListening == false)
        try #require(listen(fd, 4) == 0)
        let after = UnixSocketTable.parse(try Files.readText("/proc/net/unix")).filter { $0.path == path }
        #expect(after.count == 1)
        #expect(after.first?.isListening == true)
        // The inode is the one of the socket fd, as /proc/self/fd/N names it.
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
        #expect(link == "socket:[\(after.first?.inode ?? 0)]")
    }

    static let idA = "abc1230000000000000000000000000000000000000000000000000000000001"
    static let idB = "abd4560000000000000000000000000000000000000000000000000000000002"

    static func process(_ pid: Int32, _ id: String?) -> SlirpProcess {
        SlirpProcess(identity: ProcessIdentity(pid: pid, startTicks: 100), parentPID: 1, state: "S", uid: 0, user: "root",
                     startTime: 0, uptimeSeconds: 1, residentBytes: 0, cpuSeconds: 0, arguments: ["slirp4netns"],
                     configuration: SlirpConfiguration(), configurationSource: .commandLine(readAt: 0), containerID: id, stdoutTarget: nil, stderrTarget: nil,
                     socketInodes: nil, problems: [:])
    }

    static let fleet = [process(4242, idA), process(4343, idB), process(5000, nil)]

    @Test func byPID() throws {
        #expect(try TargetResolver.resolve("4343", among: Self.fleet).pid == 4343)
        #expect(try TargetResolver.resolve(" 5000 ", among: Self.fleet).pid == 5000)
        // A PID that is also the start of a container ID names neither: the forms choose, and never fall back.
        let clash = [Self.process(4242, Self.idA), Self.process(77, "4242" + String(Self.idA.dropFirst(4)))]
        #expect(throws: TargetResolver.Failure.ambiguous(target: "4242", candidates: [
            "pid:4242 (slirp4netns pid 4242 of root, its files claim container abc123000000)",
            "id:424223000000 (slirp4netns pid 77 of root, its files claim container 424223000000, which Podman did not report)"])) {
            try TargetResolver.resolve("4242", among: clash)
        }
        #expect(try TargetResolver.resolve("pid:4242", among: clash).pid == 4242)
        #expect(try TargetResolver.resolve("id:4242", among: clash).pid == 77)
        #expect(try TargetResolver.resolve("424223", among: clash).pid == 77)
        #expect(throws: TargetResolver.Failure.self) { try TargetResolver.resolve("pid:77", among: [Self.process(4242, nil)]) }
        #expect(throws: TargetResolver.Failure.self) { try TargetResolver.resolve("id:5000", among: Self.fleet) }
    }

    @Test func byUniqueContainerIDPrefix() throws {
        #expect(try TargetResolver.resolve("abc", among: Self.fleet).pid == 4242)
        #expect(try TargetResolver.resolve("ABD456", among: Self.fleet).pid == 4343)
        #expect(try TargetResolver.resolve(Self.idA, among: Self.fleet).pid == 4242)
    }

    static func container(_ name: String, id: String, pod: String? = nil, infra: Bool = false, network: String = "slirp4netns") -> PodmanContainer {
        PodmanContainer(id: id, name: name, image: "bb", state: "running", pid: 1, podID: pod, podName: pod.map { "p-\($0)" }, isInfra: infra,
                        ports: [], createCommand: [], networkMode: network, ownerUID: 0, ownerName: "root")
    }

    @Test("a container, a pod or a pod member by name: the slirp4netns its network comes from")
    func byNameThroughPods() throws {
        let infra = Self.container("p-1-infra", id: Self.idA, pod: "1", infra: true)
        let joined = Self.container("web", id: "f1" + String(repeating: "0", count: 62), pod: "1", network: "container:\(Self.idA)")
        // A member inspected without `container:<infra>` still reaches the pod's slirp4netns.
        let member = Self.container("db", id: "f2" + String(repeating: "0", count: 62), pod: "1", network: "bridge")
        let alone = Self.container("solo", id: Self.idB)
        let stopped = Self.container("gone", id: "f3" + String(repeating: "0", count: 62))
        let containers = [infra, joined, member, alone, stopped]
        // These processes are not real: every claim is taken as proven here (TrustTests proves it for real).
        let proven: (SlirpProcess, PodmanContainer) -> Bool = { _, _ in true }
        #expect(try TargetResolver.resolve("p-1", among: Self.fleet, containers: containers, serves: proven).pid == 4242)
        #expect(try TargetResolver.resolve("web", among: Self.fleet, containers: containers, serves: proven).pid == 4242)
        #expect(try TargetResolver.resolve("db", among: Self.fleet, containers: containers, serves: proven).pid == 4242)
        #expect(try TargetResolver.resolve("solo", among: Self.fleet, containers: containers, serves: proven).pid == 4343)
        #expect(throws: TargetResolver.Failure.notRunning(target: "gone", state: "running", doctor: "gone")) {
            try TargetResolver.resolve("gone", among: Self.fleet, containers: containers, serves: proven)
        }
    }

    @Test("a container with no slirp4netns is sent to the doctor by a TARGET the doctor takes: its ID form when its name also starts another ID")
    func notRunningSuggestsATargetTheDoctorTakes() {
        let stopped = Self.container("f3", id: "f3" + String(repeating: "0", count: 62))
        let other = Self.container("other", id: "f3" + String(repeating: "1", count: 62))
        let proven: (SlirpProcess, PodmanContainer) -> Bool = { _, _ in true }
        #expect(throws: TargetResolver.Failure.notRunning(target: "f3", state: "running", doctor: "id:f30000000000")) {
            try TargetResolver.resolve("name:f3", among: Self.fleet, containers: [stopped, other], serves: proven)
        }
        #expect(throws: TargetResolver.Failure.notRunning(target: "f3", state: "running", doctor: "f3")) {
            try TargetResolver.resolve("name:f3", among: Self.fleet, containers: [stopped], serves: proven)
        }
    }

    @Test("another user's container claiming root's pod or network is neither a member of root's pod nor a way to its slirp4netns")
    func podClaimsOfAnotherUser() throws {
        let infra = Self.container("p-1-infra", id: Self.idA, pod: "1", infra: true)
        let member = Self.container("db", id: "f2" + String(repeating: "0", count: 62), pod: "1")
        var claimer = Self.container("evil", id: "f4" + String(repeating: "0", count: 62), pod: "1")
        claimer.ownerUID = 1001
        var sharer = Self.container("evil2", id: "f5" + String(repeating: "0", count: 62), network: "container:\(Self.idA)")
        sharer.ownerUID = 1001
        let containers = [infra, member, claimer, sharer]
        #expect(Inventory.members(of: infra, in: containers).map(\.name) == ["db"])
        let proven: (SlirpProcess, PodmanContainer) -> Bool = { _, _ in true }
        #expect(try TargetResolver.resolve("db", among: Self.fleet, containers: containers, serves: proven).pid == 4242)
        for name in ["evil", "evil2"] {
            #expect(throws: TargetResolver.Failure.self, "\(name) must not reach root's slirp4netns") {
                try TargetResolver.resolve(name, among: Self.fleet, containers: containers, serves: proven)
            }
        }
    }

    @Test("a process that only claims a container's ID is not taken for it, by name or by ID prefix")
    func claimedIDIsNotEnough() throws {
        // 4141 names its socket after the container 4242 serves (another user's program, say).
        let fleet = [Self.process(4141, Self.idA), Self.process(4242, Self.idA)]
        let containers = [Self.container("web", id: Self.idA)]
        let proven: (SlirpProcess, PodmanContainer) -> Bool = { process, _ in process.pid == 4242 }
        #expect(try TargetResolver.resolve("web", among: fleet, containers: containers, serves: proven).pid == 4242)
        #expect(try TargetResolver.resolve("abc123", among: fleet, containers: containers, serves: proven).pid == 4242)
        #expect(throws: TargetResolver.Failure.notRunning(target: "web", state: "running", doctor: "web")) {
            try TargetResolver.resolve("web", among: [Self.process(4141, Self.idA)], containers: containers, serves: proven)
        }
        // Without Podman's containers a claim is all there is: two claims are ambiguous, never a guess.
        #expect(throws: TargetResolver.Failure.self) { try TargetResolver.resolve("abc123", among: fleet) }
    }

    @Test("a name two owners use names neither: a user's container named like root's does not take root's target")
    func nameOfTwoOwnersIsAmbiguous() throws {
        var usersWeb = Self.container("web", id: Self.idB)
        usersWeb.ownerUID = 1002
        usersWeb.ownerName = "mallory"
        let containers = [Self.container("web", id: Self.idA), usersWeb]
        #expect(throws: TargetResolver.Failure.ambiguous(target: "web", candidates: [
            "id:abc123000000 (container web (abc123000000) of root, slirp4netns pid 4242)",
            "id:abd456000000 (container web (abd456000000) of mallory, slirp4netns pid 4343)"])) {
            try TargetResolver.resolve("web", among: Self.fleet, containers: containers, serves: { _, _ in true })
        }
        // The ID still names each.
        #expect(try TargetResolver.resolve("abd4", among: Self.fleet, containers: containers, serves: { _, _ in true }).pid == 4343)
    }

    @Test("a user's container named like the start of root's container ID does not take root's target, by name or by ID")
    func nameLikeAnotherOwnersIDIsAmbiguous() throws {
        var usersHex = Self.container("abc123", id: Self.idB)
        usersHex.ownerUID = 1002
        usersHex.ownerName = "mallory"
        let containers = [Self.container("web", id: Self.idA), usersHex]
        #expect(throws: TargetResolver.Failure.ambiguous(target: "abc123", candidates: [
            "name:abc123 (container abc123 (abd456000000) of mallory, slirp4netns pid 4343)",
            "id:abc123000000 (container web (abc123000000) of root, slirp4netns pid 4242)"])) {
            try TargetResolver.resolve("abc123", among: Self.fleet, containers: containers, serves: { _, _ in true })
        }
        #expect(throws: TargetResolver.Failure.self) { try TargetResolver.container("abc123", among: containers) }
    }

    @Test("doctor CONTAINER: a name two owners use, or an ID prefix of two containers, names neither; one owner's name or a unique prefix names it")
    func containerOfOneOwner() throws {
        var usersWeb = Self.container("web", id: Self.idB)
        usersWeb.ownerUID = 1002
        usersWeb.ownerName = "mallory"
        let rootsWeb = Self.container("web", id: Self.idA)
        let containers = [rootsWeb, usersWeb, Self.container("db", id: "f1" + String(repeating: "0", count: 62))]
        #expect(throws: TargetResolver.Failure.ambiguous(target: "web", candidates: [
            "id:abc123000000 (container web (abc123000000) of root, state running)",
            "id:abd456000000 (container web (abd456000000) of mallory, state running)"])) {
            try TargetResolver.container("web", among: containers)
        }
        #expect(throws: TargetResolver.Failure.self) { try TargetResolver.container("ab", among: containers) }
        #expect(try TargetResolver.container("abd4", among: containers)?.ownerName == "mallory")
        #expect(try TargetResolver.container("ABC1", among: containers)?.ownerUID == 0)
        #expect(try TargetResolver.container("db", among: containers)?.name == "db")
        #expect(try TargetResolver.container("web", among: [usersWeb])?.ownerName == "mallory")
        #expect(try TargetResolver.container("nope", among: containers) == nil)
        // Two of one owner's containers under one prefix: ambiguous as well (Podman would refuse it too).
        let twins = [rootsWeb, Self.container("web2", id: "abc9" + String(repeating: "0", count: 60))]
        #expect(throws: TargetResolver.Failure.self) { try TargetResolver.container("abc", among: twins) }
    }

    @Test("pid:, name:, id: and pod: name one kind each and never fall back; one instance reached two ways is one answer; malformed forms are refused in words")
    func explicitForms() throws {
        let infra = Self.container("p-1-infra", id: Self.idA, pod: "1", infra: true)
        // A container named with the digits of its own slirp4netns's PID: the same instance either way.
        let named = Self.container("4343", id: Self.idB)
        let containers = [infra, named]
        let proven: (SlirpProcess, PodmanContainer) -> Bool = { process, container in process.containerID == container.id }
        func resolve(_ target: String) throws(TargetResolver.Failure) -> Int32 {
            try TargetResolver.resolve(target, among: Self.fleet, containers: containers, serves: proven).pid
        }
        #expect(try resolve("4343") == 4343)
        #expect(try resolve("p-1") == 4242 && resolve("pod:p-1") == 4242 && resolve("pod:1") == 4242 && resolve("name:p-1-infra") == 4242)
        #expect(try resolve("name:4343") == 4343 && resolve("pid:5000") == 5000 && resolve("id:ABD") == 4343)
        for target in ["name:p-1", "pod:p-1-infra", "pid:4", "name:abd", "id:4343", "pod:4343"] {
            #expect(throws: TargetResolver.Failure.self, "\(target) falls back to another kind") { try resolve(target) }
        }
        for (typed, words) in [("pid:", "nothing after pid:"), ("pid:+5", "a PID is a number"), ("pid:99999999999", "a PID is a number"),
                               (" name: ", "nothing after name:"), ("id:g1", "hexadecimal"), ("x:1", "unknown form \"x:\""), ("pod:", "nothing after pod:")] {
            do {
                _ = try TargetResolver.Target(parsing: typed)
                Issue.record("\(typed) was accepted")
            } catch {
                guard case .invalidForm = error else { Issue.record("\(typed): \(error)"); continue }
                #expect(error.description.contains(words), "\(typed): \(error)")
            }
        }
        // doctor CONTAINER: containers only.
        #expect(try TargetResolver.container("name:4343", among: containers)?.id == Self.idB)
        #expect(try TargetResolver.container("id:abd", among: containers)?.name == "4343")
        #expect(try TargetResolver.container("name:abd", among: containers) == nil)
        for target in ["pid:4343", "pod:p-1"] {
            #expect(throws: TargetResolver.Failure.invalidForm(target: target, reason: "the doctor examines a container: give its name or ID (name:NAME, id:PREFIX), not \(target.prefix(3)):")) {
                try TargetResolver.container(target, among: containers)
            }
        }
    }

    @Test func ambiguousPrefixListsCandidates() {
        #expect(throws: TargetResolver.Failure.ambiguous(target: "ab", candidates: [
            "id:abc123000000 (slirp4netns pid 4242 of root, its files claim container abc123000000, which Podman did not report)",
            "id:abd456000000 (slirp4netns pid 4343 of root, its files claim container abd456000000, which Podman did not report)"])) {
            try TargetResolver.resolve("ab", among: Self.fleet)
        }
        let text = TargetResolver.Failure.ambiguous(target: "ab", candidates: ["abc123000000 (pid 4242)", "abd456000000 (pid 4343)"]).description
        #expect(text.contains("abc123000000 (pid 4242)") && text.contains("abd456000000 (pid 4343)"))
    }

    @Test func unknownTargetListsWhatRuns() {
        let known = ["abc123000000 (pid 4242)", "abd456000000 (pid 4343)", "pid 5000"]
        #expect(throws: TargetResolver.Failure.notFound(target: "zzz", known: known)) {
            try TargetResolver.resolve("zzz", among: Self.fleet)
        }
        #expect(throws: TargetResolver.Failure.notFound(target: "999", known: known)) {
            try TargetResolver.resolve("999", among: Self.fleet)
        }
        #expect(throws: TargetResolver.Failure.notFound(target: "", known: known)) {
            try TargetResolver.resolve("", among: Self.fleet)
        }
        let description = TargetResolver.Failure.notFound(target: "zzz", known: known).description
        #expect(description.contains("running: abc123000000 (pid 4242), abd456000000 (pid 4343), pid 5000"))
        #expect(TargetResolver.Failure.notFound(target: "x", known: []).description.contains("none is running"))
    }
}

@Suite("Which process's resolv.conf stands for a namespace")
struct NameserverSourceRankingTests {
    @Test("a container's process before one in another mount namespace before the host's view; kernel threads and the defunct never")
    func ranking() throws {
        let proc = try SafeFiles.makePrivateDirectory(prefix: "slirpmon-fakeproc")
        defer { try? FileManager.default.removeItem(atPath: proc) }
        let containerRoot = try SafeFiles.makePrivateDirectory(prefix: "slirpmon-fakeroot")
        defer { try? FileManager.default.removeItem(atPath: containerRoot) }
        let fm = FileManager.default
        // PID: (root, mount namespace, PF_* flags in stat); self is slirpmon: the host's root and mounts.
        let kernelThread = 0x20_8040, userProcess = 0x40_0100
        let table: [(String, String?, String, Int)] = [
            ("self", "/", "/proc/self/ns/mnt", userProcess),
            ("27", containerRoot, "/proc/self/ns/mnt", kernelThread),    // kdevtmpfs: a root of its own, PF_KTHREAD
            ("30", nil, "/proc/self/ns/mnt", userProcess),              // defunct: no root to look at
            ("40", "/", "/proc/self/ns/mnt", userProcess),              // rootlessport-child: the host's view
            ("50", "/", "/proc/self/ns/net", userProcess),              // sleep in another mount namespace (stands in: any other nsfs file)
            ("60", containerRoot, "/proc/self/ns/mnt", userProcess),    // catatonit: a container's root
        ]
        for (pid, root, mounts, flags) in table {
            try fm.createDirectory(atPath: "\(proc)/\(pid)/ns", withIntermediateDirectories: true)
            if let root { try fm.createSymbolicLink(atPath: "\(proc)/\(pid)/root", withDestinationPath: root) }
            try fm.createSymbolicLink(atPath: "\(proc)/\(pid)/ns/mnt", withDestinationPath: mounts)
            try SafeFiles.writeNew(Array("\(pid == "self" ? "1" : pid) (x) S 1 1 1 0 -1 \(flags) 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 18446744073709551615\n".utf8), to: "\(proc)/\(pid)/stat")
        }
        #expect(NamespaceReader.rankedForResolvConf([27, 30, 40, 50, 60], procRoot: proc) == [60, 50, 40])
    }
}
