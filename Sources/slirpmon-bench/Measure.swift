#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SlirpCore

/// Median, minimum and maximum of repeated samples.
struct Stats {
    let samples: [Double]
    var median: Double {
        let s = samples.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var min: Double { samples.min() ?? .nan }
    var max: Double { samples.max() ?? .nan }
    var mean: Double { samples.isEmpty ? .nan : samples.reduce(0, +) / Double(samples.count) }
    var json: [String: Any] {
        ["median": jsonNumber(median), "mean": jsonNumber(mean), "min": jsonNumber(min), "max": jsonNumber(max), "samples": samples.map(jsonNumber)]
    }
}

/// A number for JSON: null when not finite (a ratio to a zero baseline, no samples).
func jsonNumber(_ v: Double) -> Any { v.isFinite ? v : NSNull() }

/// Clocks and process costs.
enum Measure {
    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// CPU seconds used by this process (all threads).
    static func processCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Wall seconds of one run of a program (output collected and discarded); fails on a non-zero exit.
    static func wall(_ program: String, _ args: [String], timeout: Double = 120) throws -> Double {
        let start = monotonic()
        let result = Executables.run(program, args, timeout: timeout)
        let elapsed = monotonic() - start
        switch result {
        case .success(let out) where out.status == 0: return elapsed
        case .success(let out): throw BenchError("\(program) \(args.joined(separator: " ")) exited \(out.status): \(out.stderr.prefix(300))")
        case .failure(let e): throw BenchError("\(program) failed: \(e)")
        }
    }

    /// `runs` timed samples after one untimed warm-up.
    static func repeated(_ runs: Int, warmUp: Bool = true, _ body: () throws -> Double) rethrows -> Stats {
        if warmUp { _ = try body() }
        var samples: [Double] = []
        for _ in 0..<max(1, runs) { samples.append(try body()) }
        return Stats(samples: samples)
    }

    /// CPU seconds of a process and of the children it waited for (utime, stime, cutime, cstime
    /// of /proc/PID/stat): what the monitor spends on `podman ps` counts too.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? Files.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is at 0, so utime (14) .. cstime (17) are at 11...14.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14 else { return nil }
        let ticks = fields[11...14].compactMap { Double($0) }
        guard ticks.count == 4 else { return nil }
        return ticks.reduce(0, +) / ProcessScanner.ticksPerSecond
    }

    /// Peak resident set (VmHWM) in bytes.
    static func peakRSS(pid: Int32) -> Double? {
        guard let text = try? Files.readText("/proc/\(pid)/status"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
        return kb * 1024
    }

    /// The 1-minute load average.
    static func loadAverage() -> String {
        ((try? Files.readText("/proc/loadavg")) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
