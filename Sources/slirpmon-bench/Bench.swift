import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// The benchmark run: grows a lab of real slirp4netns instances and measures each figure.
final class Bench {
    let options: BenchOptions
    let lab: SlirpLab
    let directory: String
    let prefix: String
    let slirpmon: String
    let selfPath: String
    let tools: (bash: String, ps: String, socat: String, tmux: String, htop: String?)
    var figures: [Figure] = []
    private var started = 0

    init(_ options: BenchOptions) throws {
        self.options = options
        guard geteuid() == 0 else { throw BenchError("run as root: the instances live in `ip netns` namespaces") }
        selfPath = (try? Files.readLink("/proc/self/exe")) ?? CommandLine.arguments[0]
        let sibling = (selfPath as NSString).deletingLastPathComponent + "/slirpmon"
        slirpmon = options.slirpmon ?? sibling
        guard access(slirpmon, X_OK) == 0 else { throw BenchError("no slirpmon binary at \(slirpmon): swift build -c release first, or --slirpmon PATH") }
        func need(_ tool: String, _ package: String) throws -> String {
            guard let path = Executables.find(tool) else { throw BenchError("\(tool) is not installed: apt-get install \(package)") }
            return path
        }
        tools = (try need("bash", "bash"), try need("ps", "procps"), try need("socat", "socat"), try need("tmux", "tmux"), Executables.find("htop"))
        prefix = "slirpmon-bench-\(getpid())"
        // The lab's own private directory (mkdtemp, 0700): the scripts run from it as root.
        do { lab = try SlirpLab(prefix: prefix) } catch { throw BenchError("\(error)") }
        directory = lab.directory
        let lab = lab, prefix = prefix, directory = directory
        Cleanup.shared.add("lab") {
            lab.tearDown()
            // Namespaces of an instance interrupted mid-start.
            if let ip = Executables.find("ip"), let names = try? Files.directoryEntries("/run/netns") {
                for name in names where name.hasPrefix(prefix + "-") { _ = Executables.run(ip, ["netns", "delete", name], timeout: 5) }
            }
            if let names = try? Files.directoryEntries(directory) { for n in names { unlink("\(directory)/\(n)") } }
            rmdir(directory)
        }
    }

    func run() throws {
        log("load average \(Measure.loadAverage()); slirpmon \(slirpmon); runs \(options.runs)")
        try writeScripts()
        let steps = Set(options.sizes + (options.serveOnly ? [] : [options.tuiN])).sorted()
        let serve = try ServeBench(bench: self)
        for (k, size) in steps.enumerated() {
            try grow(to: size)
            if options.serveOnly {
                try serve.measureScrape(n: size)
                continue
            }
            // Forwards are added with the fewest and with the most instances running.
            if k == 0 { try measureForwards() }
            if options.sizes.contains(size) {
                try measureList(n: size)
                try measureRefresh(n: size)
                try serve.measureScrape(n: size)
            }
            if size == options.tuiN { try measureMonitor(n: size) }
        }
        try serve.measureIdle(seconds: options.serveIdleSeconds)
        if options.serveOnly { return try report() }
        if steps.count > 1 { try measureForwards() }
        try measureProbe()
        try measureLog()
        try RootlessKitBench(bench: self, count: 100, firstPort: options.fwdPort + options.fwdCount).run()
        try report()
    }

    /// The table on stdout and in the JSON file.
    func report() throws {
        evaluateTargets()
        let table = Show.table(figures)
        let load = Measure.loadAverage()
        TerminalOutput.block(table, to: 1)
        TerminalOutput.block("load average at the end: \(load)", to: 1)
        guard !options.serveOnly || options.outputGiven else { return }
        try writeJSON(load: load)
        log("wrote \(options.output)")
    }

    // MARK: set-up

    func log(_ line: String) { TerminalOutput.errorLine("bench: \(line)") }

