import Foundation
import Testing
@testable import SlirpCore

private let containerID = "3f1e2d4c5b6a79880123456789abcdef0123456789abcdef0123456789abcdef"
private let netns = "/run/netns/netns-6c2e4c7a-1b9d-2f3e-8a4b-5c6d7e8f9a0b"

/// slirpmon reads `/proc/PID/cmdline` of every slirp4netns and must understand it the way
/// slirp4netns's getopt_long does, whatever order and spelling Podman (or a human) used.
@Suite("slirp4netns command lines")
struct SlirpCommandLineTests {
    /// The command line Podman 4.3.1 was seen running (ENVIRONMENT.md).
    static let podman431 = ["/usr/bin/slirp4netns", "--disable-host-loopback", "--mtu=65520", "--enable-sandbox", "--enable-seccomp",
                            "--enable-ipv6", "-c", "-e", "3", "-r", "4", "--api-socket", "/run/libpod/\(containerID).net",
                            "--netns-type=path", netns, "tap0"]

    @Test func podman431CommandLineDecodes() {
        let c = SlirpCommandLine.decode(Self.podman431)
        #expect(c.disableHostLoopback)
        #expect(c.mtu == 65520)
        #expect(c.effectiveMTU == 65520)
        #expect(c.enableSandbox)
        #expect(c.enableSeccomp)
        #expect(c.enableIPv6)
        #expect(c.configure)
        #expect(c.exitFD == 3)
        #expect(c.readyFD == 4)
        #expect(c.apiSocket == "/run/libpod/\(containerID).net")
        #expect(c.netnsType == .path)
        #expect(c.target == netns)
        #expect(c.netnsPath == netns)
        #expect(c.targetPID == nil)
        #expect(c.tapName == "tap0")
        #expect(c.cidr == nil)
        #expect(c.effectiveCIDR == "10.0.2.0/24")
        #expect(c.disableDNS == false)
        #expect(c.unrecognized.isEmpty)
        #expect(ContainerID.fromAPISocket(c.apiSocket!) == containerID)
    }

    @Test func newerPodmanOrderIsTheSameConfigurationWithFDsSwapped() {
        var newer = Self.podman431
        let at = newer.firstIndex(of: "-e")!
        newer.replaceSubrange(at..<(at + 4), with: ["-r", "3", "-e", "4"])
        let a = SlirpCommandLine.decode(Self.podman431)
        var b = SlirpCommandLine.decode(newer)
        #expect(b.readyFD == 3)
        #expect(b.exitFD == 4)
        (b.readyFD, b.exitFD) = (4, 3)
        #expect(a == b)
    }

    @Test func oldPodmanPIDFormDecodesToTheSameNetworkSettings() {
        let old = ["/usr/bin/slirp4netns", "--disable-host-loopback", "--mtu=65520", "--enable-sandbox", "--enable-seccomp",
                   "--enable-ipv6", "-c", "-e", "3", "-r", "4", "--api-socket", "/run/libpod/\(containerID).net", "12345", "tap0"]
        var c = SlirpCommandLine.decode(old)
        #expect(c.netnsType == .pid)
        #expect(c.targetPID == 12345)
        #expect(c.netnsPath == "/proc/12345/ns/net")
        #expect(c.tapName == "tap0")
        // Apart from how the namespace is named, it is the same configuration.
        c.netnsType = .path
        c.target = netns
        #expect(c == SlirpCommandLine.decode(Self.podman431))
    }

    @Test func withoutProgramName() {
        let c = SlirpCommandLine.decode(Array(Self.podman431.dropFirst()), includesProgramName: false)
        #expect(c == SlirpCommandLine.decode(Self.podman431))
    }

