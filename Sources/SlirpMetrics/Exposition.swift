import Prometheus

/// The series of one part of a page (one instance, or the host's own series), in a
/// swift-prometheus registry of its own, made fresh for each page: an instance gone since the
/// last page has no series left.
///
/// One registry per part, not one per page: swift-prometheus 2.4.1 copies a family's whole
/// table of label sets for every label set it adds (`MetricFamily.adding`), so one registry
/// holding every instance costs time quadratic in the instances (at 105 instances, 51 M of the
/// page's 134 M instructions; about 25 times that at 500). `Exposition.merge` joins the parts'
/// texts into one page.
final class ExpositionPart {
    let registry = PrometheusCollectorRegistry()

    private func descriptor(_ metric: SlirpMetric) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metric.rawValue, unitName: "", helpText: metric.help)
    }

    /// Sets a gauge series. A value that is not a finite number is left out (no `NaN` as a fact).
    func gauge(_ metric: SlirpMetric, _ labels: [(String, String)], _ value: Double) {
        guard value.isFinite else { return }
        registry.makeGauge(descriptor: descriptor(metric), labels: labels).set(to: value)
    }

    /// Sets a counter series to `seconds` (left out unless finite and not negative).
    func counter(_ metric: SlirpMetric, _ labels: [(String, String)], seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        let counter = registry.makeCounter(descriptor: descriptor(metric), labels: labels)
        // An integer total stays an integer in the text (`12`, not `12.0`).
        if seconds == seconds.rounded(.down), let whole = Int64(exactly: seconds) { counter.increment(by: whole) } else { counter.increment(by: seconds) }
    }

    /// Sets a counter series to `count`.
    func counter(_ metric: SlirpMetric, _ labels: [(String, String)], count: UInt64) {
        registry.makeCounter(descriptor: descriptor(metric), labels: labels).increment(by: Int64(clamping: count))
    }
}

/// Joins the texts swift-prometheus wrote for each part into one page, as the text format
/// wants it: each metric's `# HELP` and `# TYPE` once, then all its samples together; metrics
/// in name order (a page that differs only where the facts do). Nothing is parsed beyond
/// where lines start: every line swift-prometheus writes is a comment (`# HELP NAME ...`,
/// `# TYPE NAME ...`) or a sample starting with its name, and no line break ever falls inside
/// one (label values escape `\n`, help text has none).
enum Exposition {
    static func merge(_ parts: [[UInt8]]) -> [UInt8] {
        var families: [String: (header: [UInt8], samples: [UInt8], owner: Int)] = [:]
        var total = 0
        for (index, text) in parts.enumerated() {
            total += text.count
            var start = text.startIndex
            while start < text.endIndex {
                let end = text[start...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? text.endIndex
                let line = text[start..<end]
                start = end
                let comment = line.starts(with: "# HELP ".utf8) || line.starts(with: "# TYPE ".utf8)
                let nameStart = comment ? line.startIndex + 7 : line.startIndex
                let name = String(decoding: line[nameStart...].prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "{") }, as: UTF8.self)
                if comment {
                    if families[name] == nil { families[name] = ([], [], index) }
                    // The first part that has the metric gives its HELP and TYPE; the others' are the same lines.
                    if families[name]?.owner == index { families[name]?.header += line }
                } else if !line.starts(with: "#".utf8) {
                    families[name, default: ([], [], index)].samples += line
                }
            }
        }
        var page: [UInt8] = []
        page.reserveCapacity(total)
        for name in families.keys.sorted() {
            guard let family = families[name] else { continue }
            page += family.header
            page += family.samples
        }
        return page
    }
}
