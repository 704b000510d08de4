import Foundation
import Glibc
import SlirpCore

/// A host resolver the test controls, and a slirp4netns that forwards to it, without touching
/// the host's network or its /etc/resolv.conf:
///
/// - an "outer" network namespace stands for the host: loopback up, and a veth with
///   198.51.100.53/24 and 2001:db8::53/64 (TEST-NET-2, documentation IPv6);
/// - dnsmasq (Debian's dnsmasq-base) runs there, listening where the test says, answering
///   `probe.test` with 192.0.2.77 / 2001:db8::77 and example.com with 192.0.2.80, and refusing
///   anything else (no upstream: no internet);
/// - slirp4netns runs there too, in a private mount namespace (`unshare -m`) whose
///   /etc/resolv.conf is a bind mount of a file the test wrote: what slirp4netns forwards to;
/// - the "guest" namespace it configures can hold a `sleep` whose own /etc/resolv.conf (a bind
///   mount in its private mount namespace) is what the container would read.
///
/// Everything is named per test and removed, processes stopped by PID, when the lab goes.
public final class ResolverLab {
    public static let resolverIPv4 = "198.51.100.53"
    public static let resolverIPv6 = "2001:db8::53"
    /// An address on the outer namespace's network where nothing answers (no ARP reply).
    public static let silentIPv4 = "198.51.100.54"
    public static let name = "probe.test"
    public static let answer4 = "192.0.2.77"
    public static let answer6 = "2001:db8::77"
    /// What it answers for `DNSCheck.defaultName` (example.com), the name the monitor's `N` asks.
    public static let defaultNameAnswer = "192.0.2.80"

    public let tag: String
    public let outer: String
    public let guest: String
    public let directory: String
    public private(set) var slirpPID: Int32?
    public private(set) var sleeperPID: Int32?
    public private(set) var resolverPID: Int32?
    private var pids: [Int32] = []

