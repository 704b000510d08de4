import Foundation
import Glibc
import SlirpCore

/// A real Prometheus server (/usr/bin/prometheus, Debian's package) for one test: on
/// 127.0.0.1 at a port free at start, its data in a private temp dir, a config written here
/// that scrapes `targets` every `interval` (and evaluates `rules`), stopped by its PID.
public final class PrometheusFixture {
    public let port: Int
    public let pid: pid_t
    public let directory: String

    /// A scrape job: its name and `host:port` targets (the `metrics_path` defaults to /metrics).
    public struct Job {
        public let name: String
        public let targets: [String]
        public init(_ name: String, targets: [String]) { self.name = name; self.targets = targets }
    }

    public init(jobs: [Job], rules: [String] = [], interval: String = "1s") throws {
        guard let prometheus = Executables.find("prometheus") else {
            throw LabSetupError("prometheus is not installed (assets/setup.sh installs it: apt-get install prometheus)")
        }
        directory = try SafeFiles.makePrivateDirectory(prefix: "slirpmon-prometheus")
        let scrapes = jobs.map { job in
            """
              - job_name: \(job.name)
                static_configs:
                  - targets: [\(job.targets.map { "'\($0)'" }.joined(separator: ", "))]
            """
        }.joined(separator: "\n")
        let config = """
            global:
              scrape_interval: \(interval)
              scrape_timeout: \(interval)
              evaluation_interval: \(interval)
            rule_files: [\(rules.map { "'\($0)'" }.joined(separator: ", "))]
            scrape_configs:
            \(scrapes)

            """
        try Files.write(config, to: "\(directory)/prometheus.yml")
        let log = open("\(directory)/prometheus.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(log) }
        var lastError = "no attempt"
        // A port found free can be taken before Prometheus binds it: then another one.
        for _ in 0..<3 {
            let port = Int(try DemoFleet.freeTCPPort().value)
            let started = Executables.spawn(prometheus, ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                                                         "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"],
                                            descriptors: [1: log, 2: log])
            guard case .success(let pid) = started else { throw LabSetupError("cannot start prometheus: \(started)") }
            if Self.waitReady(port: port, pid: pid) {
                self.port = port
                self.pid = pid
                return
            }
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
            lastError = (try? Files.readText("\(directory)/prometheus.log")) ?? ""
        }
        _ = try? Executables.run("/bin/rm", ["-rf", directory]).get()
        throw LabSetupError("prometheus did not become ready: \(lastError.suffix(2000))")
    }

    deinit {
        stopChild(pid, seconds: 10)
        _ = Executables.run("/bin/rm", ["-rf", directory])
    }

    private static func waitReady(port: Int, pid: pid_t) -> Bool {
        let deadline = Deadline.after(seconds: 30)
        while !deadline.hasPassed {
            if let reply = httpExchange(port: port, path: "/-/ready"), reply.status == 200 { return true }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            usleep(100_000)
        }
        return false
    }

