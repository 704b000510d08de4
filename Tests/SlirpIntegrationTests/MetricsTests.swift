import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// One sample of a Prometheus text page: its name, its labels (unescaped) and its value as written.
struct Sample: CustomStringConvertible {
    let name: String
    let labels: [String: String]
    let value: String
    var description: String { "\(name)\(labels.sorted { $0.key < $1.key }) \(value)" }
    var number: Double? { Double(value) }
}

/// The samples of an exposition page, read as the text format defines it (label values with
/// `\\`, `\"` and `\n` escapes); nil on a line that is not of that shape (the page is broken).
func samples(_ page: String) -> [Sample]? {
    var result: [Sample] = []
    for line in page.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("#") {
        var chars = Substring(line)
        let name = String(chars.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        chars = chars.dropFirst(name.count)
        var labels: [String: String] = [:]
        if chars.first == "{" {
            chars = chars.dropFirst()
            while chars.first != "}" {
                let key = String(chars.prefix { $0 != "=" })
                chars = chars.dropFirst(key.count)
                guard chars.hasPrefix("=\"") else { return nil }
                chars = chars.dropFirst(2)
                var value = ""
                while let c = chars.first, c != "\"" {
                    chars = chars.dropFirst()
                    if c == "\\" {
                        guard let next = chars.first else { return nil }
                        chars = chars.dropFirst()
                        switch next {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                    } else {
                        value.append(c)
                    }
                }
                guard chars.first == "\"" else { return nil }
                chars = chars.dropFirst()
                labels[key] = value
                if chars.first == "," { chars = chars.dropFirst() }
            }
            chars = chars.dropFirst()
        }
        guard chars.first == " " else { return nil }
        result.append(Sample(name: name, labels: labels, value: String(chars.dropFirst())))
    }
    return result
}

/// Runs `promtool check metrics` on `page` (its stdin): nil when it accepts it, else what it said.
func promtoolRejects(_ page: String) throws -> String? {
    let promtool = try #require(Executables.find("promtool"), "promtool is not installed (apt-get install prometheus)")
    let directory = try SafeFiles.makePrivateDirectory(prefix: "smt-promtool")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try SafeFiles.writeNew(Array(page.utf8), to: "\(directory)/page.prom")
    let out = sh("sh", ["-c", "\"$0\" check metrics < \"$1\"", promtool, "\(directory)/page.prom"])
    return out.status == 0 ? nil : "status \(out.status): \(out.stdout) \(out.stderr)"
}

@Suite("slirpmon metrics: the Prometheus page of real slirp4netns, Podman and node_exporter", .serialized)
struct MetricsTests {
    /// slirpmon with its kept facts in `kept` (bound over /run/slirpmon in a mount namespace of its
    /// own), so parallel suites neither see nor change them.
    /// `path`: its PATH (where it finds podman), else this process's.
    static func slirpmon(keptIn kept: String, _ arguments: [String], umask mask: String? = nil, path: String? = nil) -> Executables.Output {
        guard let unshare = Executables.find("unshare") else {
            return Executables.Output(status: -1, stdout: "", stderr: "unshare is not installed (util-linux)")
        }
        let binary = path.map { ["env", "PATH=\($0)", slirpmonBinary] } ?? [slirpmonBinary]
        let command = mask.map { ["sh", "-c", "umask \($0) && exec \"$@\"", "sh"] + binary } ?? binary
        switch Executables.run(unshare, privateSlirpmonState(kept, command + arguments), timeout: 90) {
        case .success(let output): return output
        case .failure(let error): return Executables.Output(status: -1, stdout: "", stderr: "\(error)")
        }
    }

    /// One test's lab (root: `ip netns`) and the private directory its slirpmon runs keep facts in (removed at the end).
    final class Scene {
        let path: String
        let lab: TestLab
        init(_ tag: String) throws {
            try #require(isRoot, "needs root (ip netns, mount namespaces, other users' processes)")
            lab = try TestLab("mx\(tag)")
            path = try SafeFiles.makePrivateDirectory(prefix: "smt-metrics-\(tag)")
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func metrics(_ arguments: [String] = [], umask: String? = nil, path: String? = nil) -> Executables.Output {
            MetricsTests.slirpmon(keptIn: self.path, ["metrics"] + arguments, umask: umask, path: path)
        }
        /// An instance with one forward from 127.0.0.1:PORT (a free port) to its port 80.
        func startForwarded(_ spec: SlirpLab.Spec) throws -> (instance: SlirpLab.Instance, port: SlirpCore.Port) {
            let port = try DemoFleet.freeTCPPort()
            var spec = spec
            spec.forwards = [MetricsTests.loopback(.tcp, port, to: 80)]
            return (try lab.start(spec), port)
        }
    }

    /// The page's samples, with `promtool check metrics` having accepted it.
    static func page(_ output: Executables.Output) throws -> [Sample] {
        #expect(output.status == 0, "metrics failed: \(output.stderr)")
        if let rejected = try promtoolRejects(output.stdout) { Issue.record("promtool check metrics rejects the page: \(rejected)") }
        // Each metric in one block: its HELP and TYPE once, first, then all its samples (promtool
        // does not notice samples of one metric split around another's).
        var seen: [String] = []
        for line in output.stdout.split(separator: "\n") {
            let name = line.hasPrefix("# ") ? String(line.split(separator: " ")[2]) : String(line.prefix { $0 != "{" && $0 != " " })
            if seen.last != name {
                #expect(!seen.contains(name), "\(name) is not in one block")
                #expect(line.hasPrefix("# HELP \(name) "), "\(name) does not start with its HELP line: \(line)")
                seen.append(name)
            }
        }
        #expect(seen == seen.sorted(), "metrics not in name order: \(seen)")
        return try #require(samples(output.stdout), "not the text format:\n\(output.stdout.prefix(2000))")
    }

    /// A forward from 127.0.0.1:`port` on the host to `guest` in the namespace.
    static func loopback(_ proto: ForwardProtocol, _ port: SlirpCore.Port, to guest: Int) -> ForwardRequest {
        ForwardRequest(proto: proto, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: SlirpCore.Port(guest) ?? .http)
    }

    static func series(_ all: [Sample], _ name: String, pid: Int32) -> [Sample] {
        all.filter { $0.name == name && $0.labels["pid"] == String(pid) }
    }

    static func value(_ all: [Sample], _ name: String, pid: Int32) -> Double? {
        let found = series(all, name, pid: pid)
        return found.count == 1 ? found[0].number : nil
    }

    @Test("two hand-started slirp4netns: pid, kind manual, forwards as live, API socket held, tap counters that grow with traffic; one without an API socket has no socket or forward series; promtool accepts the page")
    func labInstancesAppearWithTheirValues() throws {
        let kept = try Scene("lab")
        let cidr = "10.7.\(UInt8.random(in: 1...250)).0/24"
        var spec = SlirpLab.Spec(name: "web", cidr: cidr)
        spec.mtu = 65000
        let (web, port) = try kept.startForwarded(spec)
        let bare = try kept.lab.start(.init(name: "bare", apiSocket: false))

        let first = try Self.page(kept.metrics())
        let info = try #require(Self.series(first, "slirpmon_instance_info", pid: web.pid).first, "pid \(web.pid) not on the page")
        #expect(info.labels["kind"] == "manual" && info.labels["user"] == "root" && info.labels["cidr"] == cidr
                && info.labels["configuration"] == "command_line" && info.labels["port_handler"] == "slirp4netns", "\(info)")
        #expect(Self.value(first, "slirpmon_instance_defunct", pid: web.pid) == 0)
        #expect(Self.value(first, "slirpmon_instance_forwards", pid: web.pid) == 1)
        #expect(Self.series(first, "slirpmon_instance_api_socket", pid: web.pid).map { $0.labels["status"] } == ["held"])
        #expect(Self.value(first, "slirpmon_instance_address_mismatches", pid: web.pid) == 0)
        #expect((Self.value(first, "slirpmon_instance_resident_memory_bytes", pid: web.pid) ?? 0) > 100_000)
        #expect(Self.value(first, "slirpmon_instance_cpu_seconds_total", pid: web.pid) != nil)
        let started = try #require(Self.value(first, "slirpmon_instance_start_time_seconds", pid: web.pid))
        #expect(abs(started - Date().timeIntervalSince1970) < 120, "start time \(started)")
        #expect(Self.series(first, "slirpmon_instance_value_unknown", pid: web.pid).isEmpty, "\(Self.series(first, "slirpmon_instance_value_unknown", pid: web.pid))")
        #expect(Self.series(first, "slirpmon_forward_info", pid: web.pid).isEmpty, "per-forward series only with --per-forward")

        #expect(Self.value(first, "slirpmon_instance_defunct", pid: bare.pid) == 0)
        #expect(Self.series(first, "slirpmon_instance_api_socket", pid: bare.pid).isEmpty)
        #expect(Self.series(first, "slirpmon_instance_forwards", pid: bare.pid).isEmpty)
        #expect(Self.series(first, "slirpmon_instance_info", pid: bare.pid).first?.labels["port_handler"] == "")

        // Traffic through the forward reaches the container side of the tap: its rx grows.
        let rxBefore = try #require(Self.value(first, "slirpmon_instance_tap_receive_bytes_total", pid: web.pid))
        let netns = try #require(web.netnsName)
        let server = try NamespaceServer(netns: netns, port: 80, reply: "metrics-hello")
        #expect(tcpRoundTrip(port: Int(port.value))?.contains("metrics-hello") == true)
        withExtendedLifetime(server) {}
        let second = try Self.page(kept.metrics())
        let rxAfter = try #require(Self.value(second, "slirpmon_instance_tap_receive_bytes_total", pid: web.pid))
        #expect(rxAfter > rxBefore, "rx \(rxBefore) -> \(rxAfter)")
        #expect((Self.value(second, "slirpmon_instance_tap_transmit_packets_total", pid: web.pid) ?? 0) > 0)
        #expect((second.first { $0.name == "slirpmon_scrape_duration_seconds" }?.number ?? -1) > 0)
    }

    @Test("a slirp4netns killed and not reaped: defunct 1, its configuration last seen, and no CPU, memory, socket, forward or tap series (absent, not 0)")
    func killedInstanceIsDefunctWithoutMadeUpValues() throws {
        let kept = try Scene("defunct")
        let lab = kept.lab
        let instance = try kept.startForwarded(.init(name: "gone")).instance
        let alive = try Self.page(kept.metrics())
        #expect(Self.value(alive, "slirpmon_instance_defunct", pid: instance.pid) == 0)
        lab.lab.signal(instance, SIGKILL)
        try #require(eventually { (try? Files.readText("/proc/\(instance.pid)/stat"))?.contains(") Z ") == true }, "not defunct")

        let page = try Self.page(kept.metrics())
        #expect(Self.value(page, "slirpmon_instance_defunct", pid: instance.pid) == 1)
        #expect(Self.series(page, "slirpmon_instance_info", pid: instance.pid).first?.labels["configuration"] == "last_seen")
        for absent in ["slirpmon_instance_cpu_seconds_total", "slirpmon_instance_resident_memory_bytes", "slirpmon_instance_api_socket",
                       "slirpmon_instance_forwards", "slirpmon_instance_tap_receive_bytes_total", "slirpmon_instance_address_mismatches"] {
            #expect(Self.series(page, absent, pid: instance.pid).isEmpty, "\(absent) for a defunct process: \(Self.series(page, absent, pid: instance.pid))")
        }
    }

    @Test("a user's fake slirp4netns with a double quote, a backslash, a newline and a would-be series in its --cidr: the label says invalid, no line of its own, promtool accepts the page")
    func hostileCommandLineCannotForgeSeries() throws {
        let kept = try Scene("hostile")
        let hostile = "10.1.0.0/24\"} 1\nslirpmon_instance_defunct{pid=\"1\"} 1\n# \\ \"x"
        let fake = try UserFakeSlirp(["--cidr=\(hostile)", "--configure", "1", "tap0"])
        defer { fake.stop() }
        let output = kept.metrics()
        let page = try Self.page(output)
        let info = try #require(Self.series(page, "slirpmon_instance_info", pid: fake.pid).first, "the fake \(fake.pid) is not on the page")
        #expect(info.labels["cidr"] == "invalid", "not a network: the user's text is not stored by Prometheus: \(info)")
        #expect(info.labels["user"] == "nobody")
        #expect(Self.series(page, "slirpmon_instance_defunct", pid: 1).isEmpty, "a series forged from a command line")
        #expect(!output.stdout.split(separator: "\n").contains { $0.hasPrefix("slirpmon_instance_defunct{pid=\"1\"}") })
    }

    @Test("a user's slirp4netns whose API socket and namespace are not there: api_socket missing, and forwards, addresses and tap unknown (value_unknown 1), none of them shown as 0")
    func unreadableValuesAreUnknownNotZero() throws {
        let kept = try Scene("unknown")
        let tag = "smt-mx-\(getpid())-\(UInt32.random(in: 0..<100000))"
        let fake = try UserFakeSlirp(["--api-socket", "/tmp/\(tag).sock", "--netns-type=path", "/run/netns/\(tag)", "tap0"])
        defer { fake.stop() }
        let page = try Self.page(kept.metrics())
        #expect(Self.value(page, "slirpmon_instance_defunct", pid: fake.pid) == 0, "the fake \(fake.pid) is not on the page")
        #expect(Self.series(page, "slirpmon_instance_api_socket", pid: fake.pid).map { $0.labels["status"] } == ["missing"])
        let unknown = Set(Self.series(page, "slirpmon_instance_value_unknown", pid: fake.pid).filter { $0.number == 1 }.compactMap { $0.labels["field"] })
        #expect(unknown == ["forwards", "addresses", "tap"], "\(unknown)")
        for absent in ["slirpmon_instance_forwards", "slirpmon_instance_address_mismatches", "slirpmon_instance_tap_receive_bytes_total",
                       "slirpmon_instance_tap_transmit_packets_total"] {
            #expect(Self.series(page, absent, pid: fake.pid).isEmpty, "\(absent): \(Self.series(page, absent, pid: fake.pid))")
        }
    }

    @Test("--per-forward: one slirpmon_forward_info per live forward, with its ports as labels")
    func perForwardSeries() throws {
        let kept = try Scene("perfwd")
        let lab = kept.lab
        let (a, b) = (try DemoFleet.freeTCPPort(), try DemoFleet.freeTCPPort())
        let instance = try lab.start(.init(name: "pf", forwards: [
            Self.loopback(.tcp, a, to: 80),
            Self.loopback(.udp, b, to: 53),
        ]))
        let page = try Self.page(kept.metrics(["--per-forward"]))
        let forwards = Self.series(page, "slirpmon_forward_info", pid: instance.pid)
        #expect(Set(forwards.map { "\($0.labels["proto"] ?? "")/\($0.labels["host_addr"] ?? "")/\($0.labels["host_port"] ?? "")/\($0.labels["guest_port"] ?? "")" })
                == ["tcp/127.0.0.1/\(a.value)/80", "udp/127.0.0.1/\(b.value)/53"], "\(forwards)")
        #expect(forwards.allSatisfy { $0.labels["guest_addr"] == "10.0.2.100" && $0.labels["id"] != nil }, "\(forwards)")
    }

    @Test("--per-forward on a slirp4netns with 300 forwards (a user adds as many as they like through their API socket): 256 forward_info series, the lowest ids, and forwards_unlisted 44; without the flag no forwards_unlisted")
    func perForwardSeriesAreCapped() throws {
        let kept = try Scene("cap")
        let instance = try kept.lab.start(.init(name: "cap"))
        let client = APIClient(socketPath: try #require(instance.apiSocket))
        // An address of its own in 127/8 and any port it can bind: other tests' ports are 127.0.0.1's.
        let host = IPv4Address(127, 77, UInt8.random(in: 1...250), 1)
        var added: [Int] = []
        var port = Int.random(in: 20000...40000)
        while added.count < 300, port < 65000 {
            guard let hostPort = SlirpCore.Port(port) else { break }
            if let id = try? client.add(ForwardRequest(proto: .udp, hostAddr: host, hostPort: hostPort, guestPort: .http)) { added.append(id) }
            port += 1
        }
        try #require(added.count == 300, "only \(added.count) forwards added")
        let page = try Self.page(kept.metrics(["--per-forward"]))
        #expect(Self.value(page, "slirpmon_instance_forwards", pid: instance.pid) == 300)
        #expect(Self.value(page, "slirpmon_instance_forwards_unlisted", pid: instance.pid) == 44)
        let ids = Self.series(page, "slirpmon_forward_info", pid: instance.pid).compactMap { $0.labels["id"].flatMap { Int($0) } }
        #expect(ids.sorted() == Array(added.sorted().prefix(256)), "\(ids.count) series: \(ids.sorted().prefix(5))...")
        let plain = try Self.page(kept.metrics())
        #expect(Self.series(plain, "slirpmon_instance_forwards_unlisted", pid: instance.pid).isEmpty)
    }

    @Test("a rootless Podman container: its name, user, kind and port handler, configured and live ports; its slirp4netns killed, the page shows the container running without one")
    func podmanContainerAndItsLostSlirp4netns() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox-static")
        let kept = try Scene("podman")
        let container = try RootlessWebServer("mxpod")
        let (user, name, id) = (container.user, container.name, container.id)
        let pid = try #require(PodmanFixture.slirp4netns(ofContainer: id)?.pid, "no slirp4netns for container \(name)")

        let page = try Self.page(kept.metrics())
        let info = try #require(Self.series(page, "slirpmon_instance_info", pid: pid).first, "pid \(pid) not on the page")
        #expect(info.labels["container"] == name && info.labels["user"] == user.name && info.labels["kind"] == "container"
                && info.labels["pod"] == "" && info.labels["port_handler"] == "slirp4netns" && info.labels["container_id"] == String(id.prefix(12)), "\(info)")
        #expect(Self.value(page, "slirpmon_instance_configured_ports", pid: pid) == 1)
        #expect(Self.value(page, "slirpmon_instance_forwards", pid: pid) == 1)
        #expect(Self.value(page, "slirpmon_instance_unforwarded_ports", pid: pid) == 0)
        #expect(Self.value(page, "slirpmon_instance_unpersisted_forwards", pid: pid) == 0)
        #expect(Self.series(page, "slirpmon_instance_api_socket", pid: pid).map { $0.labels["status"] } == ["held"])
        #expect(!page.contains { $0.name == "slirpmon_container_without_slirp4netns" && $0.labels["container"] == name })

        kill(pid, SIGKILL)
        var lost: Sample?
        var last: [Sample] = []
        _ = eventually(30) {
            guard let p = try? Self.page(kept.metrics()) else { return false }
            last = p
            lost = p.first { $0.name == "slirpmon_container_without_slirp4netns" && $0.labels["container"] == name }
            // A page read while the process exits (its files closed, not yet a zombie) may show it
            // neither serving the container nor defunct: the next one does.
            return lost != nil && Self.value(p, "slirpmon_instance_defunct", pid: pid) != 0
        }
        let without = try #require(lost, "not shown without its slirp4netns: \(last.filter { $0.description.contains(name) })")
        #expect(without.labels["state"] == "running" && without.labels["user"] == user.name && without.labels["container_id"] == String(id.prefix(12))
                && without.number == 1, "\(without)")
        // Gone or defunct, never shown running.
        #expect(Self.value(last, "slirpmon_instance_defunct", pid: pid) != 0, "pid \(pid) still shown running")
        withExtendedLifetime(container) {}
    }

    @Test("a rootless container's slirp4netns keeps its container, pod and kind labels on a page where Podman fails (the same series: the alerts' for: is not reset); a user's fake slirp4netns naming that container gets no join it never proved")
    func containerLabelsStayWhenPodmanCannotBeAsked() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox-static")
        let kept = try Scene("stable")
        let container = try RootlessWebServer("mxstable")
        let pid = try #require(PodmanFixture.slirp4netns(ofContainer: container.id)?.pid, "no slirp4netns for container \(container.name)")
        let identity = ["container", "pod", "kind", "user"]
        let first = try Self.page(kept.metrics())
        let before = try #require(Self.series(first, "slirpmon_instance_info", pid: pid).first, "pid \(pid) not on the page")
        #expect(before.labels["container"] == container.name && before.labels["kind"] == "container", "\(before)")

        // Podman fails for every user asked: first in PATH, a podman that answers as a locked storage does.
        let bin = try SafeFiles.makePrivateDirectory(prefix: "smt-broken-podman")
        defer { try? FileManager.default.removeItem(atPath: bin) }
        chmod(bin, 0o755)
        try Files.write("#!/bin/sh\necho 'Error: database is locked' >&2\nexit 125\n", to: "\(bin)/podman")
        chmod("\(bin)/podman", 0o755)
        let fake = try UserFakeSlirp(["--api-socket", "/tmp/smt-mx-\(getpid())/\(container.id).net", "--netns-type=path", "/run/netns/none", "tap0"])
        defer { fake.stop() }
        let second = try Self.page(kept.metrics(path: "\(bin):/usr/bin:/bin:/usr/sbin:/sbin"))
        #expect((second.first { $0.name == "slirpmon_scrape_errors" && $0.labels["source"] == "podman" }?.number ?? 0) >= 1, "Podman did not fail")
        for name in ["slirpmon_instance_info", "slirpmon_instance_defunct", "slirpmon_instance_forwards", "slirpmon_instance_cpu_seconds_total"] {
            let after = Self.series(second, name, pid: pid)
            #expect(after.count == 1 && identity.allSatisfy { after.first?.labels[$0] == before.labels[$0] },
                    "\(name) changed labels when Podman failed: \(before) -> \(after)")
        }
        let claimed = try #require(Self.series(second, "slirpmon_instance_info", pid: fake.pid).first, "the fake \(fake.pid) is not on the page")
        #expect(claimed.labels["container"] == "" && claimed.labels["pod"] == "", "a join the fake never proved: \(claimed)")
        withExtendedLifetime(container) {}
    }

    @Test("a rootless user's stopped container is no series (every exited container would stay one forever); one created in slirp4netns mode and never started is, with state created")
    func exitedContainersAreNotSeries() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox-static")
        let kept = try Scene("exited")
        let stopped = try RootlessWebServer("mxexit")
        let user = stopped.user
        let stop = PodmanFixture.podman(["stop", "-t", "0", stopped.name], user: user)
        try #require(stop.status == 0, "podman stop: \(stop.stderr)")
        let created = PodmanFixture.name("mxcreated")
        let create = PodmanFixture.podman(["create", "--name", created, "--network", "slirp4netns:port_handler=slirp4netns",
                                           "-p", "127.0.0.1:\(try DemoFleet.freeTCPPort().value):80", PodmanFixture.image, "httpd", "-f", "-p", "80"], user: user)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", created], user: user) }
        try #require(create.status == 0, "podman create: \(create.stderr)")
        let state = PodmanFixture.podman(["inspect", "--format", "{{.State.Status}}", stopped.name], user: user).stdout
        try #require(state.contains("exited"), "podman stop left \(stopped.name) \(state)")

        let page = try Self.page(kept.metrics())
        let without = page.filter { $0.name == "slirpmon_container_without_slirp4netns" }
        #expect(!without.contains { $0.labels["container"] == stopped.name }, "an exited container is a series: \(without.filter { $0.labels["container"] == stopped.name })")
        #expect(without.contains { $0.labels["container"] == created && $0.labels["state"] == "created" && $0.labels["user"] == user.name },
                "the created container is not listed: \(without)")
        #expect(without.allSatisfy { ["running", "paused", "created", "configured", "initialized"].contains($0.labels["state"] ?? "") }, "\(without)")
        withExtendedLifetime(stopped) {}
    }

    @Test("--textfile: node_exporter's textfile collector, as user prometheus, reads slirpmon.prom written under umask 077: no scrape error, the instance's series served")
    func nodeExporterReadsTheTextfile() throws {
        try #require(isRoot, "needs root (ip netns)")
        let exporter = try #require(Executables.find("prometheus-node-exporter"), "prometheus-node-exporter is not installed")
        let setpriv = try #require(Executables.find("setpriv"), "setpriv is not installed (util-linux)")
        let prometheusUser = try #require(getpwnam("prometheus")?.pointee, "no user prometheus (the prometheus-node-exporter package makes it)")
        let kept = try Scene("textfile")
        let instance = try kept.lab.start(.init(name: "tf"))
        let directory = try SafeFiles.makePrivateDirectory(prefix: "smt-textfile")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)

        let written = kept.metrics(["--textfile", directory], umask: "077")
        try #require(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.isEmpty, "--textfile prints nothing: \(written.stdout.prefix(200))")
        let st = try Files.linkStatus("\(directory)/slirpmon.prom")
        #expect(st.st_mode & S_IFMT == S_IFREG && st.st_mode & 0o777 == 0o644 && st.st_uid == 0, "mode \(String(st.st_mode, radix: 8))")
        #expect(try Files.directoryEntries(directory) == ["slirpmon.prom"], "a temporary file left behind")

        let port = Int(try DemoFleet.freeTCPPort().value)
        let spawned = Executables.spawn(setpriv, ["--reuid=\(prometheusUser.pw_uid)", "--regid=\(prometheusUser.pw_gid)", "--clear-groups", "--",
                                                  exporter, "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                                                  "--collector.textfile", "--collector.textfile.directory=\(directory)"])
        guard case .success(let exporterPID) = spawned else { Issue.record("cannot start node_exporter: \(spawned)"); return }
        defer { kill(exporterPID, SIGTERM); Executables.waitFor(exporterPID) }
        var body = ""
        _ = eventually(15) {
            body = PodmanFixture.httpGet(port: port, path: "/metrics") ?? ""
            return body.contains("node_textfile_scrape_error")
        }
        #expect(body.contains("\nnode_textfile_scrape_error 0\n"), "node_exporter did not take the file: \(body.split(separator: "\n").filter { $0.contains("textfile") })")
        let served = try #require(samples(String(body[(body.range(of: "\r\n\r\n")?.upperBound ?? body.startIndex)...])), "node_exporter's page is not the text format")
        #expect(Self.value(served, "slirpmon_instance_defunct", pid: instance.pid) == 0, "the instance's series not served by node_exporter")
        #expect(served.contains { $0.name == "node_textfile_mtime_seconds" && $0.labels["file"]?.hasSuffix("slirpmon.prom") == true })
    }

    @Test("--textfile as root refuses a directory another user owns or may write to (it could plant a link), writes nothing there; a link at slirpmon.prom in root's directory is replaced, never written through")
    func textfileRefusesDirectoriesUsersControl() throws {
        let kept = try Scene("unsafe")
        let base = try SafeFiles.makePrivateDirectory(prefix: "smt-textfile-unsafe")
        defer { try? FileManager.default.removeItem(atPath: base) }
        chmod(base, 0o755)
        let owned = "\(base)/nobodys"
        let open = "\(base)/open"
        mkdir(owned, 0o755)
        chown(owned, 65534, 65534)
        mkdir(open, 0o755)
        chmod(open, 0o1777)
        for directory in [owned, open, "\(owned)/../open"] {
            let out = kept.metrics(["--textfile", directory])
            #expect(out.status == 1 && out.stderr.contains("refusing to write into"), "\(directory): \(out.status) \(out.stderr)")
            #expect((try? Files.directoryEntries(directory))?.isEmpty == true, "\(directory) written to")
        }
        // Under a directory a user owns, even root's own directory is not one to write into: the user could swap it.
        let inner = "\(owned)/inner"
        mkdir(inner, 0o755)
        let below = kept.metrics(["--textfile", inner])
        #expect(below.status == 1 && below.stderr.contains("refusing to write into"), "\(below.stderr)")

        let safe = "\(base)/safe"
        mkdir(safe, 0o755)
        let target = "\(base)/target"
        try Files.write("untouched\n", to: target)
        symlink(target, "\(safe)/slirpmon.prom")
        let out = kept.metrics(["--textfile", safe])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try Files.readText(target) == "untouched\n", "written through the link")
        #expect(try Files.linkStatus("\(safe)/slirpmon.prom").st_mode & S_IFMT == S_IFREG)

        // Debian's own layout: /var/lib/prometheus is the system account prometheus's, node-exporter root's.
        let service = "\(base)/service"
        mkdir(service, 0o755)
        chown(service, 102, 102)
        let textfiles = "\(service)/node-exporter"
        mkdir(textfiles, 0o755)
        let debian = kept.metrics(["--textfile", textfiles])
        #expect(debian.status == 0, "a root directory under a system account's: \(debian.stderr)")
        #expect(Files.exists("\(textfiles)/slirpmon.prom"))
        chown(service, 1000, 1000)
        #expect(kept.metrics(["--textfile", textfiles]).status == 1, "the same under a user's directory")
        chown(service, 102, 102)
        chown(textfiles, 102, 102)
        #expect(kept.metrics(["--textfile", textfiles]).status == 1, "the directory itself a system account's")

        let missing = kept.metrics(["--textfile", "\(base)/none"])
        #expect(missing.status == 1 && missing.stderr.contains("\(base)/none"), "\(missing.stderr)")
    }
}

@Suite("assets/slirpmon.rules.yml loads as it is and fires as its unit tests say (promtool)")
struct PrometheusRuleTests {
    @Test("promtool check rules accepts assets/slirpmon.rules.yml (10 rules)")
    func rulesLoad() throws {
        let promtool = try #require(Executables.find("promtool"), "promtool is not installed (apt-get install prometheus)")
        let out = sh(promtool, ["check", "rules", "\(packageRoot)/assets/slirpmon.rules.yml"])
        #expect(out.status == 0 && out.stdout.contains("SUCCESS: 10 rules found"), "\(out.stdout) \(out.stderr)")
    }

    @Test("promtool test rules: each alert fires for its series after its for:, and not for a healthy neighbour (Tests/Prometheus/slirpmon.rules.test.yml)")
    func rulesFireAsTested() throws {
        let promtool = try #require(Executables.find("promtool"), "promtool is not installed (apt-get install prometheus)")
        let out = sh(promtool, ["test", "rules", "\(packageRoot)/Tests/Prometheus/slirpmon.rules.test.yml"], timeout: 60)
        #expect(out.status == 0 && out.stdout.contains("SUCCESS"), "\(out.stdout) \(out.stderr)")
    }
}
