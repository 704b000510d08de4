import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// `slirpmon serve` as an operator runs it, scraped by a real Prometheus (Debian's 2.42) on
/// 127.0.0.1; node_exporter's textfile collector beside it; the alert rules of
/// assets/slirpmon.rules.yml evaluated by that Prometheus.
@Suite("slirpmon serve: scraped by a real Prometheus, with node_exporter and the alert rules", .serialized)
struct ServeTests {
    /// A private directory for kept facts (see MetricsTests.Kept), removed at the end.
    final class Kept {
        let path: String
        init(_ tag: String) throws { path = try SafeFiles.makePrivateDirectory(prefix: "smt-serve-\(tag)") }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// The rules file as shipped: the tests load it as an operator would.
    static var rulesFile: String {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("assets/slirpmon.rules.yml").path
    }

    /// The running slirp4netns of a rootless Podman container (PodmanFixture's RootlessWebServer).
    static func slirpPID(of container: RootlessWebServer) throws -> Int32 {
        var found: SlirpProcess?
        _ = eventually(30) {
            found = (try? ProcessScanner().scan())?.first { $0.containerID == container.id && !$0.isZombie }
            return found != nil
        }
        return try #require(found?.pid, "container \(container.name) has no running slirp4netns")
    }

    @Test("Prometheus scrapes slirpmon serve: the target is up, and its query API returns the series of two hand-started slirp4netns and of a rootless Podman container")
    func prometheusScrapesServe() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox-static")
        let lab = try TestLab("sv")
        let forwardPort = try DemoFleet.freeTCPPort()
        let web = try lab.start(.init(name: "web", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: forwardPort, guestPort: Port(80)!)]))
        let bare = try lab.start(.init(name: "bare", apiSocket: false))
        let container = try RootlessWebServer("svpod")
        let (name, user, containerSlirp) = (container.name, container.user, try Self.slirpPID(of: container))

        let kept = try Kept("scrape")
        let serve = try ServeProcess(keptIn: kept.path)
        let prometheus = try PrometheusFixture(jobs: [.init("slirpmon", targets: ["127.0.0.1:\(serve.port)"])])
        let up = prometheus.wait(seconds: 30) { () throws -> Bool? in
            try prometheus.targets().contains { $0.job == "slirpmon" && $0.health == "up" } ? true : nil
        }
        #expect(up == true, "target not up: \((try? prometheus.targets()).map { "\($0)" } ?? "") \(prometheus.log)")
        #expect(try prometheus.query("up{job=\"slirpmon\"}").map(\.value) == [1])

        // Each instance as Prometheus stored it, with the target's own labels added.
        let info = prometheus.wait(seconds: 20) { () throws -> [(labels: [String: String], value: Double)]? in
            let found = try prometheus.query("slirpmon_instance_info{pid=~\"\(web.pid)|\(bare.pid)|\(containerSlirp)\"}")
            return found.count == 3 ? found : nil
        }
        let byPID = Dictionary((info ?? []).map { ($0.labels["pid"] ?? "", $0.labels) }, uniquingKeysWith: { a, _ in a })
        #expect(byPID["\(web.pid)"]?["kind"] == "manual" && byPID["\(web.pid)"]?["user"] == "root"
                && byPID["\(web.pid)"]?["job"] == "slirpmon" && byPID["\(web.pid)"]?["instance"] == "127.0.0.1:\(serve.port)", "\(byPID)")
        #expect(byPID["\(bare.pid)"]?["kind"] == "manual", "\(byPID)")
        #expect(byPID["\(containerSlirp)"]?["container"] == name && byPID["\(containerSlirp)"]?["user"] == user.name
                && byPID["\(containerSlirp)"]?["kind"] == "container", "\(byPID)")
        #expect(try prometheus.query("slirpmon_instance_forwards{pid=\"\(web.pid)\"}").map(\.value) == [1])
        #expect(try prometheus.query("slirpmon_instance_forwards{pid=\"\(containerSlirp)\"}").map(\.value) == [1])
        #expect(try prometheus.query("slirpmon_instance_api_socket{pid=\"\(web.pid)\",status=\"held\"}").map(\.value) == [1])
        #expect(try prometheus.query("slirpmon_instance_defunct{pid=~\"\(web.pid)|\(bare.pid)|\(containerSlirp)\"}").map(\.value) == [0, 0, 0])
        #expect(try prometheus.query("slirpmon_instance_api_socket{pid=\"\(bare.pid)\"}").isEmpty, "an instance without an API socket has no socket series")
        // The age family, appended to the page as it is answered, is parsed and stored with the rest.
        let age = try prometheus.query("slirpmon_page_age_seconds{job=\"slirpmon\"}").map(\.value)
        #expect(age.count == 1 && age.allSatisfy { $0 >= 0 && $0 < 3 }, "\(age)")
        #expect(serve.stop() == 0, "SIGTERM: \(serve.stderr)")
    }

    @Test("Prometheus scrapes node_exporter's textfile directory written by slirpmon metrics --textfile: the instance's series arrive under job node, with no textfile error")
    func prometheusScrapesTheTextfile() throws {
        try #require(isRoot, "needs root (ip netns)")
        let lab = try TestLab("svtf")
        let instance = try lab.start(.init(name: "tf"))
        let kept = try Kept("textfile")
        let directory = try SafeFiles.makePrivateDirectory(prefix: "smt-serve-textfile")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = sh("unshare", privateSlirpmonState(kept.path, [slirpmonBinary, "metrics", "--textfile", directory]), timeout: 90)
        try #require(written.status == 0, "\(written.stderr)")
        let exporter = try NodeExporterFixture(textfileDirectory: directory)
        let prometheus = try PrometheusFixture(jobs: [.init("node", targets: ["127.0.0.1:\(exporter.port)"])])
        let series = prometheus.wait(seconds: 30) { () throws -> [(labels: [String: String], value: Double)]? in
            let found = try prometheus.query("slirpmon_instance_defunct{pid=\"\(instance.pid)\"}")
            return found.isEmpty ? nil : found
        }
        #expect(series?.map(\.value) == [0], "not stored: \(prometheus.log)")
        #expect(series?.first?.labels["job"] == "node")
        #expect(try prometheus.query("node_textfile_scrape_error{job=\"node\"}").map(\.value) == [0])
        #expect(try prometheus.targets().filter { $0.job == "node" }.map(\.health) == ["up"])
    }

    @Test("with assets/slirpmon.rules.yml loaded, killing a rootless container's slirp4netns makes SlirpContainerWithoutSlirp4netns pending for that container, then firing after its for: 2m")
    func killingAContainersSlirpFiresTheAlert() throws {
        try #require(PodmanFixture.available, "needs root, podman and busybox-static")
        let container = try RootlessWebServer("svalert")
        let (name, user, pid) = (container.name, container.user, try Self.slirpPID(of: container))
        let kept = try Kept("alert")
        let serve = try ServeProcess(keptIn: kept.path)
        // Scrapes 5 s apart, each given 5 s: one scrape that fails (a loaded machine) marks every series stale and
        // restarts the rule's for: 2m, which is not what this test is about.
        let prometheus = try PrometheusFixture(jobs: [.init("slirpmon", targets: ["127.0.0.1:\(serve.port)"])], rules: [Self.rulesFile], interval: "5s")
        let scraped = prometheus.wait(seconds: 30) { () throws -> Bool? in
            try prometheus.query("slirpmon_instance_info{pid=\"\(pid)\"}").isEmpty ? nil : true
        }
        try #require(scraped == true, "the container's slirp4netns never scraped: \(prometheus.log)")
        func alert() throws -> (name: String, state: String, labels: [String: String])? {
            try prometheus.alerts().first { $0.name == "SlirpContainerWithoutSlirp4netns" && $0.labels["container"] == name }
        }
        #expect(try alert() == nil, "alerting while the container's slirp4netns runs")

        kill(pid, SIGKILL)
        let pending = prometheus.wait(seconds: 45) { try alert() }
        let seen = try #require(pending, "no alert for \(name) 45 s after its slirp4netns was killed: \((try? prometheus.alerts()).map { "\($0)" } ?? ""); serve said: \(serve.stderr); age: \((try? prometheus.query("slirpmon_page_age_seconds").map(\.value)) ?? [])")
        #expect(seen.state == "pending" && seen.labels["user"] == user.name && seen.labels["severity"] == "critical", "\(seen)")
        // The rule's own for: 2m, not shortened: firing within it plus a few evaluations.
        let firing = prometheus.wait(seconds: 150) { () throws -> Bool? in try alert()?.state == "firing" ? true : nil }
        #expect(firing == true, "not firing 150 s after pending: \((try? alert()).map { "\($0)" } ?? "gone"); serve said: \(serve.stderr)")
        #expect(serve.stop() == 0)
    }

    @Test("the real binary: 404 for another path, HEAD without a body, the index links /metrics; SIGTERM and SIGINT stop it with status 0 and free the port")
    func servesAndStopsCleanly() throws {
        try #require(isRoot, "needs root")
        let kept = try Kept("stop")
        for signal in [SIGTERM, SIGINT] {
            let serve = try ServeProcess(["--scrape-timeout", "30"], keptIn: kept.path)
            #expect(httpExchange(port: serve.port, path: "/nope")?.status == 404)
            #expect(httpExchange(port: serve.port, path: "/")?.body.contains("href=\"/metrics\"") == true)
            let head = try #require(httpExchange(port: serve.port, method: "HEAD", path: "/metrics", timeout: 60))
            #expect(head.status == 200 && head.body.isEmpty && head.head.contains("version=0.0.4"), "\(head.head)")
            #expect(serve.stop(signal) == 0, "signal \(signal): \(serve.stderr)")
            #expect(httpExchange(port: serve.port, path: "/") == nil, "still answering after signal \(signal)")
        }
    }

    @Test("the real binary: each page ends with slirpmon_page_age_seconds (near 0 when fresh); --help gives the 8 s default, below Prometheus's 10 s; slirpmon and slirpmon-serve refuse a --scrape-timeout out of range in the same words")
    func pageAgeAndScrapeTimeoutOfTheRealBinary() throws {
        try #require(isRoot, "needs root")
        let kept = try Kept("age")
        let serve = try ServeProcess(keptIn: kept.path)
        let page = try #require(httpExchange(port: serve.port, path: "/metrics", timeout: 30, headers: ["X-Prometheus-Scrape-Timeout-Seconds: 10"]))
        let lines = page.body.split(separator: "\n")
        #expect(page.status == 200 && lines.contains("# TYPE slirpmon_page_age_seconds gauge"), "\(page.body.suffix(400))")
        let age = lines.first { $0.hasPrefix("slirpmon_page_age_seconds ") }.flatMap { Double($0.split(separator: " ")[1]) }
        #expect(age.map { $0 >= 0 && $0 < 2.5 } == true, "\(String(describing: age))")
        #expect(lines.contains { $0.hasPrefix("slirpmon_scrape_duration_seconds ") }, "the page as rendered comes first")
        #expect(serve.stop() == 0, "\(serve.stderr)")

        let help = slirpmon(["serve", "--help"])
        let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("--scrape-timeout (8 s, below Prometheus's default scrape_timeout of 10 s)") && flat.contains("(default: 8.0)"), "\(help.stdout)")
        let words = "--scrape-timeout must be from 0.1 to 600 seconds, got 0.05"
        let byCLI = slirpmon(["serve", "--listen", "127.0.0.1:0", "--scrape-timeout", "0.05"])
        #expect(byCLI.status != 0 && byCLI.stderr.contains(words), "\(byCLI.stderr)")
        let server = URL(fileURLWithPath: slirpmonBinary).deletingLastPathComponent().appendingPathComponent("slirpmon-serve").path
        let byServer = sh(server, ["--listen", "127.0.0.1:0", "--scrape-timeout", "0.05"])
        #expect(byServer.status == 2 && byServer.stderr == "slirpmon serve: \(words)\n", "\(byServer.stderr)")
    }

    @Test("a user's Podman failing on every render is logged by serve once, as slirpmon metrics says it, their escape sequences shown as \\x1B; the journal is not flooded")
    func podmanFailuresAreLoggedOnceAndEscaped() throws {
        try #require(isRoot, "needs root (a mount namespace with its own /etc/passwd)")
        // A user of this test alone: an /etc/passwd bound over the real one for the server only, naming a
        // home with an escape sequence in its path, container storage that is not empty, and a
        // containers.conf that cannot be read (a directory): "...'s Podman not asked: cannot read HOME/...".
        let directory = try SafeFiles.makePrivateDirectory(prefix: "smt-serve-podfail")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let home = "\(directory)/home\u{1B}]0;owned\u{07}"
        for path in ["\(home)/.local/share/containers/storage/overlay-containers", "\(home)/.config/containers/containers.conf"] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try Files.write("[{\"id\":\"x\"}]\n", to: "\(home)/.local/share/containers/storage/overlay-containers/containers.json")
        let passwd = "\(directory)/passwd"
        try Files.write(try Files.readText("/etc/passwd") + "smt-podfail:x:64990:64990::\(home):/bin/sh\n", to: passwd)
        chmod(passwd, 0o644)
        let kept = try Kept("podfail")
        let serve = try ServeProcess(keptIn: kept.path, binding: [(passwd, "/etc/passwd")])
        for _ in 0..<3 {
            #expect(httpExchange(port: serve.port, path: "/metrics", timeout: 30)?.status == 200)
            usleep(2_200_000) // past the page reuse: each scrape renders (and fails to ask that Podman) again
        }
        #expect(serve.stop() == 0)
        let said = serve.stderr.split(separator: "\n").filter { $0.contains("Podman not asked") }
        #expect(said.count == 1, "three renders, one line: \(serve.stderr)")
        #expect(said.first?.contains("/home\\x1B]0;owned\\x07/.config/containers/containers.conf") == true, "\(serve.stderr)")
        #expect(!serve.stderr.contains("\u{1B}"), "an escape sequence reached the journal: \(serve.stderr.debugDescription)")
    }

    @Test("a bad --listen exits 2 with what is wrong and the form, before listening; as root, a non-loopback address is warned about (and one not on this host fails with exit 1)")
    func badListenIsRefused() throws {
        for (listen, said) in [("localhost:9184", "host names are not resolved"), ("::1:9184", "goes in brackets: [::1]:9184"),
                               ("127.0.0.1:99999", "from 0 to 65535"), ("9184", "no :PORT"), ("[::1]", "no :PORT after")] {
            let out = slirpmon(["serve", "--listen", listen])
            #expect(out.status == 2, "\(listen): \(out.status) \(out.stderr)")
            #expect(out.stderr.hasPrefix("slirpmon serve: --listen \(listen): ") && out.stderr.contains(said)
                    && out.stderr.contains("e.g. 127.0.0.1:9184 or [::1]:9184"), "\(listen): \(out.stderr)")
        }
        let missing = slirpmon(["serve"])
        #expect(missing.status == 2 && missing.stderr.contains("--listen"), "\(missing.stderr)")
        // 192.0.2.1 (TEST-NET-1) is on no interface here: nothing listens, nothing is sent.
        let offHost = slirpmon(["serve", "--listen", "192.0.2.1:0"])
        #expect(offHost.status == 1 && offHost.stderr.contains("cannot listen on 192.0.2.1:0"), "\(offHost.stderr)")
        if isRoot {
            #expect(offHost.stderr.contains("warning: listening on 192.0.2.1:0 as root"), "\(offHost.stderr)")
        }
    }

    @Test("slirpmon serve runs the slirpmon-serve beside its own binary (/proc/self/exe), never one found through PATH")
    func serverComesFromBesideTheBinary() throws {
        let directory = try SafeFiles.makePrivateDirectory(prefix: "smt-serve-alone")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #require(sh("cp", [slirpmonBinary, "\(directory)/slirpmon"]).status == 0)
        // A slirpmon-serve in PATH that would leave a mark if it ran.
        let planted = "\(directory)/path"
        mkdir(planted, 0o755)
        try Files.write("#!/bin/sh\ntouch \(directory)/planted-ran\n", to: "\(planted)/slirpmon-serve")
        chmod("\(planted)/slirpmon-serve", 0o755)
        let out = Executables.run("\(directory)/slirpmon", ["serve", "--listen", "127.0.0.1:0"], timeout: 20,
                                  environment: ["PATH=\(planted):/usr/bin:/bin"])
        let output = try out.get()
        #expect(output.status == 1 && output.stderr.contains("no slirpmon-serve next to \(directory)/slirpmon"), "\(output.stderr)")
        #expect(!Files.exists("\(directory)/planted-ran"), "the slirpmon-serve from PATH ran")
    }
}
