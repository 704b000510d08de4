import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// The DNS rows are observed: the resolv.conf of a process in the instance's namespace, named,
/// compared with slirp4netns's DNS address of the same family.
@Suite("DNS observed through a process in the namespace", .enabled(if: isRoot, "needs root for ip netns"))
struct NameserverTests {
    /// `show` of a lab instance whose `ip netns exec`'d sleep reads `resolvConf`: that sleep's PID,
    /// the text, the address rows by role and the `observed` object.
    func shown(_ tag: String, resolvConf: String) throws -> (sleeper: Int32, text: String, rows: [String: [String: Any]], observed: [String: Any]?) {
        let lab = try TestLab(tag)
        let (instance, sleeper, etc) = try lab.startWithResolvConf("a", resolvConf: resolvConf)
        defer { try? FileManager.default.removeItem(atPath: etc) }
        let (text, rows, observed) = try show(instance.pid)
        return (sleeper, text, rows, observed)
    }

    /// `show PID`'s text, its address rows by role, and its `observed` object.
    func show(_ pid: Int32) throws -> (text: String, rows: [String: [String: Any]], observed: [String: Any]?) {
        let text = slirpmon(["show", String(pid)])
        #expect(text.status == 0, "\(text.stderr)")
        let json = slirpmon(["show", String(pid), "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        let addresses = try #require(object["addresses"] as? [[String: Any]])
        return (text.stdout, Dictionary(addresses.map { ($0["role"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a }), object["observed"] as? [String: Any])
    }

    @Test("a hand-started slirp4netns with a process in its namespace: show reads that process's resolv.conf, names it, and dns matches")
    func handStartedNamespaceDNSObserved() throws {
        let (sleeper, text, rows, observed) = try shown("dnsok", resolvConf: "search example.org\nnameserver 10.0.2.3\n")
        #expect(rows["dns"]?["status"] as? String == "match", "\(text)")
        #expect(rows["dns"]?["observed"] as? String == "10.0.2.3")
        #expect(rows["dns"]?["note"] as? String == "resolv.conf of PID \(sleeper) (sleep)", "\(text)")
        // No IPv6 nameserver in that resolv.conf: dns6 is not configured, not a mismatch with 10.0.2.3.
        #expect(rows["dns6"]?["status"] as? String == "not-configured", "\(text)")
        #expect(!(rows["dns6"]?["observed"] is String), "no IPv6 server observed")
        #expect(text.contains("not configured  resolv.conf of PID \(sleeper) (sleep) names no IPv6 nameserver"), "\(text)")
        let source = try #require(observed?["nameserver_source"] as? [String: Any], "\(observed ?? [:])")
        #expect(source["pid"] as? Int == Int(sleeper) && source["command"] as? String == "sleep")
    }

    @Test("a host resolver's 127.0.0.53 planted in a namespace's resolv.conf is flagged as unreachable there; its IPv6 server fd00::3 matches")
    func plantedLoopbackNameserverFlagged() throws {
        let (sleeper, text, rows, _) = try shown("dnsbad", resolvConf: "nameserver 127.0.0.53\nnameserver fd00::3\n")
        #expect(rows["dns"]?["status"] as? String == "mismatch", "\(text)")
        #expect(rows["dns"]?["observed"] as? String == "127.0.0.53")
        let note = rows["dns"]?["note"] as? String ?? ""
        #expect(note.hasPrefix("resolv.conf of PID \(sleeper) (sleep): 127.0.0.53 is a loopback address"), "\(note)")
        #expect(rows["dns6"]?["status"] as? String == "match", "\(text)")
    }

    @Test("the monitor reads the selected instance's resolv.conf, and no other's (a pass over /proc per refresh for one instance only)")
    func monitorReadsOnlyTheSelection() throws {
        let lab = try TestLab("dnsmon")
        let (a, sleeperA, etcA) = try lab.startWithResolvConf("a", resolvConf: "nameserver 10.0.2.3\n", ipv6: false)
        defer { try? FileManager.default.removeItem(atPath: etcA) }
        let (b, _, etcB) = try lab.startWithResolvConf("b", resolvConf: "nameserver 10.0.2.3\n", ipv6: false)
        defer { try? FileManager.default.removeItem(atPath: etcB) }
        let selected = try #require(ProcessScanner().process(pid: a.pid)).identity
        let inventory = Inventory(options: Inventory.Options(purpose: .monitor(cache: InventoryCache(), selected: selected)))
        let instances = try inventory.collect()
        let dnsA = try #require(instances.first { $0.pid == a.pid }?.addressChecks.first { $0.role == "dns" })
        let dnsB = try #require(instances.first { $0.pid == b.pid }?.addressChecks.first { $0.role == "dns" })
        #expect(dnsA.status == .match && dnsA.note == "resolv.conf of PID \(sleeperA) (sleep)", "\(dnsA)")
        #expect(dnsB.status == .notObserved && dnsB.note?.contains("selected instance read it") == true, "\(dnsB)")
    }

    @Test("an instance with --enable-ipv6 and MTU 1200: the kernel disabled IPv6 on tap0, said so instead of 'router advertisement pending'")
    func lowMTUDisablesIPv6() throws {
        let lab = try TestLab("mtu6")
        var spec = SlirpLab.Spec(name: "m", ipv6: true, apiSocket: false)
        spec.mtu = 1200
        let instance = try lab.start(spec)
        // The fact itself: tap0 is up (slirp4netns configured it) and the kernel gave it no IPv6 at all, not even link-local.
        let netns = try #require(instance.netnsName)
        func inside(_ args: [String]) -> String { (try? Executables.run("/usr/bin/env", ["ip", "netns", "exec", netns] + args).get())?.stdout ?? "" }
        try #require(eventually(5) { inside(["cat", "/proc/net/route"]).contains("tap0") }, "slirp4netns did not configure tap0")
        #expect(!inside(["cat", "/proc/net/if_inet6"]).contains("tap0"), "the kernel left IPv6 on tap0 at MTU 1200")
        let (text, rows, _) = try show(instance.pid)
        let disabled = "IPv6 disabled by the kernel: MTU 1200 is below IPv6's minimum 1280"
        #expect(rows["guest6"]?["status"] as? String == "mismatch", "\(text)")
        #expect(rows["guest6"]?["note"] as? String == disabled, "\(text)")
        #expect(rows["gateway6"]?["note"] as? String == disabled, "\(text)")
        #expect(!text.contains("router advertisement pending"), "\(text)")
        #expect(rows["mtu"]?["observed"] as? String == "1200")
    }

    @Test("a user who binds a file only root may read over their namespace's resolv.conf learns nothing of it from root's show")
    func rootOnlyFileOverResolvConfIsNotRead() throws {
        let directory = try SafeFiles.makePrivateDirectory(prefix: "slirpmon-dnssecret")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #require(chmod(directory, 0o755) == 0)
        let secret = "\(directory)/secret"
        try SafeFiles.writeNew(Array("nameserver 10.66.66.66\n".utf8), to: secret, mode: 0o600)
        let setpriv = try #require(Executables.find("setpriv"), "setpriv (util-linux) is not installed")
        // nobody, in user, mount and network namespaces of its own: a bind mount needs no read permission.
        guard case .success(let holder) = Executables.spawn(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "--user",
                                                                      "--map-root-user", "--mount", "--net", "sh", "-c",
                                                                      "mount --bind \(secret) /etc/resolv.conf && exec sleep 600"]) else {
            throw LabSetupError("cannot start setpriv")
        }
        defer { kill(holder, SIGKILL); Executables.waitFor(holder) }
        try #require(eventually(5) { (try? Files.readText("/proc/\(holder)/comm")) == "sleep\n" }, "nobody's holder did not bind the file")
        let slirp = try #require(Executables.find("slirp4netns"), "slirp4netns is not installed")
        guard case .success(let pid) = Executables.spawn(slirp, ["--configure", String(holder), "tap0"]) else {
            throw LabSetupError("cannot start slirp4netns")
        }
        defer { kill(pid, SIGTERM); Executables.waitFor(pid) }
        try #require(eventually(5) { (try? Files.readText("/proc/\(holder)/net/route"))?.contains("tap0") == true }, "slirp4netns did not configure tap0")

        let (text, rows, observed) = try show(pid)
        #expect(!text.contains("10.66.66.66") && !"\(rows)\(observed ?? [:])".contains("10.66.66.66"), "root read a file nobody may not: \(text)")
        let note = rows["dns"]?["note"] as? String ?? ""
        #expect(rows["dns"]?["status"] as? String == "not-observed" && note.contains("may not read it"), "\(text)")
    }
}