    public init(_ name: String) throws {
        guard Executables.find("dnsmasq") != nil else {
            throw LabSetupError("dnsmasq is not installed: run `bash assets/setup.sh` (package dnsmasq-base, assets/requirements.tsv)")
        }
        guard Executables.find("unshare") != nil, Executables.find("ip") != nil else { throw LabSetupError("unshare and ip are needed (util-linux, iproute2)") }
        tag = "smd\(name.prefix(6))\(getpid() % 100000)\(UInt32.random(in: 0..<1000))"
        outer = "\(tag)-o"
        guest = "\(tag)-g"
        directory = "/tmp/\(tag)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for args in [["netns", "add", outer], ["netns", "add", guest],
                     ["-n", outer, "link", "set", "lo", "up"],
                     ["-n", outer, "link", "add", "r0", "type", "veth", "peer", "name", "r1"],
                     ["-n", outer, "link", "set", "r0", "up"], ["-n", outer, "link", "set", "r1", "up"],
                     ["-n", outer, "addr", "add", "\(Self.resolverIPv4)/24", "dev", "r0"],
                     ["-n", outer, "addr", "add", "\(Self.resolverIPv6)/64", "dev", "r0", "nodad"]] {
            let out = sh("ip", args)
            if out.status != 0 { throw LabSetupError("ip \(args.joined(separator: " ")): \(out.stderr)") }
        }
    }

    deinit {
        for pid in pids.reversed() {
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
        sh("ip", ["netns", "del", guest])
        sh("ip", ["netns", "del", outer])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts dnsmasq in the outer namespace on `addresses` (port 53) and waits until it is bound.
    public func startResolver(on addresses: [String]) throws {
        guard let ip = Executables.find("ip") else { throw LabSetupError("ip not installed") }
        let args = ["netns", "exec", outer, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root", "--bind-interfaces",
                    "--listen-address=\(addresses.joined(separator: ","))", "--address=/\(Self.name)/\(Self.answer4)",
                    "--address=/\(Self.name)/\(Self.answer6)", "--address=/\(DNSCheck.defaultName)/\(Self.defaultNameAnswer)", "--pid-file=", "--log-facility=\(directory)/dnsmasq.log", "--log-queries"]
        guard case .success(let pid) = Executables.spawn(ip, args) else { throw LabSetupError("cannot start dnsmasq in \(outer)") }
        pids.append(pid)
        resolverPID = pid
        // Bound: port 53 (0035) in its namespace's UDP tables, once per address family asked.
        let wanted = Set(addresses.map { $0.contains(":") ? "udp6" : "udp" })
        guard eventually(5, {
            wanted.allSatisfy { table in ((try? Files.readText("/proc/\(pid)/net/\(table)")) ?? "").contains(":0035 ") }
        }) else { throw LabSetupError("dnsmasq did not bind port 53 on \(addresses) in \(outer): \((try? Files.readText("\(directory)/dnsmasq.log")) ?? "")") }
    }

    /// Stops the dnsmasq this lab started (the slirp4netns keeps running and forwarding to its address).
    public func stopResolver() {
        guard let pid = resolverPID else { return }
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
        pids.removeAll { $0 == pid }
        resolverPID = nil
    }

    /// The queries dnsmasq logged (`query[A] probe.test from 127.0.0.1`).
    public var resolverQueries: [String] {
        ((try? Files.readText("\(directory)/dnsmasq.log")) ?? "").split(separator: "\n").filter { $0.contains("query[") }.map(String.init)
    }

    /// Starts slirp4netns for the guest namespace in the outer one, with `resolvConf` as its
    /// /etc/resolv.conf, and waits until it configured the tap (and, with IPv6, until the guest
    /// has a global fd00:: address). Returns its PID.
    @discardableResult
    ///
    /// With `hostResolvConf`, slirp4netns runs in the host's mount namespace instead and reads the
    /// host's own /etc/resolv.conf (`resolvConf` is then not used).
    public func startSlirp(resolvConf: String, arguments: [String] = [], ipv6: Bool = false, hostResolvConf: Bool = false) throws -> Int32 {
        guard let ip = Executables.find("ip") else { throw LabSetupError("ip not installed") }
        let file = "\(directory)/slirp-resolv.conf"
        try SafeFiles.writeNew(Array(resolvConf.utf8), to: file, mode: 0o644)
        let log = try FileDescriptor.open("\(directory)/slirp.log", .writeOnly, options: [.create, .closeOnExec], permissions: 0o600)
        defer { log.close() }
        let slirp = (["slirp4netns", "--configure", "--mtu=65520"] + (ipv6 ? ["--enable-ipv6"] : []) + arguments
                     + ["--netns-type=path", "/run/netns/\(guest)", "tap0"]).joined(separator: " ")
        let script = "mount --bind \(file) /etc/resolv.conf && exec \(slirp)"
        // `ip netns exec` itself makes a mount namespace (for /sys) that shares /etc with the host's.
        let command = hostResolvConf ? ["netns", "exec", outer, "sh", "-c", "exec \(slirp)"]
            : ["netns", "exec", outer, "unshare", "-m", "sh", "-c", script]
        guard case .success(let pid) = Executables.spawn(ip, command,
                                                         descriptors: [1: log.rawValue, 2: log.rawValue]) else {
            throw LabSetupError("cannot start slirp4netns in \(outer)")
        }
        pids.append(pid)
        slirpPID = pid
        guard eventually(10, {
            (try? Files.readText("/proc/\(pid)/comm")) == "slirp4netns\n"
                && sh("ip", ["-n", guest, "-4", "route"]).stdout.contains("default")
                && (!ipv6 || sh("ip", ["-n", guest, "-6", "addr", "show", "tap0", "scope", "global"]).stdout.contains("fd00::"))
        }) else { throw LabSetupError("slirp4netns did not configure \(guest): \((try? Files.readText("\(directory)/slirp.log")) ?? "")") }
        return pid
    }

    /// Starts `sleep` in the guest namespace, reading `resolvConf` as its /etc/resolv.conf (what a
    /// container's processes read). Returns its PID.
    @discardableResult
    public func startSleeper(resolvConf: String) throws -> Int32 {
        guard let ip = Executables.find("ip") else { throw LabSetupError("ip not installed") }
        let file = "\(directory)/guest-resolv.conf"
        try SafeFiles.writeNew(Array(resolvConf.utf8), to: file, mode: 0o644)
        guard case .success(let pid) = Executables.spawn(ip, ["netns", "exec", guest, "unshare", "-m", "sh", "-c",
                                                              "mount --bind \(file) /etc/resolv.conf && exec sleep 600"]) else {
            throw LabSetupError("cannot start sleep in \(guest)")
        }
        pids.append(pid)
        sleeperPID = pid
        guard eventually(5, { (try? Files.readText("/proc/\(pid)/comm")) == "sleep\n" }) else { throw LabSetupError("sleep did not start in \(guest)") }
        return pid
    }
}