    /// Starts instances until `size` of ours run, each with an API socket and 5 forwards.
    func grow(to size: Int) throws {
        let begin = Measure.monotonic()
        while started < size {
            let k = started
            let forwards = (0..<5).compactMap { j -> ForwardRequest? in
                guard let host = Port(options.portBase + k * 5 + j), let guest = Port(80 + j) else { return nil }
                return ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: host, guestPort: guest)
            }
            do { try lab.start(SlirpLab.Spec(name: "i\(k)", forwards: forwards)) } catch { throw BenchError("starting instance \(k): \(error)") }
            started += 1
        }
        log(String(format: "%d instances running (%.1f s to start)", started, Measure.monotonic() - begin))
    }

    var listScript: String { "\(directory)/ps-socat-list.sh" }
    var addScript: String { "\(directory)/socat-add.sh" }

    /// The shell baseline of `list`: processes, then list_hostfwd on each API socket in `directory`.
    static func listScript(directory: String) -> String {
        """
        #!/bin/bash
        # The facts of `slirpmon list` the shell way: processes, then list_hostfwd on each API socket.
        # Only our own instances' sockets (in our private directory): this runs as root, and any
        # user can start a process named slirp4netns whose --api-socket names another service's socket.
        ps -eo pid,args | awk -v dir='\(directory)/' '$2 ~ /(^|\\/)slirp4netns$/ { for (i = 3; i < NF; i++) if ($i == "--api-socket" && index($(i + 1), dir) == 1) print $1, $(i + 1) }' |
        while read -r pid sock; do
          printf '%s ' "$pid"
          echo '{"execute":"list_hostfwd"}' | socat - UNIX-CONNECT:"$sock"
          echo
        done

        """
    }

    /// The shell baselines, as an operator would write them.
    func writeScripts() throws {
        let list = Self.listScript(directory: directory)
        let add = """
        #!/bin/bash
        # add_hostfwd for ports $2..$2+$3-1 on socket $1, one socat per request.
        for ((p = $2; p < $2 + $3; p++)); do
          echo "{\\"execute\\":\\"add_hostfwd\\",\\"arguments\\":{\\"proto\\":\\"tcp\\",\\"host_addr\\":\\"127.0.0.1\\",\\"host_port\\":$p,\\"guest_port\\":$p}}" | socat - UNIX-CONNECT:"$1" >/dev/null || exit 1
        done

        """
        try SafeFiles.writeNew(Array(list.utf8), to: listScript, mode: 0o700)
        try SafeFiles.writeNew(Array(add.utf8), to: addScript, mode: 0o700)
    }

    // MARK: 1. slirpmon list --json

    func measureList(n: Int) throws {
        log("list at N=\(n)")
        // Same facts: check the shell sees every instance we started.
        let seen = try runOK(tools.bash, [listScript])
        let ours = seen.split(separator: "\n").filter { $0.contains("\"entries\"") }.count
        guard ours >= n else { throw BenchError("the shell baseline found \(ours) API sockets, expected at least \(n)") }
        let listed = try runOK(slirpmon, ["list", "--json"])
        let instances = listed.components(separatedBy: "\"kind\" : \"instance\"").count - 1
        guard instances >= n else { throw BenchError("slirpmon list found \(instances) instances, expected at least \(n)") }

        // `list` asks an instance again only when its log shows a request since its last answer
        // (`RequestAudit`); the shell baseline asks every instance, so the run right after it asks
        // them all too. Each round measures both: right after the baseline ("asking": every
        // instance asked) and once more ("run again": nothing asked since, what a script polling
        // `list` gets). Interleaved, so a burst of load hits every contender alike.
        var again: [Double] = [], asking: [Double] = [], shell: [Double] = [], ps: [Double] = []
        _ = try Measure.wall(slirpmon, ["list", "--json"])
        _ = try Measure.wall(tools.bash, [listScript])
        _ = try Measure.wall(tools.ps, ["-eo", "pid,args"])
        for _ in 0..<options.runs {
            shell.append(try Measure.wall(tools.bash, [listScript]))
            asking.append(try Measure.wall(slirpmon, ["list", "--json"]))
            again.append(try Measure.wall(slirpmon, ["list", "--json"]))
            ps.append(try Measure.wall(tools.ps, ["-eo", "pid,args"]))
        }
        let baselines: [Figure.Baseline] = [.init(name: "ps + socat list_hostfwd (bash)", stats: Stats(samples: shell)),
                                            .init(name: "ps -eo pid,args", stats: Stats(samples: ps))]
        figures.append(Figure(key: "list_json", title: "slirpmon list --json, run again (wall)", n: n, unit: "s", slirpmon: Stats(samples: again),
                              baselines: baselines,
                              note: "instances on the host: \(instances) (ours: \(n)); no request since the run before: each forward list proven by its log, none asked"))
        figures.append(Figure(key: "list_json_asking", title: "slirpmon list --json, every instance asked (wall)", n: n, unit: "s",
                              slirpmon: Stats(samples: asking), baselines: baselines,
                              note: "right after the ps+socat baseline asked every instance: each log shows a request, so each is asked"))
    }

    // MARK: 2. one in-process refresh

    func measureRefresh(n: Int) throws {
        // Warm: one Inventory refreshed again and again with its cache, as the monitor runs it at -d 1,
        // for as many refreshes as it keeps a namespace: the runs include their share of re-reads. Cold: read anew.
        try measureRefresh(n: n, cache: InventoryCache(addressMaxAge: InventoryCache.monitorAddressMaxAge), key: "refresh",
                           title: "in-process refresh, warm as in the monitor")
        try measureRefresh(n: n, cache: nil, key: "refresh_cold", title: "in-process refresh, cold as in one command")
    }

    func measureRefresh(n: Int, cache: InventoryCache?, key: String, title: String) throws {
        log("\(title) at N=\(n)")
        // Every instance read whole and its forwards listed (with a cache: as `list` proves them by the log).
        var options = Inventory.Options(purpose: .scriptedList(forwards: true, cache: cache))
        options.readAddresses = true
        let inventory = Inventory(options: options)
        var cpu: [Double] = [], wall: [Double] = []
        var count = 0
        let ours = Set(lab.running.map(\.pid))
        let runs = cache == nil ? self.options.runs : max(self.options.runs, Int(InventoryCache.monitorAddressMaxAge))
        for i in 0...runs {
            // Warm runs are a second apart, as the monitor's at -d 1: the namespaces' re-reads fall among them.
            if cache != nil && i > 0 { usleep(1_000_000) }
            let c0 = Measure.processCPU(), w0 = Measure.monotonic()
            count = try ProfileRefresh.profileRefresh(inventory, ours: ours)
            let c1 = Measure.processCPU(), w1 = Measure.monotonic()
            if i > 0 { cpu.append(c1 - c0); wall.append(w1 - w0) } // the first is a warm-up
        }
        let note = "Inventory.collect (discovery, socket check, namespace addresses, forward lists: list_hostfwd, or with the cache the list kept while the log shows no request since) + a 4 KiB log tail each, of our \(count) instances"
        figures.append(Figure(key: "\(key)_cpu", title: "\(title) (CPU)", n: n, unit: "s", slirpmon: Stats(samples: cpu), note: note))
        figures.append(Figure(key: "\(key)_wall", title: "\(title) (wall)", n: n, unit: "s", slirpmon: Stats(samples: wall), note: note))
    }

    // MARK: 3. adding forwards

    func measureForwards() throws {
        let count = options.fwdCount
        log("adding \(count) forwards, \(options.fwdRuns) runs")
        let first = options.fwdPort
        let mapping = "127.0.0.1:\(first)-\(first + count - 1):\(first)-\(first + count - 1)"
        var slirp: [Double] = [], shell: [Double] = [], raw: [Double] = []
        var round = 0
        func fresh(_ body: (SlirpLab.Instance, String) throws -> Double) throws -> Double {
            round += 1
            let instance: SlirpLab.Instance
            do { instance = try lab.start(SlirpLab.Spec(name: "fwd\(round)")) } catch { throw BenchError("starting the forward target: \(error)") }
            defer { lab.stop(instance) }
            guard let socket = instance.apiSocket else { throw BenchError("no API socket") }
            let elapsed = try body(instance, socket)
            let listed = (try? APIClient(socketPath: socket, expectedPID: instance.pid).list().count) ?? -1
            guard listed == count else { throw BenchError("after the run \(listed) forwards are listed, expected \(count)") }
            return elapsed
        }
        for _ in 0..<options.fwdRuns {
            slirp.append(try fresh { i, _ in try Measure.wall(slirpmon, ["fwd", "add", "pid:\(i.pid)", mapping]) })
            raw.append(try fresh { _, s in try Measure.wall(selfPath, ["raw-add", s, String(first), String(count)]) })
            shell.append(try fresh { _, s in try Measure.wall(tools.bash, [addScript, s, String(first), String(count)], timeout: 600) })
        }
        figures.append(Figure(key: "fwd_add", title: "fwd add \(count) forwards (wall), beside N", n: started, unit: "s", slirpmon: Stats(samples: slirp),
                              baselines: [.init(name: "raw-socket loop (floor)", stats: Stats(samples: raw)),
                                          .init(name: "socat loop (bash)", stats: Stats(samples: shell))]))
    }

    // MARK: 4. the monitor left open

    func measureMonitor(n: Int) throws {
        let seconds = options.tuiSeconds
        log("monitor and htop open for \(Int(seconds)) s at N=\(n)")
        let server = prefix
        let tmux = tools.tmux
        // tmux leaves its socket file behind after kill-server: remove it too.
        let socket = "\(ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp")/tmux-\(getuid())/\(server)"
        Cleanup.shared.add("tmux") { _ = Executables.run(tmux, ["-L", server, "kill-server"], timeout: 5); unlink(socket) }
        defer {
            _ = Executables.run(tmux, ["-L", server, "kill-server"], timeout: 5)
            unlink(socket)
            Cleanup.shared.remove("tmux")
        }
        let (width, height) = (160, 50)
        var sessions = [("mon", "exec \(slirpmon) -d 1")]
        if let htop = tools.htop { sessions.append(("htop", "exec \(htop) -d 10")) }
        var pids: [String: Int32] = [:]
        var files: [String: String] = [:]
        for (name, command) in sessions {
            _ = try runOK(tmux, ["-L", server, "-f", "/dev/null", "new-session", "-d", "-s", name, "-x", String(width), "-y", String(height), command])
            let file = "\(directory)/\(name).bytes"
            files[name] = file
            _ = try runOK(tmux, ["-L", server, "pipe-pane", "-t", name, "-o", "cat >> \(file)"])
            let pid = try runOK(tmux, ["-L", server, "display-message", "-p", "-t", name, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let p = Int32(pid) else { throw BenchError("no pane pid for \(name)") }
            pids[name] = p
        }
        sleep(5) // both drawn once, the first scan done
        func bytes(_ name: String) -> Double { Double((try? Files.status(files[name] ?? "").st_size) ?? 0) }
        func cpu(_ name: String) -> Double { pids[name].flatMap(Measure.cpuSeconds) ?? .nan }
        let windows = max(1, Int(seconds / 10))
        let window = seconds / Double(windows)
        var perRefresh: [String: [Double]] = [:]
        let cpu0 = sessions.map { cpu($0.0) }
        for _ in 0..<windows {
            let before = sessions.map { bytes($0.0) }
            usleep(UInt32(window * 1e6))
            for (k, s) in sessions.enumerated() { perRefresh[s.0, default: []].append((bytes(s.0) - before[k]) / window) }
        }
        let cpuUsed = sessions.enumerated().map { k, s in cpu(s.0) - cpu0[k] }
        let rss = sessions.map { pids[$0.0].flatMap(Measure.peakRSS) ?? .nan }
        for (name, _) in sessions {
            guard let pid = pids[name], kill(pid, 0) == 0 else { throw BenchError("\(name) exited during the idle run") }
        }
        let htopAt = sessions.count > 1 ? 1 : nil
        func baseline(_ values: [Double]) -> [Figure.Baseline] {
            guard htopAt != nil else { return [] }
            return [.init(name: "htop -d 10", stats: Stats(samples: values.count == 1 ? [values[0]] : values))]
        }
        let note = "both in tmux \(width)x\(height) over the same \(Int(seconds)) s, --delay 1"
        figures.append(Figure(key: "tui_cpu", title: "monitor idle \(Int(seconds)) s (CPU s)", n: n, unit: "cpu-s",
                              slirpmon: Stats(samples: [cpuUsed[0]]), baselines: htopAt.map { [Figure.Baseline(name: "htop -d 10", stats: Stats(samples: [cpuUsed[$0]]))] } ?? [],
                              note: note))
        figures.append(Figure(key: "tui_rss", title: "monitor peak RSS (VmHWM)", n: n, unit: "bytes",
                              slirpmon: Stats(samples: [rss[0]]), baselines: htopAt.map { [Figure.Baseline(name: "htop -d 10", stats: Stats(samples: [rss[$0]]))] } ?? [],
                              note: note))
        figures.append(Figure(key: "tui_bytes", title: "terminal bytes per refresh, idle", n: n, unit: "bytes",
                              slirpmon: Stats(samples: perRefresh["mon"] ?? []), baselines: baseline(perRefresh["htop"] ?? []),
                              note: note + "; per \(Int(window)) s window, bytes tmux received / seconds; a full screen is \(width * height) cells"))
    }

    // MARK: 5. the log pane on a 1 GiB log

    func measureLog() throws {
        log("log tails, 1 GiB vs 1 KiB")
        let big = try logHolder(name: "big", size: 1 << 30)
        let small = try logHolder(name: "small", size: 1024)
        func sample(_ pid: Int32, _ maxBytes: Int) throws -> Double {
            let k = 20
            let start = Measure.monotonic()
            for _ in 0..<k {
                let log = try UnlinkedLog(pid: pid)
                let chunk = try log.tail(maxBytes: maxBytes)
                guard !chunk.lines.isEmpty else { throw BenchError("empty log") }
            }
            return (Measure.monotonic() - start) / Double(k)
        }
        // The same tail from both logs shows what the file's size costs (the target); the
        // larger tails show what reading more of the 1 GiB log costs (the 1 KiB log has no more).
        for (key, maxBytes, title) in [("log_open", 1 << 10, "log open + 1 KiB tail"),
                                       ("log_open_64k", 64 << 10, "log open + 64 KiB tail (slirpmon log)"),
                                       ("log_open_512k", 512 << 10, "log open + 512 KiB tail (monitor pane)")] {
            var b: [Double] = [], s: [Double] = []
            _ = try sample(big, maxBytes); _ = try sample(small, maxBytes)
            for _ in 0..<options.logRuns {
                b.append(try sample(big, maxBytes))
                s.append(try sample(small, maxBytes))
            }
            figures.append(Figure(key: key, title: title + ", 1 GiB log", n: nil, unit: "s", slirpmon: Stats(samples: b),
                                  baselines: [.init(name: "same, 1 KiB log", stats: Stats(samples: s))],
                                  note: "UnlinkedLog(pid:) + tail(maxBytes:) through /proc/PID/fd/1 of a process whose standard output is an unlinked sparse file; mean of 20 per sample"))
        }
    }

    /// A `sleep` whose stdout and stderr are an unlinked file of `size` bytes ending in log lines.
    func logHolder(name: String, size: Int64) throws -> Int32 {
        let path = "\(directory)/slirp4netns-\(name).log"
        let fd = try SafeFiles.createExclusive(path, readable: true)
        defer { fd.close() }
        unlink(path)
        var text = ""
        var k = 0
        let line = { (k: Int) in "api_handler: got request: {\"execute\":\"list_hostfwd\"} #\(k)\n" }
        let tailSize = min(Int(size), 1 << 20)
        while text.utf8.count + line(k).utf8.count <= tailSize { text += line(k); k += 1 }
        let bytes = Array(text.utf8)
        do {
            try fd.resize(to: size, path: path)
            try fd.writeAll(toAbsoluteOffset: size - Int64(bytes.count), bytes, path: path)
        } catch { throw BenchError("cannot write \(path)") }
        guard let sleepPath = Executables.find("sleep"), case .success(let pid) = Executables.spawn(sleepPath, ["3600"], descriptors: [1: fd.rawValue, 2: fd.rawValue]) else {
            throw BenchError("cannot start sleep")
        }
        Cleanup.shared.add("sleep-\(name)") { kill(pid, SIGKILL); Executables.waitFor(pid) }
        return pid
    }

    // MARK: targets and output

    func figure(_ key: String, n: Int? = nil) -> Int? {
        figures.firstIndex { $0.key == key && (n == nil || $0.n == n) }
    }

    func evaluateTargets() {
        let n = options.sizes.contains(100) ? 100 : options.sizes.max() ?? 1
        // The target is `list` as it is run again and again; "every instance asked" is shown beside
        // it for what a run costs right after another client asked them all.
        if let i = figure("list_json", n: n), figures[i].baselines.count == 2 {
            let shell = figures[i].ratio(figures[i].baselines[0]), ps = figures[i].ratio(figures[i].baselines[1])
            figures[i].target = "≥30x faster than ps+socat, ≤2x ps"
            figures[i].met = shell <= 1.0 / 30 && ps <= 2
        }
        if let a = figure("list_json", n: 100), let b = figure("list_json", n: 500) {
            let growth = figures[b].slirpmon.median / figures[a].slirpmon.median
            figures[b].target = String(format: "N=500 ≤ 5x N=100 (%.2fx)", growth)
            figures[b].met = growth <= 5
        }
        if let i = figure("refresh_cpu", n: n) {
            // The mean, not the median: one refresh in ten re-reads every namespace, and that counts.
            figures[i].target = String(format: "< 10 ms CPU on average (mean %.1f ms)", figures[i].slirpmon.mean * 1000)
            figures[i].met = figures[i].slirpmon.mean < 0.010
        }
        for i in figures.indices where figures[i].key == "fwd_add" && figures[i].baselines.count == 2 {
            figures[i].target = "≤1.3x raw, ≥20x faster than socat"
            figures[i].met = figures[i].ratio(figures[i].baselines[0]) <= 1.3 && figures[i].ratio(figures[i].baselines[1]) <= 1.0 / 20
        }
        if let i = figure("tui_cpu"), let h = figures[i].baselines.first {
            figures[i].target = "less CPU than htop"
            figures[i].met = figures[i].slirpmon.median < h.stats.median
        }
        if let i = figure("tui_rss") {
            figures[i].target = "< 30 MiB"
            figures[i].met = figures[i].slirpmon.median < 30 * 1048576
        }
        if let i = figure("tui_bytes") {
            figures[i].target = "≈0: < 1% of a full screen"
            figures[i].met = figures[i].slirpmon.median < 0.01 * 160 * 50
        }
        if let i = figure("log_open"), let s = figures[i].baselines.first {
            figures[i].target = "≤1.5x the 1 KiB log"
            figures[i].met = figures[i].ratio(s) <= 1.5
        }
    }

    func writeJSON(load: String) throws {
        var uname = utsname()
        Glibc.uname(&uname)
        let release = withUnsafePointer(to: uname.release) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
        let object: [String: Any] = [
            "date": ISO8601DateFormatter().string(from: Date()),
            "load_average": load,
            "cpus": sysconf(Int32(_SC_NPROCESSORS_ONLN)),
            "kernel": release,
            "runs": options.runs,
            "sizes": options.sizes,
            "slirpmon": slirpmon,
            "figures": figures.map(\.json),
            "table": Show.table(figures),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: options.output))
    }

    /// Runs a program and returns its stdout; a failure is an error.
    func runOK(_ program: String, _ args: [String], timeout: Double = 60) throws -> String {
        switch Executables.run(program, args, timeout: timeout) {
        case .success(let out) where out.status == 0: return out.stdout
        case .success(let out): throw BenchError("\(program) \(args.joined(separator: " ")) exited \(out.status): \(out.stderr.prefix(300))")
        case .failure(let e): throw BenchError("\(program) failed: \(e)")
        }
    }
}