    // Every option of `slirp4netns --help` (1.2.0) that takes a value, in each spelling.
    static let valued: [(short: String?, long: String, value: String, check: @Sendable (SlirpConfiguration) -> Bool)] = [
        ("e", "exit-fd", "7", { $0.exitFD == 7 }),
        ("r", "ready-fd", "8", { $0.readyFD == 8 }),
        ("m", "mtu", "9000", { $0.mtu == 9000 }),
        ("a", "api-socket", "/tmp/x.sock", { $0.apiSocket == "/tmp/x.sock" }),
        (nil, "cidr", "10.99.128.0/17", { $0.cidr == "10.99.128.0/17" }),
        (nil, "netns-type", "path", { $0.netnsType == .path }),
        (nil, "userns-path", "/proc/9/ns/user", { $0.usernsPath == "/proc/9/ns/user" }),
        (nil, "outbound-addr", "192.168.1.5", { $0.outboundAddr == "192.168.1.5" }),
        (nil, "outbound-addr6", "fd12::5", { $0.outboundAddr6 == "fd12::5" }),
        (nil, "macaddress", "52:54:00:12:34:56", { $0.macAddress == "52:54:00:12:34:56" }),
        (nil, "target-type", "bess", { $0.targetType == "bess" }),
    ]

    @Test func everyValuedOptionInEverySpelling() {
        for option in Self.valued {
            var spellings: [[String]] = [["--\(option.long)=\(option.value)"], ["--\(option.long)", option.value]]
            if let short = option.short { spellings += [["-\(short)", option.value], ["-\(short)\(option.value)"]] }
            for words in spellings {
                let c = SlirpCommandLine.decode(["slirp4netns"] + words + ["4242", "tap1"])
                #expect(option.check(c), "\(words)")
                #expect(c.unrecognized.isEmpty, "\(words)")
                #expect(c.target == "4242", "\(words)")
                #expect(c.tapName == "tap1", "\(words)")
            }
        }
    }

    static let flags: [(short: String?, long: String, check: @Sendable (SlirpConfiguration) -> Bool)] = [
        ("c", "configure", { $0.configure }),
        ("6", "enable-ipv6", { $0.enableIPv6 }),
        (nil, "disable-host-loopback", { $0.disableHostLoopback }),
        (nil, "enable-sandbox", { $0.enableSandbox }),
        (nil, "enable-seccomp", { $0.enableSeccomp }),
        (nil, "disable-dns", { $0.disableDNS }),
    ]

    @Test func everyFlagInEverySpelling() {
        let none = SlirpCommandLine.decode(["slirp4netns", "4242"])
        for flag in Self.flags {
            #expect(!flag.check(none), "\(flag.long) must be off by default")
            var spellings = [["--\(flag.long)"]]
            if let short = flag.short { spellings.append(["-\(short)"]) }
            for words in spellings {
                let c = SlirpCommandLine.decode(["slirp4netns"] + words + ["4242"])
                #expect(flag.check(c), "\(words)")
                #expect(c.unrecognized.isEmpty, "\(words)")
            }
            // A flag takes no value: `--configure=yes` is an error for getopt_long.
            let withValue = SlirpCommandLine.decode(["slirp4netns", "--\(flag.long)=yes", "4242"])
            #expect(!flag.check(withValue))
            #expect(withValue.unrecognized == ["--\(flag.long)=yes"])
        }
    }

    @Test func helpAndVersionAreNotARunningConfiguration() {
        for word in ["-h", "--help", "-v", "--version"] {
            #expect(SlirpCommandLine.decode(["slirp4netns", word]).unrecognized == [word])
        }
    }

    @Test func bundledShortFlagsAndAttachedValues() {
        let c = SlirpCommandLine.decode(["slirp4netns", "-c6", "-e3", "-r4", "-m1500", "-a/tmp/a.sock", "99"])
        #expect(c.configure && c.enableIPv6)
        #expect(c.exitFD == 3 && c.readyFD == 4 && c.mtu == 1500)
        #expect(c.apiSocket == "/tmp/a.sock")
        #expect(c.target == "99")
        #expect(c.unrecognized.isEmpty)

        // A value-taking letter inside a bundle takes the rest of the word, or the next word.
        let d = SlirpCommandLine.decode(["slirp4netns", "-c6e3", "-6m", "9000", "99"])
        #expect(d.configure && d.enableIPv6 && d.exitFD == 3 && d.mtu == 9000 && d.target == "99")
        #expect(d.unrecognized.isEmpty)
    }

