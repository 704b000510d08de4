import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A slirp4netns that was killed and not reaped (defunct) has no command line left in /proc: what
/// `list` and `show` say of its configuration is what was seen while it ran, marked last seen, or
/// unknown, never slirp4netns's defaults (10.0.2.0/24, MTU 1500) shown as facts; and the fix offered
/// is for whoever started it.
@Suite("A defunct instance shows what was seen of it, or says it does not know", .serialized)
struct DefunctTruthTests {
    /// slirpmon with its kept facts in `kept` instead of root's /run/slirpmon (bound over it in a
    /// mount namespace of its own): other tests' runs, in parallel, neither see nor change them.
    static func slirpmon(keptIn kept: String, _ arguments: [String]) -> Executables.Output {
        guard let unshare = Executables.find("unshare") else {
            return Executables.Output(status: -1, stdout: "", stderr: "unshare is not installed (util-linux)")
        }
        switch Executables.run(unshare, privateSlirpmonState(kept, [slirpmonBinary] + arguments), timeout: 60) {
        case .success(let output): return output
        case .failure(let error): return Executables.Output(status: -1, stdout: "", stderr: "\(error)")
        }
    }

    /// One test's instance, started by hand (a child of this test, which does not reap it until the
    /// lab stops it) with options that are not slirp4netns's defaults and a network unique to the
    /// test, and the private directory its slirpmon runs keep facts in (removed at the end).
    final class Scene {
        let lab: TestLab
        let instance: SlirpLab.Instance
        let cidr: String
        let kept: String
        var pid: Int32 { instance.pid }

        init(_ tag: String) throws {
            try #require(isRoot, "needs root (ip netns, mount namespaces)")
            lab = try TestLab("df\(tag)")
            cidr = "10.9.\(UInt8.random(in: 1...250)).0/24"
            var spec = SlirpLab.Spec(name: tag, cidr: cidr)
            spec.mtu = 65000
            instance = try lab.start(spec)
            kept = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: "smt-kept-\(tag)-\(getpid())")
        }

        deinit { try? FileManager.default.removeItem(atPath: kept) }

        func slirpmon(_ arguments: [String]) -> Executables.Output { DefunctTruthTests.slirpmon(keptIn: kept, arguments) }

