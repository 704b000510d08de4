import Foundation
import SlirpMetrics
import Testing

/// `SlirpMetric` is the one table of what slirpmon exports: every name a valid Prometheus name
/// that follows Prometheus's naming conventions (https://prometheus.io/docs/practices/naming/),
/// and the README's Metrics table the same table, type included.
@Suite("metric names: valid, Prometheus's conventions, and the README's table")
struct MetricNameTests {
    /// The metric name grammar of the text format and the label name grammar.
    static func isName(_ text: String, colon: Bool) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) || (colon && first == ":") else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || (colon && $0 == ":") }
    }

    @Test("every name is a valid Prometheus name starting slirpmon_, counters end _total and gauges do not, units are base units at the end")
    func namesFollowPrometheusConventions() {
        for metric in SlirpMetric.allCases {
            let name = metric.rawValue
            #expect(Self.isName(name, colon: false) && name.hasPrefix("slirpmon_"), "\(name)")
            #expect(name.hasSuffix("_total") == (metric.kind == .counter), "\(name) is a \(metric.kind): counters, and only they, end _total")
            let base = name.hasSuffix("_total") ? String(name.dropLast("_total".count)) : name
            let words = base.split(separator: "_")
            for unit in ["seconds", "bytes"] where words.contains(Substring(unit)) {
                #expect(words.last == Substring(unit), "\(name): the unit \(unit) comes last (before _total)")
            }
            for nonBase in ["milliseconds", "ms", "minutes", "hours", "kilobytes", "kb", "mb", "percent"] {
                #expect(!words.contains(Substring(nonBase)), "\(name): \(nonBase) is not a base unit (seconds, bytes, ratios)")
            }
            for label in metric.extraLabels {
                #expect(Self.isName(label, colon: false) && !label.hasPrefix("__"), "\(name): label \(label)")
            }
            #expect(Set(metric.extraLabels).count == metric.extraLabels.count, "\(name): a label twice")
            #expect(!metric.help.isEmpty && !metric.help.contains("\n"), "\(name): help")
        }
        #expect(Set(SlirpMetric.allCases.map(\.rawValue)).count == SlirpMetric.allCases.count)
    }

    @Test("the README's Metrics table has a row for every metric with SlirpMetric's type, and no row for a metric that is not exported")
    func readmeListsEveryMetric() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var rows: [String: String] = [:]
        for line in readme.split(separator: "\n") where line.hasPrefix("| `slirpmon_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 2 else { continue }
            rows[cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[2]
        }
        for metric in SlirpMetric.allCases {
            #expect(rows[metric.rawValue] == metric.kind.rawValue, "\(metric.rawValue): README says \(rows[metric.rawValue] ?? "nothing"), SlirpMetric \(metric.kind)")
        }
        #expect(Set(rows.keys) == Set(SlirpMetric.allCases.map(\.rawValue)), "README rows not in SlirpMetric: \(Set(rows.keys).subtracting(SlirpMetric.allCases.map(\.rawValue)))")
    }
}
