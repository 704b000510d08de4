import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// The benchmark itself is run by hand (README, "Performance"); this keeps its code from rotting.
@Suite("The benchmark, run small", .enabled(if: isRoot, "needs root for ip netns"))
struct BenchmarkSmokeTests {
    @Test("slirpmon-bench with N=2 and one repetition writes every figure to its JSON")
    func smallRun() throws {
        try #require(Executables.find("socat") != nil, "socat is not installed: the benchmark's baseline needs it (apt-get install socat)")
        try #require(Executables.find("tmux") != nil, "tmux is not installed: the benchmark's monitor figures need it (apt-get install tmux)")
        let bench = (slirpmonBinary as NSString).deletingLastPathComponent + "/slirpmon-bench"
        try #require(Files.exists(bench), "slirpmon-bench is built next to slirpmon")
        let output = "/tmp/slirpmon-bench-smoke-\(getpid()).json"
        defer { unlink(output) }
        let base = 41000 + Int(getpid() % 2000) * 5
        let run = Executables.run(bench, ["--sizes", "2", "--runs", "1", "--fwd-runs", "1", "--fwd-count", "10", "--fwd-port", String(base + 20),
                                          "--tui-n", "2", "--tui-seconds", "2", "--log-runs", "1", "--port-base", String(base),
                                          "--serve-idle", "1", "--output", output, "--slirpmon", slirpmonBinary], timeout: 300)
        guard case .success(let result) = run else { Issue.record("could not run \(bench)"); return }
        #expect(result.status == 0, "\(result.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let figures = try #require(json["figures"] as? [[String: Any]])
        let keys = Set(figures.compactMap { $0["key"] as? String })
        let expected: Set = ["list_json", "refresh_cpu", "refresh_wall", "fwd_add", "fwd_probe", "log_open", "log_open_64k", "log_open_512k", "tui_cpu", "tui_rss", "tui_bytes",
                              "serve_scrape", "serve_idle_cpu"]
        #expect(expected.isSubset(of: keys), "missing: \(expected.subtracting(keys))")
        for figure in figures {
            let stats = try #require(figure["slirpmon"] as? [String: Any])
            #expect(stats["median"] is Double, "\(figure["key"] ?? "?") has a median")
        }
        let list = try #require(figures.first { $0["key"] as? String == "list_json" })
        #expect((list["baselines"] as? [Any])?.count == 2, "ps + socat and ps alone")
        // Nothing is left behind.
        let leftovers = ((try? Files.directoryEntries("/run/netns")) ?? []).filter { $0.hasPrefix("slirpmon-bench-") }
        let ours = leftovers.filter { name in
            guard let pid = Int32(name.split(separator: "-").dropFirst(2).first ?? "") else { return false }
            return kill(pid, 0) != 0
        }
        #expect(ours.isEmpty, "namespaces of finished benchmarks: \(ours)")
    }
}
