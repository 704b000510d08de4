/// Command-line options of slirpmon-bench.
struct BenchOptions {
    var sizes = [1, 100, 500]
    var runs = 10
    var fwdRuns = 3
    var fwdCount = 1000
    var fwdPort = 30000
    var tuiN = 100
    var tuiSeconds = 60.0
    var logRuns = 20
    var portBase = 20000
    var output = "assets/bench-latest.json"
    var slirpmon: String?
    /// Only the instances and `slirpmon serve`'s rows (scrape beside list --json, idle CPU).
    var serveOnly = false
    var serveIdleSeconds = 30.0
    /// --output given: with --serve-only, assets/bench-latest.json (the whole table) is left alone otherwise.
    var outputGiven = false
    var help = false

    static let usage = """
    usage: slirpmon-bench [--sizes 1,100,500] [--runs 10] [--fwd-runs 3] [--fwd-count 1000] [--fwd-port 30000]
                          [--tui-n 100] [--tui-seconds 60] [--log-runs 20] [--port-base 20000]
                          [--output assets/bench-latest.json] [--slirpmon PATH]
                          [--serve-only] [--serve-idle SECONDS]

    Starts N real slirp4netns instances (root: `ip netns add slirpmon-bench-<pid>-iK`), each
    with an API socket and 5 forwards on 127.0.0.1:PORT_BASE+5K..., and measures slirpmon
    beside its baselines (ps + socat, ps alone, a raw-socket loop, htop), and `fwd` on a real
    RootlessKit instance beside rootlessctl (run as the user slirpmon-bench, created when
    missing). Needs socat, tmux, htop, rootlesskit and setpriv. Everything it starts is removed at the end, on errors and on Ctrl-C.
    The slirpmon binary defaults to the one next to this executable (build it with
    `swift build -c release` first). `slirpmon serve` (its slirpmon-serve beside slirpmon) is
    scraped at each size beside `list --json`, and its CPU read over --serve-idle seconds (30)
    without a scrape; --serve-only measures only these.
    """

    static func parse(_ args: [String]) throws -> BenchOptions {
        var o = BenchOptions()
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        func int(_ text: String) throws -> Int {
            guard let n = Int(text), n >= 0 else { throw BenchError("not a count: \(text)") }
            return n
        }
        while i < args.count {
            switch args[i] {
            case "--sizes":
                o.sizes = try value().split(separator: ",").map { try int(String($0)) }
                guard !o.sizes.isEmpty, o.sizes.allSatisfy({ $0 >= 1 && $0 <= 1000 }) else { throw BenchError("--sizes: 1...1000 each") }
            case "--runs": o.runs = max(1, try int(try value()))
            case "--fwd-runs": o.fwdRuns = max(1, try int(try value()))
            case "--fwd-count": o.fwdCount = max(1, min(1000, try int(try value())))
            case "--fwd-port": o.fwdPort = max(1, min(64000, try int(try value())))
            case "--tui-n": o.tuiN = max(1, try int(try value()))
            case "--tui-seconds":
                guard let s = Double(try value()), s >= 1 else { throw BenchError("--tui-seconds: at least 1") }
                o.tuiSeconds = s
            case "--log-runs": o.logRuns = max(1, try int(try value()))
            case "--port-base": o.portBase = try int(try value())
            case "--output": o.output = try value(); o.outputGiven = true
            case "--slirpmon": o.slirpmon = try value()
            case "--serve-only": o.serveOnly = true
            case "--serve-idle":
                guard let s = Double(try value()), s >= 1, s <= 3600 else { throw BenchError("--serve-idle: 1...3600 seconds") }
                o.serveIdleSeconds = s
            case "-h", "--help": o.help = true
            default: throw BenchError("unknown argument \(args[i])")
            }
            i += 1
        }
        return o
    }
}
