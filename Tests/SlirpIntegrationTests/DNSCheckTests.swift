import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// `slirpmon dns TARGET`: slirp4netns's DNS address asked from inside the namespace, against a
/// real dnsmasq the test starts (no internet), with slirp4netns 1.2's real handling of each kind
/// of host resolver (`ResolverLab`: its /etc/resolv.conf is a file the test wrote).
@Suite("DNS through slirp4netns: asked from inside, explained", .enabled(if: isRoot, "needs root for namespaces"))
struct DNSCheckTests {
    /// `slirpmon dns PID ARGS --json` parsed, with its exit status and text form.
    func dns(_ pid: Int32, _ args: [String] = []) throws -> (status: Int32, text: String, json: [String: Any]) {
        let text = slirpmon(["dns", String(pid), "--name", ResolverLab.name] + args)
        let json = slirpmon(["dns", String(pid), "--name", ResolverLab.name, "--json"] + args)
        #expect(json.status == text.status, "text and JSON agree on the exit status: \(text.stderr) \(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any],
                                  "dns --json printed no JSON: \(json.stdout) \(json.stderr)")
        // Exit 1 (DNS does not work) prints the report too: it matches the schema either way.
        let problems = try SchemaValidator().problems(json.stdout, as: "dns")
        #expect(problems.isEmpty, "dns --json is not a valid $defs/dns:\n\(problems.joined(separator: "\n"))")
        return (text.status, text.stdout, object)
    }

    func probe(_ json: [String: Any], _ server: String) -> [String: Any]? {
        (json["probes"] as? [[String: Any]])?.first { $0["server"] as? String == server }
    }

    func verdict(_ json: [String: Any]) -> (status: String, summary: String, fix: String, notes: [String]) {
        let v = json["verdict"] as? [String: Any] ?? [:]
        return (v["status"] as? String ?? "", v["summary"] as? String ?? "", v["fix"] as? String ?? "", v["notes"] as? [String] ?? [])
    }

    @Test("a working host resolver: dns gives the answer dnsmasq gave through 10.0.2.3 and its time; the namespace's resolv.conf names 10.0.2.3")
    func workingResolverAnswersWithTime() throws {
        let lab = try ResolverLab("ok")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "search example.org\nnameserver \(ResolverLab.resolverIPv4)\n")
        let sleeper = try lab.startSleeper(resolvConf: "nameserver 10.0.2.3\n")
        let (status, text, json) = try dns(slirp)
        #expect(status == 0, "\(text)")
        let v4 = try #require(probe(json, "10.0.2.3"), "\(json)")
        #expect(v4["outcome"] as? String == "answered" && v4["code"] as? String == "NOERROR", "\(v4)")
        #expect(v4["addresses"] as? [String] == [ResolverLab.answer4], "\(v4)")
        let ms = try #require(v4["milliseconds"] as? Double)
        #expect(ms > 0 && ms < 1000, "a local resolver answers in well under a second: \(ms) ms")
        #expect(verdict(json).status == "ok", "\(verdict(json))")
        #expect(verdict(json).summary.contains("forwards to \(ResolverLab.resolverIPv4), the first IPv4 nameserver"), "\(verdict(json).summary)")
        let host = try #require(json["host_resolver"] as? [String: Any])
        #expect(host["ipv4"] as? String == ResolverLab.resolverIPv4 && host["path"] as? String == "/proc/\(slirp)/root/etc/resolv.conf", "\(host)")
        let row = (json["resolv_conf"] as? [[String: Any]])?.first { $0["role"] as? String == "dns" }
        #expect(row?["status"] as? String == "match" && row?["note"] as? String == "resolv.conf of PID \(sleeper) (sleep)", "\(row ?? [:])")
        // The query really went through slirp4netns to dnsmasq, from the outer namespace's side.
        #expect(lab.resolverQueries.contains { $0.contains("query[A] \(ResolverLab.name) from \(ResolverLab.resolverIPv4)") }, "\(lab.resolverQueries)")
        #expect(text.contains("10.0.2.3  A    \(ResolverLab.name)  NOERROR in ") && text.contains(": \(ResolverLab.answer4)"), "\(text)")
        #expect(text.contains("verdict: OK: DNS works"), "\(text)")
    }

    @Test("a dead host resolver (nothing listens at the first nameserver): refused through slirp4netns, and the verdict names the address and the fix")
    func deadResolverNamed() throws {
        let lab = try ResolverLab("dead")
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n")
        let (status, text, json) = try dns(slirp)
        #expect(status == 1, "DNS does not work: exit 1\n\(text)")
        #expect(probe(json, "10.0.2.3")?["outcome"] as? String == "refused", "\(json)")
        let v = verdict(json)
        #expect(v.status == "failure")
        #expect(v.summary.contains("forwards to \(ResolverLab.resolverIPv4)") && v.summary.contains("nothing listens on its port 53"), "\(v.summary)")
        #expect(v.fix.contains("start the resolver at \(ResolverLab.resolverIPv4)") && v.fix.contains("re-reads it within a second"), "\(v.fix)")
        #expect(text.contains("verdict: FAILURE: 10.0.2.3 refused"), "\(text)")
    }

    @Test("a loopback host resolver that is not running (127.0.0.53 with nothing there): no refusal comes back, the verdict says it is not running; the fix, rewriting the host's resolv.conf, needs no restart")
    func deadLoopbackThenRewrittenResolvConfWithoutRestart() throws {
        let lab = try ResolverLab("reread")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver 127.0.0.53\n")
        let before = try dns(slirp, ["--timeout", "1"])
        // slirp4netns 1.2 relays no ICMP port unreachable from the host's loopback: a timeout, not a refusal.
        #expect(before.status == 1 && probe(before.json, "10.0.2.3")?["outcome"] as? String == "timeout", "\(before.text)")
        let v = verdict(before.json)
        #expect(v.summary.contains("a loopback resolver that is not running looks like this") && v.fix.hasPrefix("start the resolver at 127.0.0.53"), "\(v)")
        // In place (the same inode, which the bind mount shows), as an editor that truncates does.
        let fd = try FileDescriptor.open("\(lab.directory)/slirp-resolv.conf", .writeOnly, options: [.truncate, .closeOnExec])
        try fd.writeAll(Array("nameserver \(ResolverLab.resolverIPv4)\n".utf8))
        fd.close()
        usleep(1_100_000) // libslirp looks at the file's mtime at most once a second
        let after = try dns(slirp)
        #expect(after.status == 0 && probe(after.json, "10.0.2.3")?["addresses"] as? [String] == [ResolverLab.answer4], "\(after.text)")
        #expect((try? Files.readText("/proc/\(slirp)/comm")) == "slirp4netns\n", "the same slirp4netns, not restarted")
    }

    @Test("slirp4netns 1.2 asks only the first nameserver: a silent first one is the verdict, the working one after it is named as never asked")
    func onlyTheFirstNameserverIsAsked() throws {
        let lab = try ResolverLab("first")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.silentIPv4)\nnameserver \(ResolverLab.resolverIPv4)\n")
        let (status, _, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1)
        #expect(probe(json, "10.0.2.3")?["outcome"] as? String == "timeout", "\(json)")
        #expect(lab.resolverQueries.isEmpty, "slirp4netns never asked the second nameserver: \(lab.resolverQueries)")
        let v = verdict(json)
        #expect(v.summary.contains("forwards to \(ResolverLab.silentIPv4)") && v.summary.contains("never tries \(ResolverLab.resolverIPv4)"), "\(v.summary)")
        #expect(v.fix.contains("put a working nameserver first"), "\(v.fix)")
    }

    @Test("a loopback host resolver (127.0.0.53, systemd-resolved's stub address) serves the container through slirp4netns 1.2, --disable-host-loopback too")
    func loopbackResolverServes() throws {
        let lab = try ResolverLab("loop")
        try lab.startResolver(on: ["127.0.0.53"])
        let slirp = try lab.startSlirp(resolvConf: "nameserver 127.0.0.53\n", arguments: ["--disable-host-loopback"])
        let (status, text, json) = try dns(slirp)
        #expect(status == 0, "\(text)")
        #expect(probe(json, "10.0.2.3")?["addresses"] as? [String] == [ResolverLab.answer4], "\(json)")
        // slirp4netns sends it from the host's loopback.
        #expect(lab.resolverQueries.contains { $0.contains("from 127.0.0.1") }, "\(lab.resolverQueries)")
        let v = verdict(json)
        #expect(v.status == "ok")
        #expect(v.notes.contains { $0.hasPrefix("127.0.0.53 is a loopback resolver on the host") && $0.contains("--disable-host-loopback blocks 10.0.2.2, not the DNS address") }, "\(v.notes)")
    }

    @Test("no IPv4 nameserver in slirp4netns's resolv.conf: 10.0.2.3 drops every query (said so), while fd00::3 reaches the first IPv6 one")
    func noIPv4NameserverDropsQueries() throws {
        let lab = try ResolverLab("v6only")
        try lab.startResolver(on: [ResolverLab.resolverIPv6])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv6)\n", ipv6: true)
        let (status, text, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        #expect(probe(json, "10.0.2.3")?["outcome"] as? String == "timeout", "\(json)")
        let v6 = try #require(probe(json, "fd00::3"), "\(json)")
        #expect(v6["outcome"] as? String == "answered" && v6["addresses"] as? [String] == [ResolverLab.answer6], "\(v6)")
        let v = verdict(json)
        #expect(v.summary.contains("names no IPv4 nameserver, so slirp4netns 1.2 drops every query to 10.0.2.3"), "\(v.summary)")
        #expect(text.contains("slirp4netns forwards IPv4 queries to none (dropped), IPv6 queries to \(ResolverLab.resolverIPv6)"), "\(text)")
    }

    @Test("a namespace whose resolv.conf names 10.0.2.3 while --cidr moved slirp4netns's DNS to 10.99.0.3: the address asked follows --cidr, and the mismatch is flagged")
    func resolvConfOtherThanComputedIsFlagged() throws {
        let lab = try ResolverLab("cidr")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n", arguments: ["--cidr=10.99.0.0/24"])
        try lab.startSleeper(resolvConf: "nameserver 10.0.2.3\n")
        let (status, text, json) = try dns(slirp)
        #expect(status == 0, "DNS itself works: a warning, not a failure\n\(text)")
        #expect(probe(json, "10.99.0.3")?["outcome"] as? String == "answered", "\(json)")
        let row = (json["resolv_conf"] as? [[String: Any]])?.first { $0["role"] as? String == "dns" }
        #expect(row?["status"] as? String == "mismatch" && row?["observed"] as? String == "10.0.2.3", "\(row ?? [:])")
        let v = verdict(json)
        #expect(v.status == "warning", "\(v)")
        #expect(v.summary.contains("the namespace's resolv.conf does not name 10.99.0.3"), "\(v.summary)")
        #expect(v.fix.contains("name 10.99.0.3 first"), "\(v.fix)")
    }

    @Test("--enable-ipv6 with IPv4-only host resolvers (Podman's default on most hosts): fd00::3 is asked but waited for 250 ms, not the whole --timeout")
    func unansweredIPv6CostsLittle() throws {
        let lab = try ResolverLab("v4only")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n", ipv6: true)
        let start = Deadline.now
        let (status, text, json) = try dns(slirp, ["--timeout", "5"])
        let seconds = Deadline.now.seconds(since: start)
        #expect(status == 0, "\(text)")
        let v6 = try #require(probe(json, "fd00::3"), "\(json)")
        #expect(v6["outcome"] as? String == "timeout" && v6["milliseconds"] as? Double == 250, "\(v6)")
        #expect(probe(json, "10.0.2.3")?["outcome"] as? String == "answered", "\(json)")
        // Two runs (text and JSON): each well under the 5 s timeout.
        #expect(seconds < 4, "dns waited for fd00::3 as long as for a resolver that exists: \(seconds) s for two runs")
        #expect(text.contains("fd00::3   AAAA \(ResolverLab.name)  no answer within 250 ms") && text.contains("IPv6 queries to none (dropped)"), "\(text)")
    }

    @Test("--disable-dns (seen: slirp4netns 1.2 then lets 10.0.2.3 time out): nothing is asked, the verdict names the option")
    func disabledDNSNamed() throws {
        let lab = try ResolverLab("nodns")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n", arguments: ["--disable-dns"])
        let (status, text, json) = try dns(slirp)
        #expect(status == 1, "\(text)")
        #expect((json["probes"] as? [Any])?.isEmpty == true, "\(json)")
        #expect(verdict(json).summary.hasPrefix("slirp4netns runs with --disable-dns: nothing answers at 10.0.2.3"), "\(verdict(json))")
        #expect(text.contains("nothing asked (--disable-dns)"), "\(text)")
    }

    @Test("slirp4netns reading a resolv.conf of its own mount namespace (not the host's file): the verdict names that file and its owner as the one to fix it, never the host's /etc/resolv.conf")
    func ownResolvConfIsItsOwnersToFix() throws {
        let lab = try ResolverLab("ownrc")
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n")
        let (status, text, json) = try dns(slirp)
        #expect(status == 1, "nothing listens at the resolver: \(text)")
        let host = try #require(json["host_resolver"] as? [String: Any], "\(json)")
        #expect(host["controlled_by"] as? String == "instance_owner", "\(host)")
        let v = verdict(json)
        #expect(v.fix.contains("a file in its own mount namespace, set up by its owner, root") && v.fix.contains("not the host's /etc/resolv.conf"), "\(v.fix)")
        #expect(!v.fix.contains("in the host's /etc/resolv.conf"), "the host's file is not what slirp4netns reads: \(v.fix)")
        #expect(v.notes.contains { $0.hasPrefix("slirp4netns reads /proc/\(slirp)/root/etc/resolv.conf, not the host's /etc/resolv.conf") }, "\(v.notes)")
    }

    @Test("slirp4netns reading the host's very /etc/resolv.conf (same device and inode): the verdict says the fix is the host's")
    func hostResolvConfIsTheHostsToFix() throws {
        let lab = try ResolverLab("hostrc")
        // The lab's outer namespace reaches none of the host's nameservers: DNS fails there.
        let slirp = try lab.startSlirp(resolvConf: "", hostResolvConf: true)
        let (status, text, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        let host = try #require(json["host_resolver"] as? [String: Any], "\(json)")
        #expect(host["controlled_by"] as? String == "host", "\(host)")
        #expect(verdict(json).fix.contains("the host's /etc/resolv.conf (the host's administrator's to fix"), "\(verdict(json))")
    }

    @Test("a route in the container's namespace sends 10.0.2.3 to its loopback: the verdict blames the namespace's owner and names the route to delete, not the host resolver (which works)")
    func namespaceRouteIsItsOwnersNotTheHosts() throws {
        let lab = try ResolverLab("nsroute")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n")
        for args in [["-n", lab.guest, "link", "set", "lo", "up"], ["-n", lab.guest, "route", "add", "10.0.2.3/32", "dev", "lo"]] {
            let out = sh("ip", args)
            try #require(out.status == 0, "ip \(args): \(out.stderr)")
        }
        let (status, text, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        let route = try #require(json["namespace_route"] as? [String: Any], "\(json)")
        #expect(route["kind"] as? String == "other" && route["interface"] as? String == "lo" && route["tap_packets_sent"] as? Int == 0, "\(route)")
        let v = verdict(json)
        #expect(v.summary.contains("never reached slirp4netns") && v.summary.contains("through lo, not tap0")
                && v.summary.contains("its owner (root) controls"), "\(v.summary)")
        #expect(!v.summary.contains("nothing listens on its port 53") && !v.fix.contains("resolv.conf"), "the host resolver is blamed: \(v)")
        // Only a read-only look is printed (root's own namespace file here); the deletion is said in words.
        #expect(v.fix.contains("nsenter --net=/run/netns/\(lab.guest) ip route get 10.0.2.3 shows the route taken")
                && v.fix.contains("delete the route or policy rule"), "\(v.fix)")
        #expect(!v.fix.contains(" del ") && !v.fix.contains(" add ") && !v.fix.contains(" flush"), "a mutating command is printed: \(v.fix)")
        #expect(lab.resolverQueries.isEmpty, "slirp4netns never forwarded: \(lab.resolverQueries)")
    }

    @Test("a policy rule in a busy container's namespace (a sender to the gateway running) sends 10.0.2.3 to its loopback: the main table names tap0 and the tap sends packets, yet the verdict blames the namespace's owner, not the host resolver")
    func policyRuleInABusyNamespaceIsItsOwnersNotTheHosts() throws {
        let lab = try ResolverLab("nsrule")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n")
        for args in [["-n", lab.guest, "link", "set", "lo", "up"], ["-n", lab.guest, "route", "add", "10.0.2.3/32", "dev", "lo", "table", "77"],
                     ["-n", lab.guest, "rule", "add", "to", "10.0.2.3", "lookup", "77", "priority", "100"]] {
            let out = sh("ip", args)
            try #require(out.status == 0, "ip \(args): \(out.stderr)")
        }
        // Background traffic through the tap, as a busy container has (or a user's ping on purpose):
        // a datagram to the gateway every 10 ms.
        let loop = "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nwhile True:\n s.sendto(b'x',('10.0.2.2',9));time.sleep(0.01)\n"
        guard case .success(let ping) = Executables.spawn(try #require(Executables.find("ip")),
                                                         ["netns", "exec", lab.guest, "/usr/bin/python3", "-c", loop]) else {
            Issue.record("cannot start the sender in \(lab.guest)"); return
        }
        defer { kill(ping, SIGKILL); Executables.waitFor(ping) }
        usleep(200_000)
        let (status, text, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        let route = try #require(json["namespace_route"] as? [String: Any], "\(json)")
        #expect(route["kind"] as? String == "other" && route["interface"] as? String == "lo", "the kernel's lookup follows the rule: \(route)")
        #expect(route["tap_busy"] as? Bool == true, "the sender kept the tap busy: \(route)")
        let v = verdict(json)
        #expect(v.summary.contains("never reached slirp4netns") && v.summary.contains("through lo, not tap0")
                && v.summary.contains("its owner (root) controls"), "\(v.summary)")
        #expect(!v.fix.contains("resolv.conf") && v.fix.contains("ip rule"), "\(v.fix)")
        #expect(lab.resolverQueries.isEmpty, "slirp4netns never forwarded: \(lab.resolverQueries)")
        kill(ping, SIGKILL)
        // Without the rule DNS works: the verdicts above were right.
        sh("ip", ["-n", lab.guest, "rule", "del", "priority", "100"])
        let after = try dns(slirp)
        #expect(after.status == 0 && verdict(after.json).status == "ok", "\(after.text)")
    }

    @Test("a namespace with 10,000 interfaces (its /proc/net/dev over 1 MiB): the tap's counters are not read, not polled, and the verdict still comes from the kernel's route")
    func hugeNetDevIsNotRead() throws {
        let lab = try ResolverLab("nsbig")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n")
        let batch = "\(lab.directory)/links.batch"
        try Files.write((0..<5000).map { "link add a\($0) type veth peer name b\($0)\n" }.joined(), to: batch)
        for args in [["-n", lab.guest, "-batch", batch], ["-n", lab.guest, "link", "set", "lo", "up"], ["-n", lab.guest, "route", "add", "10.0.2.3/32", "dev", "lo"]] {
            let out = sh("ip", args, timeout: 120)
            try #require(out.status == 0, "ip \(args): \(out.stderr)")
        }
        let size = sh("ip", ["netns", "exec", lab.guest, "wc", "-c", "/proc/net/dev"]).stdout
        try #require((Int(size.split(separator: " ").first ?? "") ?? 0) > 1 << 20, "/proc/net/dev is not over 1 MiB: \(size)")
        let (status, text, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        let route = try #require(json["namespace_route"] as? [String: Any], "\(json)")
        #expect(route["kind"] as? String == "other" && route["interface"] as? String == "lo", "\(route)")
        #expect(route["tap_packets_sent"] is NSNull, "a /proc/net/dev of \(size) bytes was read: \(route)")
        #expect(verdict(json).summary.contains("through lo, not tap0"), "\(verdict(json))")
    }

    @Test("a rootless container whose namespace routes 10.0.2.3 to its loopback: the fix is its user's, a read-only nsenter into their own user namespace that the user runs as themselves; no command for root with a path or PID the user chose, no mutating one")
    func rootlessOwnersFixRunsAsTheOwner() throws {
        try PodmanFixture.prepare()
        let container = try RootlessWebServer("dnsown")
        let slirp = try #require(PodmanFixture.slirp4netns(ofContainer: container.id), "no slirp4netns for \(container.name)")
        let inspect = PodmanFixture.podman(["inspect", "--format", "{{.State.Pid}}", container.name], user: container.user)
        let inside = try #require(Int32(inspect.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(inspect.stderr)")
        let add = sh("nsenter", ["-t", String(inside), "-n", "ip", "route", "add", "10.0.2.3/32", "dev", "lo"])
        try #require(add.status == 0, "ip route add in \(container.name): \(add.stderr)")
        let (status, text, json) = try dns(slirp.pid, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        let v = verdict(json)
        let owner = "user \(container.user.name) (uid \(container.user.uid))"
        #expect(v.fix.hasPrefix("for the namespace's owner (\(owner)), not the host:"), "\(v.fix)")
        #expect(!v.fix.contains(" del ") && !v.fix.contains("--net=/proc/"), "root's command with a user's path, or a mutating one: \(v.fix)")
        let start = try #require(v.fix.range(of: "nsenter -t "), "\(v.fix)")
        let end = try #require(v.fix.range(of: " shows the route taken", range: start.lowerBound..<v.fix.endIndex), "\(v.fix)")
        let command = String(v.fix[start.lowerBound..<end.lowerBound])
        #expect(command.contains("-U -n --preserve-credentials ip route get 10.0.2.3"), "\(command)")
        // The owner runs it as themselves, unprivileged, and sees the route that is the cause.
        let run = sh("runuser", ["-u", container.user.name, "--", "sh", "-c", "cd / && " + command])
        #expect(run.status == 0 && run.stdout.contains("10.0.2.3 dev lo"), "\(command) as \(container.user.name): \(run.status) \(run.stdout) \(run.stderr)")
    }

    @Test("a REJECT rule in the container's namespace: the verdict names the namespace's firewall and its owner, not a missing route or the host resolver")
    func namespaceFirewallIsItsOwnersNotTheHosts() throws {
        let lab = try ResolverLab("nsfw")
        try lab.startResolver(on: [ResolverLab.resolverIPv4])
        let slirp = try lab.startSlirp(resolvConf: "nameserver \(ResolverLab.resolverIPv4)\n")
        let rule = sh("ip", ["netns", "exec", lab.guest, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", "53", "-j", "REJECT"])
        try #require(rule.status == 0, "iptables (package iptables) in \(lab.guest): \(rule.stderr)")
        let (status, text, json) = try dns(slirp, ["--timeout", "1"])
        #expect(status == 1, "\(text)")
        #expect((json["namespace_route"] as? [String: Any])?["blocked_by_firewall"] as? Bool == true, "\(json)")
        let v = verdict(json)
        #expect(v.summary.contains("a netfilter rule in the namespace refused to send it") && v.summary.contains("its owner (root) controls"), "\(v.summary)")
        #expect(v.fix.hasPrefix("for the namespace's owner (root), not the host:") && v.fix.contains("iptables -S OUTPUT"), "\(v.fix)")
        #expect(!v.fix.contains("no route"), "\(v.fix)")
    }

    @Test("a name that cannot be asked is a usage error, nothing is sent")
    func badNameRefused() throws {
        let out = slirpmon(["dns", "pid:1", "--name", "bad name;rm"])
        #expect(out.status == 2 && out.stderr.contains("cannot be asked"), "\(out.status) \(out.stderr)")
    }
}