    /// `GET path` on Prometheus's API, its `data` member.
    public func api(_ path: String) throws -> Any {
        guard let reply = httpExchange(port: port, path: path, timeout: 10) else { throw LabSetupError("prometheus did not answer \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
              object["status"] as? String == "success", let data = object["data"] else {
            throw LabSetupError("prometheus answered \(path) with \(reply.status): \(reply.body.prefix(1000))")
        }
        return data
    }

    /// An instant query's vector: each sample's labels and value.
    public func query(_ promQL: String) throws -> [(labels: [String: String], value: Double)] {
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promQL
        guard let data = try api("/api/v1/query?query=\(encoded)") as? [String: Any], let result = data["result"] as? [[String: Any]] else {
            throw LabSetupError("prometheus's answer to \(promQL) has no result vector")
        }
        return result.map { sample in
            let labels = sample["metric"] as? [String: String] ?? [:]
            let value = (sample["value"] as? [Any])?.last.flatMap { $0 as? String }.flatMap(Double.init) ?? .nan
            return (labels, value)
        }
    }

    /// The active targets of /api/v1/targets: job, scrape URL, health ("up"), last error.
    public func targets() throws -> [(job: String, url: String, health: String, lastError: String)] {
        guard let data = try api("/api/v1/targets") as? [String: Any], let active = data["activeTargets"] as? [[String: Any]] else {
            throw LabSetupError("prometheus's /api/v1/targets has no activeTargets")
        }
        return active.map { target in
            let labels = target["labels"] as? [String: String] ?? [:]
            return (labels["job"] ?? "", target["scrapeUrl"] as? String ?? "", target["health"] as? String ?? "", target["lastError"] as? String ?? "")
        }
    }

    /// The alerts of /api/v1/alerts: name, state (pending, firing) and labels.
    public func alerts() throws -> [(name: String, state: String, labels: [String: String])] {
        guard let data = try api("/api/v1/alerts") as? [String: Any], let alerts = data["alerts"] as? [[String: Any]] else {
            throw LabSetupError("prometheus's /api/v1/alerts has no alerts list")
        }
        return alerts.map { alert in
            let labels = alert["labels"] as? [String: String] ?? [:]
            return (labels["alertname"] ?? "", alert["state"] as? String ?? "", labels)
        }
    }

    /// Polls `condition` until it gives a value or `seconds` pass (nil); errors count as "not yet".
    public func wait<T>(seconds: Double, _ condition: () throws -> T?) -> T? {
        var found: T?
        _ = eventually(seconds) {
            found = try? condition()
            if found == nil { usleep(250_000) }
            return found != nil
        }
        return found
    }

    /// Prometheus's own log (warnings and errors), for a failure message.
    public var log: String { (try? Files.readText("\(directory)/prometheus.log")).map { String($0.suffix(3000)) } ?? "" }
}

/// Debian's prometheus-node-exporter with only its textfile collector, reading `textfileDirectory`,
/// on 127.0.0.1 at a port free at start; stopped by its PID.
public final class NodeExporterFixture {
    public let port: Int
    public let pid: pid_t

    public init(textfileDirectory: String) throws {
        guard let exporter = Executables.find("prometheus-node-exporter") else {
            throw LabSetupError("prometheus-node-exporter is not installed (assets/setup.sh installs it)")
        }
        for _ in 0..<3 {
            let port = Int(try DemoFleet.freeTCPPort().value)
            let started = Executables.spawn(exporter, ["--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                                                       "--collector.textfile", "--collector.textfile.directory=\(textfileDirectory)"])
            guard case .success(let pid) = started else { throw LabSetupError("cannot start prometheus-node-exporter: \(started)") }
            let deadline = Deadline.after(seconds: 15)
            while !deadline.hasPassed {
                if let reply = httpExchange(port: port, path: "/metrics"), reply.status == 200 {
                    self.port = port
                    self.pid = pid
                    return
                }
                usleep(100_000)
            }
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
        throw LabSetupError("prometheus-node-exporter did not answer on 127.0.0.1")
    }

    deinit { stopChild(pid, seconds: 5) }
}

/// One HTTP/1.0 request to 127.0.0.1:port (the connection closes after the answer): status, head, body.
public func httpExchange(port: Int, method: String = "GET", path: String, timeout: Double = 5, headers: [String] = []) -> (status: Int, head: String, body: String)? {
    let extra = headers.map { "\($0)\r\n" }.joined()
    guard let reply = tcpExchange(port: port, send: "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\(extra)\r\n", timeout: timeout),
          let split = reply.range(of: "\r\n\r\n") else { return nil }
    let head = String(reply[..<split.lowerBound])
    let fields = head.split(separator: " ", maxSplits: 2)
    guard fields.count >= 2, let status = Int(fields[1]) else { return nil }
    return (status, head, String(reply[split.upperBound...]))
}

/// Stops our child `pid`: SIGTERM, then SIGKILL if it has not ended within `seconds`; reaped either way.
public func stopChild(_ pid: pid_t, seconds: Double) {
    kill(pid, SIGTERM)
    if !waitExit(pid, seconds: seconds) {
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
    }
}

/// Waits up to `seconds` for our child `pid` to end (reaped); false if it still runs.
public func waitExit(_ pid: pid_t, seconds: Double) -> Bool {
    let deadline = Deadline.after(seconds: seconds)
    var status: Int32 = 0
    while !deadline.hasPassed {
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid || (rc < 0 && errno == ECHILD) { return true }
        usleep(50_000)
    }
    return false
}