        /// Kills it; it stays defunct until the lab stops it.
        func kill() throws {
            lab.lab.signal(instance, SIGKILL)
            try #require(eventually { (try? Files.readText("/proc/\(self.pid)/stat"))?.contains(") Z ") == true }, "pid \(pid) is not defunct")
        }
    }

    static func row(_ output: Executables.Output, pid: Int32) throws -> [String: Any] {
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "not JSON: \(output.stderr)")
        return try #require(rows.first { $0["pid"] as? Int == Int(pid) }, "pid \(pid) not listed")
    }

    static func show(_ output: Executables.Output) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "not JSON: \(output.stderr)")
    }

    /// The line of `pid` in `list`'s table.
    static func line(_ text: String, pid: Int32) -> String {
        text.split(separator: "\n").first { $0.hasPrefix("\(pid) ") }.map(String.init) ?? ""
    }

    @Test("a hand-started slirp4netns listed while it ran, then killed and not reaped, shows its own cidr and MTU, last seen, and a fix that is not Podman's")
    func defunctShowsLastSeenValues() throws {
        let scene = try Scene("seen")
        let (pid, cidr) = (scene.pid, scene.cidr)
        let alive = try Self.row(scene.slirpmon(["list", "--json", "--no-podman"]), pid: pid)
        #expect(alive["cidr"] as? String == cidr && alive["configuration_source"] as? String == "command_line", "\(alive)")
        try scene.kill()

        for run in 1...2 { // the second run still has them: a defunct process's facts stay kept while it is there
            let row = try Self.row(scene.slirpmon(["list", "--json", "--no-podman"]), pid: pid)
            #expect(row["zombie"] as? Bool == true)
            #expect(row["cidr"] as? String == cidr, "run \(run): \(row)")
            #expect(row["mtu"] as? Int == 65000, "run \(run): \(row)")
            #expect(row["guest"] as? String == cidr.replacingOccurrences(of: ".0/24", with: ".100"))
            #expect(row["configuration_source"] as? String == "last_seen", "run \(run): \(row)")
            let seenAt = try #require(row["configuration_seen_at"] as? Double, "run \(run): \(row)")
            #expect(abs(seenAt - Date().timeIntervalSince1970) < 120)
        }
        let text = scene.slirpmon(["list", "--no-podman"]).stdout
        let line = Self.line(text, pid: pid)
        #expect(line.contains("defunct") && line.contains("\(cidr)*") && line.contains("65000*"), "\(text)")
        #expect(!line.contains("10.0.2.0/24") && !line.contains(" 1500"), "defaults shown as facts: \(line)")
        #expect(text.contains("* pid \(pid): last seen"), "\(text)")

        let shown = scene.slirpmon(["show", String(pid)]).stdout
        #expect(shown.contains("configuration: last seen") && shown.contains("--mtu=65000") && shown.contains("--cidr=\(cidr)"), "\(shown)")
        // (The --cidr option's meaning names the default it replaces; no address computed from it is shown.)
        #expect(!shown.contains("10.0.2.100") && !shown.contains("MTU 1500"), "\(shown)")
        #expect(shown.contains("API socket: \(scene.instance.apiSocket ?? "?") (last seen)"), "\(shown)")
        let json = try Self.show(scene.slirpmon(["show", String(pid), "--json"]))
        #expect(json["cidr"] as? String == cidr && json["mtu"] as? Int == 65000 && json["configuration_source"] as? String == "last_seen", "\(json)")
        // Started by hand, by this test: the fix names the parent, not Podman.
        let findings = try #require(json["findings"] as? [[String: Any]])
        let process = try #require(findings.first { $0["check"] as? String == "process" })
        let fix = try #require((process["cause"] as? [String: Any])?["fix"] as? String)
        #expect(!fix.contains("podman"), "\(fix)")
        #expect(fix.contains("start it again") && fix.contains("(pid \(getpid()))"), "\(fix)")
        #expect((process["message"] as? String)?.contains("Not started by Podman") == true, "\(process)")
    }

    @Test("a defunct slirp4netns nothing was kept of (never listed while it ran, or --no-cache) has its configuration unknown, not slirp4netns's defaults")
    func defunctWithoutKeptFactsIsUnknown() throws {
        let scene = try Scene("unknown")
        let pid = scene.pid
        try scene.kill()

        for arguments in [["list", "--json", "--no-podman"], ["list", "--json", "--no-podman", "--no-cache"]] {
            let row = try Self.row(scene.slirpmon(arguments), pid: pid)
            for key in ["cidr", "mtu", "ipv6", "tap", "guest", "gateway", "dns", "api_socket", "configuration_seen_at"] {
                #expect(row[key] is NSNull, "\(arguments): \(key) is \(String(describing: row[key])), not null")
            }
            #expect(row["configuration_source"] as? String == "unknown", "\(row)")
            #expect(((row["problems"] as? [String: String])?["configuration"])?.contains("defunct") == true, "the reason: \(row)")
        }
        let text = scene.slirpmon(["list", "--no-podman", "--no-cache"]).stdout
        let line = Self.line(text, pid: pid)
        #expect(line.contains("defunct"), "\(text)")
        #expect(!line.contains("10.0.2") && !line.contains("1500"), "defaults shown as facts: \(line)")
        #expect(text.contains("? pid \(pid): unknown:"), "\(text)")

        let shown = scene.slirpmon(["show", String(pid)]).stdout
        #expect(shown.contains("configuration: unknown"), "\(shown)")
        #expect(!shown.contains("10.0.2") && !shown.contains("started without --api-socket") && !shown.contains("(default name)"), "\(shown)")
        let json = try Self.show(scene.slirpmon(["show", String(pid), "--json"]))
        #expect(json["cidr"] is NSNull && json["mtu"] is NSNull && json["configuration_source"] as? String == "unknown", "\(json)")
        for key in ["arguments", "options", "addresses"] {
            #expect(json[key] is NSNull, "unknown, not an empty list: \(key) is \(String(describing: json[key]))")
        }
        let findings = try #require(json["findings"] as? [[String: Any]])
        let fix = try #require(findings.first { $0["check"] as? String == "process" }.flatMap { ($0["cause"] as? [String: Any])?["fix"] as? String })
        #expect(!fix.contains("podman"), "\(fix)")
    }

    @Test("a Podman container's slirp4netns killed and not reaped keeps its options, last seen, and the fix is podman restart with the container's own name")
    func defunctPodmanContainer() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox")
        let python = try #require(Executables.find("python3"), "python3 holds the container's slirp4netns as a subreaper that never reaps it")
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("dfpod")
        let cidr = "10.9.\(UInt8.random(in: 1...250)).0/24"
        let port = try DemoFleet.freeTCPPort()
        let kept = try SafeFiles.makePrivateDirectory(in: "/tmp", prefix: "smt-kept-pod-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: kept) }
        // `podman run` under a subreaper: the slirp4netns it leaves running is re-parented to it, and
        // it never waits for it, so once killed it stays defunct (as under a parent that does not reap).
        let holder = "import ctypes, subprocess, sys, time\nctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\nsubprocess.run(sys.argv[1:])\ntime.sleep(600)"
        let podman = try #require(Executables.find("podman"), "podman is not installed")
        let subreaper = try Executables.spawn(python, ["-c", holder, podman, "run", "-d", "--name", name,
                                                       "--network", "slirp4netns:port_handler=slirp4netns,mtu=65000,cidr=\(cidr)",
                                                       "-p", "127.0.0.1:\(port.value):80", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"]).get()
        defer {
            PodmanFixture.podman(["rm", "-f", "-t", "0", name])
            Glibc.kill(subreaper, SIGKILL)
            _ = Executables.waitFor(subreaper)
        }
        var slirp: Int32?
        _ = eventually(60) {
            slirp = (try? ProcessScanner().scan())?.first { $0.parentPID == subreaper && !$0.isZombie }?.pid
            return slirp != nil
        }
        let pid = try #require(slirp, "no slirp4netns of container \(name) under the subreaper \(subreaper)")
        let alive = try Self.row(Self.slirpmon(keptIn: kept, ["list", "--json"]), pid: pid)
        #expect((alive["container"] as? [String: Any])?["name"] as? String == name && alive["cidr"] as? String == cidr, "\(alive)")
        Glibc.kill(pid, SIGKILL)
        try #require(eventually { (try? Files.readText("/proc/\(pid)/stat"))?.contains(") Z ") == true }, "pid \(pid) is not defunct")

        let row = try Self.row(Self.slirpmon(keptIn: kept, ["list", "--json"]), pid: pid)
        #expect(row["zombie"] as? Bool == true && row["configuration_source"] as? String == "last_seen", "\(row)")
        #expect(row["cidr"] as? String == cidr && row["mtu"] as? Int == 65000, "\(row)")
        #expect((row["container"] as? [String: Any])?["name"] as? String == name, "still joined to its container: \(row)")
        let json = try Self.show(Self.slirpmon(keptIn: kept, ["show", String(pid), "--json"]))
        #expect(json["cidr"] as? String == cidr && json["configuration_source"] as? String == "last_seen", "\(json)")
        let findings = try #require(json["findings"] as? [[String: Any]])
        let fix = try #require(findings.first { $0["check"] as? String == "process" }.flatMap { ($0["cause"] as? [String: Any])?["fix"] as? String })
        #expect(fix.contains("podman restart \(name)"), "\(fix)")
    }
}