    @Test func uniqueLongPrefixesAreAccepted() {
        let c = SlirpCommandLine.decode(["slirp4netns", "--api=/tmp/p.sock", "--conf", "--cid", "10.1.0.0/16", "--mac=aa:bb:cc:dd:ee:ff",
                                         "--disable-d", "--outbound-addr6=fd00::9", "--outbound-addr=1.2.3.4", "77"])
        #expect(c.apiSocket == "/tmp/p.sock")
        #expect(c.configure)
        #expect(c.cidr == "10.1.0.0/16")
        #expect(c.macAddress == "aa:bb:cc:dd:ee:ff")
        #expect(c.disableDNS)
        // `--outbound-addr` is exact even though it also prefixes `--outbound-addr6`.
        #expect(c.outboundAddr == "1.2.3.4")
        #expect(c.outboundAddr6 == "fd00::9")
        #expect(c.unrecognized.isEmpty)
    }

    @Test func ambiguousPrefixesAreUnrecognized() {
        let c = SlirpCommandLine.decode(["slirp4netns", "--enable", "--dis", "--outbound=1.2.3.4", "--", "5"])
        #expect(c.unrecognized == ["--enable", "--dis", "--outbound=1.2.3.4"])
        #expect(!c.enableIPv6 && !c.enableSandbox && !c.enableSeccomp && !c.disableDNS && !c.disableHostLoopback)
        #expect(c.outboundAddr == nil)
        #expect(c.target == "5")
    }

    @Test func doubleDashEndsOptions() {
        let c = SlirpCommandLine.decode(["slirp4netns", "-c", "--", "--mtu=1500", "tap9"])
        #expect(c.configure)
        #expect(c.mtu == nil)
        #expect(c.target == "--mtu=1500")
        #expect(c.tapName == "tap9")
    }

    @Test func optionsAndPositionalsMayInterleave() {
        let c = SlirpCommandLine.decode(["slirp4netns", "4242", "--configure", "tap3", "--mtu", "1400"])
        #expect(c.target == "4242" && c.tapName == "tap3" && c.configure && c.mtu == 1400)
        #expect(c.effectiveTapName == "tap3")
        #expect(SlirpCommandLine.decode(["slirp4netns", "4242"]).effectiveTapName == "tap0")
    }

    @Test func unknownOptionsAndExtraWordsAreKept() {
        let c = SlirpCommandLine.decode(["slirp4netns", "--frobnicate", "-x", "-cz", "--mtu=abc", "--netns-type=file", "1", "tap0", "extra"])
        #expect(c.unrecognized == ["--frobnicate", "-x", "-z", "--mtu=abc", "--netns-type=file", "extra"])
        #expect(c.configure)
        #expect(c.mtu == nil)
        #expect(c.netnsType == .pid)
        #expect(c.target == "1")
    }

    @Test func missingValuesAtTheEnd() {
        #expect(SlirpCommandLine.decode(["slirp4netns", "1", "--mtu"]).unrecognized == ["--mtu"])
        #expect(SlirpCommandLine.decode(["slirp4netns", "1", "-m"]).unrecognized == ["-m"])
        #expect(SlirpCommandLine.decode(["slirp4netns", "1", "--api-socket"]).apiSocket == nil)
        // getopt takes the next word as the value even when it looks like an option.
        let c = SlirpCommandLine.decode(["slirp4netns", "--api-socket", "-c", "1"])
        #expect(c.apiSocket == "-c")
        #expect(c.configure == false)
        #expect(c.target == "1")
    }

    @Test func valuesSlirp4netnsRefusesAtParseTime() {
        for words in [["--mtu=0"], ["--mtu=65522"], ["-m", "70000"], ["-e", "-5"], ["-r-1"], ["--exit-fd=x"]] {
            let c = SlirpCommandLine.decode(["slirp4netns"] + words + ["1"])
            #expect(c.mtu == nil && c.exitFD == nil && c.readyFD == nil, "\(words)")
            #expect(c.unrecognized.count == 1, "\(words)")
        }
        let edge = SlirpCommandLine.decode(["slirp4netns", "--mtu=65521", "-m1", "-e0", "-r", "010", "1"])
        #expect(edge.mtu == 1 && edge.exitFD == 0 && edge.readyFD == 10 && edge.unrecognized.isEmpty)
    }

