import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// One GET /metrics over HTTP/1.0 to 127.0.0.1:port: wall seconds and the number of instances on the page.
func scrapeMetrics(port: Int) throws -> (seconds: Double, instances: Int) {
    let start = Measure.monotonic()
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw BenchError("connect to slirpmon serve on 127.0.0.1:\(port) failed") }
    let request = Array("GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { throw BenchError("send failed") }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        reply += buffer[0..<n]
    }
    let seconds = Measure.monotonic() - start
    let text = String(decoding: reply, as: UTF8.self)
    guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200") else { throw BenchError("scrape answered: \(text.prefix(300))") }
    return (seconds, text.split(separator: "\n").filter { $0.hasPrefix("slirpmon_instance_defunct{") }.count)
}

/// `slirpmon serve` beside `slirpmon list --json`: one scrape of /metrics at N instances (issue
/// 20: at most 1.5x `list --json`), and the serving process's CPU while nobody scrapes (≈0).
/// The server is the installed pair: `slirpmon serve` execs the slirpmon-serve beside it.
final class ServeBench {
    /// The run its figures go to.
    let bench: Bench
    /// The serving process (slirpmon, then slirpmon-serve after its exec: the same PID).
    let pid: pid_t
    /// Its port on 127.0.0.1, chosen by the kernel (--listen 127.0.0.1:0).
    let port: Int

    init(bench: Bench) throws {
        self.bench = bench
        let errPath = "\(bench.directory)/serve.err"
        let fd = open(errPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BenchError("cannot create \(errPath)") }
        defer { close(fd) }
        guard case .success(let pid) = Executables.spawn(bench.slirpmon, ["serve", "--listen", "127.0.0.1:0", "--scrape-timeout", "120"],
                                                         descriptors: [2: fd]) else {
            throw BenchError("cannot start \(bench.slirpmon) serve")
        }
        self.pid = pid
        Cleanup.shared.add("serve") {
            kill(pid, SIGTERM)
            Executables.waitFor(pid)
            unlink(errPath)
        }
        let deadline = Deadline.after(seconds: 20)
        var found: Int?
        while found == nil && !deadline.hasPassed {
            let text = (try? Files.readText(errPath)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("serving http://127.0.0.1:") }),
               let tail = line.split(separator: ":").last?.split(separator: "/").first {
                found = Int(tail)
            }
            usleep(50_000)
        }
        guard let found else { throw BenchError("slirpmon serve printed no serving line: \((try? Files.readText(errPath)) ?? "")") }
        port = found
    }

    /// A scrape and `list --json` interleaved, each run again as a poller runs them.
    func measureScrape(n: Int) throws {
        bench.log("serve: one scrape at N=\(n)")
        usleep(2_100_000) // a new page, not the one of the size before
        let seen = try scrapeMetrics(port: port).instances
        guard seen >= n else { throw BenchError("the scrape found \(seen) instances, expected at least \(n)") }
        // Each with Podman's answer kept (list's for 5 s on disk, the server's while Podman's state
        // files stay the same), one after the other, not interleaved: a list that asks a user's
        // Podman may have it rewrite its state files, and the server would ask again. The scrapes
        // 2.1 s apart: past the 2 s in which the server answers a page again.
        _ = try Measure.wall(bench.slirpmon, ["list", "--json"])
        var scrapes: [Double] = [], lists: [Double] = []
        for _ in 0..<bench.options.runs {
            lists.append(try Measure.wall(bench.slirpmon, ["list", "--json"]))
        }
        usleep(2_100_000)
        _ = try scrapeMetrics(port: port)
        for _ in 0..<bench.options.runs {
            usleep(2_100_000)
            scrapes.append(try scrapeMetrics(port: port).seconds)
        }
        var figure = Figure(key: "serve_scrape", title: "slirpmon serve: one scrape of /metrics (wall)", n: n, unit: "s",
                            slirpmon: Stats(samples: scrapes),
                            baselines: [.init(name: "slirpmon list --json, run again", stats: Stats(samples: lists))],
                            note: "instances on the page: \(seen) (ours: \(n)); each page reads what list reads and every tap's counters, each namespace's addresses every 30 s")
        let ratio = figure.ratio(figure.baselines[0])
        figure.target = "≤1.5x list --json (\(Show.ratio(ratio)))"
        figure.met = ratio <= 1.5
        bench.figures.append(figure)
    }

    /// CPU of the serving process over `seconds` with no scrape (from /proc/PID/stat).
    func measureIdle(seconds: Double) throws {
        bench.log("serve: CPU over \(Int(seconds)) s without a scrape")
        usleep(1_000_000) // the last scrape's connection closed and its work done
        guard let before = Measure.cpuSeconds(pid: pid) else { throw BenchError("no /proc/\(pid)/stat") }
        usleep(UInt32(seconds * 1e6))
        guard let after = Measure.cpuSeconds(pid: pid) else { throw BenchError("slirpmon serve exited while idle") }
        var figure = Figure(key: "serve_idle_cpu", title: "slirpmon serve: CPU over \(Int(seconds)) s idle", n: nil, unit: "cpu-s",
                            slirpmon: Stats(samples: [after - before]),
                            note: "utime+stime of the serving process (/proc/PID/stat, 10 ms ticks) between scrapes")
        figure.target = "≈0: < 1 tick per 30 s"
        figure.met = (after - before) < 0.01 * max(1, seconds / 30)
        bench.figures.append(figure)
    }
}
