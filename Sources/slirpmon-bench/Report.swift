import Foundation

/// One line of the result table: a figure for slirpmon beside its baselines.
struct Figure {
    struct Baseline {
        let name: String
        let stats: Stats
    }
    /// Stable key, e.g. `list_json`.
    let key: String
    let title: String
    let n: Int?
    /// `s`, `bytes`, `cpu-s`.
    let unit: String
    let slirpmon: Stats
    var baselines: [Baseline] = []
    /// The target in words and whether it is met (nil: no target for this line).
    var target: String?
    var met: Bool?
    var note: String?

    func ratio(_ b: Baseline) -> Double { slirpmon.median / b.stats.median }

    var json: [String: Any] {
        var o: [String: Any] = ["key": key, "title": title, "unit": unit, "slirpmon": slirpmon.json]
        o["n"] = n ?? NSNull()
        o["baselines"] = baselines.map { ["name": $0.name, "stats": $0.stats.json, "ratio": jsonNumber(ratio($0))] as [String: Any] }
        o["target"] = target ?? NSNull()
        o["met"] = met ?? NSNull()
        o["note"] = note ?? NSNull()
        return o
    }
}

/// Human forms of the values.
enum Show {
    static func value(_ v: Double, _ unit: String) -> String {
        guard v.isFinite else { return "-" }
        switch unit {
        case "s", "cpu-s":
            if v < 1e-3 { return String(format: "%.1f µs", v * 1e6) }
            if v < 1 { return String(format: "%.2f ms", v * 1e3) }
            return String(format: "%.2f s", v)
        case "bytes":
            if v >= 1048576 { return String(format: "%.1f MiB", v / 1048576) }
            if v >= 1024 { return String(format: "%.1f KiB", v / 1024) }
            return String(format: "%.0f B", v)
        default:
            return String(format: "%.1f ", v) + unit
        }
    }

    static func range(_ s: Stats, _ unit: String) -> String {
        s.samples.count > 1 ? "\(value(s.median, unit)) [\(value(s.min, unit))–\(value(s.max, unit))]" : value(s.median, unit)
    }

    static func ratio(_ r: Double) -> String {
        guard r.isFinite else { return "-" }
        if r < 0.1 { return String(format: "%.3fx (1/%.0f)", r, 1 / r) }
        return String(format: "%.2fx", r)
    }

    /// The table: figure, N, slirpmon, baseline, ratio, target.
    static func table(_ figures: [Figure]) -> String {
        var rows: [[String]] = [["figure", "N", "slirpmon (median [min–max])", "baseline", "baseline (median [min–max])", "ratio", "target"]]
        for f in figures {
            let n = f.n.map(String.init) ?? ""
            let targetText = f.target.map { "\($0): " + (f.met == true ? "met" : "MISSED") } ?? ""
            if f.baselines.isEmpty {
                rows.append([f.title, n, range(f.slirpmon, f.unit), "-", "-", "-", targetText])
            }
            for (i, b) in f.baselines.enumerated() {
                let first = i == 0
                rows.append([first ? f.title : "", first ? n : "", first ? range(f.slirpmon, f.unit) : "",
                             b.name, range(b.stats, f.unit), ratio(f.ratio(b)), first ? targetText : ""])
            }
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        var lines: [String] = []
        for (k, row) in rows.enumerated() {
            var cells: [String] = []
            for (i, c) in row.enumerated() { cells.append(c.padding(toLength: widths[i], withPad: " ", startingAt: 0)) }
            lines.append("| " + cells.joined(separator: " | ") + " |")
            if k == 0 { lines.append("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|") }
        }
        return lines.joined(separator: "\n")
    }
}