    /// The real slirp4netns is the oracle: with `--help` last, it parses every option before it
    /// (exiting 1 on the first it refuses) and exits 0 at `--help` when all were fine.
    @Test(arguments: [
        ["-c6"], ["-ce3"], ["-e3", "-r", "4"], ["-m1500"], ["-6", "--mtu", "9000"], ["--api=/tmp/x.sock"], ["-a/tmp/x.sock"],
        ["--cid", "10.1.0.0/16"], ["--conf"], ["--mac=aa:bb:cc:dd:ee:ff"], ["--disable-d"], ["--disable-h"],
        ["--outbound-addr=1.2.3.4"], ["--outbound-addr6=fd00::1"], ["--netns-type=path"], ["--netns-type", "pid"],
        ["--userns-path=/proc/self/ns/user"], ["--target-type=netns"], ["--enable-sandbox", "--enable-seccomp", "--disable-host-loopback"],
        ["1", "tap0", "-c"], ["--exit-fd", "3", "--ready-fd=4"], ["-c", "-e", "3", "-r", "4", "--api-socket", "/x.net", "--netns-type=path"],
        ["--enable"], ["--dis"], ["--outbound=1.2.3.4"], ["--conf=yes"], ["--enable-ipv6=true"], ["-x"], ["-cz"], ["--frobnicate"],
        ["--mtu=abc"], ["--mtu=0"], ["-m65522"], ["-e", "x"], ["-r", "-1"], ["--mtu"], ["-e"], ["--e"], ["--mtu="],
    ])
    func agreesWithTheRealGetoptLong(words: [String]) throws {
        let binary = try #require(Executables.find("slirp4netns"), "slirp4netns must be installed")
        let output = try Executables.run(binary, words + ["--help"], timeout: 5).get()
        let decoded = SlirpCommandLine.decode(["slirp4netns"] + words + ["--help"])
        let refused = decoded.unrecognized.filter { $0 != "--help" }
        #expect((output.status == 0) == refused.isEmpty,
                "slirp4netns exited \(output.status) (\(output.stderr.split(separator: "\n").first ?? "")); slirpmon refused \(refused)")
    }

    @Test func loneDashIsAPositional() {
        #expect(SlirpCommandLine.decode(["slirp4netns", "-"]).target == "-")
    }

    @Test func emptyCommandLine() {
        let c = SlirpCommandLine.decode([])
        #expect(c == SlirpConfiguration())
        #expect(c.netnsPath == nil)
        #expect(c.targetPID == nil)
    }
}

@Suite("Container IDs in file names")
struct ContainerIDTests {
    @Test func fromAPISocketPaths() {
        #expect(ContainerID.fromAPISocket("/run/libpod/\(containerID).net") == containerID)
        #expect(ContainerID.fromAPISocket("/run/user/1000/libpod/tmp/\(containerID).net") == containerID)
        #expect(ContainerID.fromAPISocket("\(containerID).net") == containerID)
    }

    @Test func fromLogPaths() {
        #expect(ContainerID.fromLogPath("/run/libpod/slirp4netns-\(containerID).log (deleted)") == containerID)
        #expect(ContainerID.fromLogPath("/run/libpod/slirp4netns-\(containerID).log") == containerID)
    }

    @Test(arguments: [
        "/tmp/t1.sock", "/tmp/t1.net", "/run/libpod/\(containerID).sock", "/run/libpod/\(containerID.uppercased()).net",
        "/run/libpod/\(containerID.dropLast()).net", "/run/libpod/\(containerID)0.net", "/run/libpod/\(containerID.dropLast())g.net",
        "/run/libpod/.net", "", "/run/libpod/\(containerID).net/",
    ])
    func nonIDSocketNamesAreRejected(path: String) {
        #expect(ContainerID.fromAPISocket(path) == nil)
    }

    @Test(arguments: [
        "/tmp/t1.log", "/tmp/t1.log (deleted)", "/run/libpod/slirp4netns-\(containerID).txt (deleted)",
        "/run/libpod/slirp-\(containerID).log", "/run/libpod/slirp4netns-\(containerID.prefix(12)).log (deleted)",
        "/run/libpod/slirp4netns-\(containerID).log (deleted) (deleted)", "pipe:[12345]", "/dev/null",
    ])
    func nonIDLogNamesAreRejected(path: String) {
        #expect(ContainerID.fromLogPath(path) == nil)
    }

    @Test func namesAreFoundAfterNonASCIIDirectories() {
        #expect(ContainerID.fromLogPath("/tmp/é✓/slirp4netns-\(containerID).log (deleted)") == containerID)
        #expect(ContainerID.fromAPISocket("/run/user/1000/naïve/\(containerID).net") == containerID)
        #expect(ContainerID.fromAPISocket("/run/é/\(containerID.dropLast())é.net") == nil)
    }

    @Test func deletedMarker() {
        #expect(LogPath.stripDeleted("/a/b.log (deleted)") == ("/a/b.log", true))
        #expect(LogPath.stripDeleted("/a/b.log") == ("/a/b.log", false))
    }
}

@Suite("/proc/PID/stat")
struct ProcessStatTests {
    static let slirp = "4242 (slirp4netns) S 1 4242 4242 0 -1 4194560 300 0 0 0 12 34 0 0 20 0 1 0 987654 12345678 789 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n"

    @Test func ordinaryLine() throws {
        let stat = try #require(ProcessStat(Self.slirp))
        #expect(stat.pid == 4242)
        #expect(stat.command == "slirp4netns")
        #expect(stat.state == "S")
        #expect(stat.parentPID == 1)
        #expect(stat.userTicks == 12)
        #expect(stat.systemTicks == 34)
        #expect(stat.startTicks == 987654)
        #expect(stat.residentPages == 789)
        #expect(!stat.isZombie)
    }

    @Test func commandWithSpacesAndParentheses() throws {
        let line = "77 (a) b (c) d) R 5 77 77 0 -1 4194560 0 0 0 0 1 2 0 0 20 0 1 0 555 0 42 0\n"
        let stat = try #require(ProcessStat(line))
        #expect(stat.pid == 77)
        #expect(stat.command == "a) b (c) d")
        #expect(stat.state == "R")
        #expect(stat.parentPID == 5)
        #expect(stat.startTicks == 555)
        #expect(stat.residentPages == 42)
    }

    @Test func zombieLine() throws {
        // A failed Podman start can leave `[slirp4netns] <defunct>` behind.
        let line = "4300 (slirp4netns) Z 4200 4200 4200 0 -1 4227148 0 0 0 0 0 0 0 0 20 0 1 0 990000 0 0 18446744073709551615 0 0 0 0 0 0 0 4096 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        let stat = try #require(ProcessStat(line))
        #expect(stat.isZombie)
        #expect(stat.state == "Z")
        #expect(stat.parentPID == 4200)
        #expect(stat.residentPages == 0)
    }

    @Test func realStatOfThisProcess() throws {
        let text = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        let stat = try #require(ProcessStat(text))
        #expect(stat.pid == ProcessInfo.processInfo.processIdentifier)
        #expect("RS".contains(stat.state))
        #expect(stat.command.isEmpty == false)
        #expect(stat.startTicks > 0)
    }

    @Test(arguments: ["", "garbage", "12 (x) S 1 2 3", "x (slirp4netns) S 1 4242 4242 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 6 7 8",
                      "12 slirp4netns S 1 4242 4242 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 6 7 8",
                      "12 (slirp4netns) S 1 4242 4242 0 -1 0 0 0 0 0 one 2 0 0 20 0 1 0 5 6 7 8"])
    func malformedLinesAreRejected(text: String) {
        #expect(ProcessStat(text) == nil)
    }
}

@Suite("/proc text lines")
struct TextLinesTests {
    static let status = "Name:\tslirp4netns\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\nGid:\t0\n"

    @Test func firstLineStartingWithAPrefix() {
        #expect(Self.status.firstLine(startingWith: "Uid:") == "Uid:\t1000\t1000\t1000\t1000")
        #expect(Self.status.firstLine(startingWith: "Name:") == "Name:\tslirp4netns")
        #expect(Self.status.firstLine(startingWith: "Gid:") == "Gid:\t0", "the last line, after its newline")
        #expect("a\nUid:1".firstLine(startingWith: "Uid:") == "Uid:1", "the last line, without a newline")
        #expect(Self.status.firstLine(startingWith: "id:") == nil, "only at a line's start")
        #expect(Self.status.firstLine(startingWith: "Groups:") == nil)
        #expect("".firstLine(startingWith: "Uid:") == nil)
        #expect(Self.status.firstLine(startingWith: "Uid:") == Self.status.byteLines.first { $0.hasPrefix("Uid:") })
    }
}
