import Prometheus

/// The series of one part of a page (some instances, or the host's own series), in a
/// swift-prometheus registry of its own, made fresh for each page: an instance gone since the
/// last page has no series left.
///
/// Parts of at most `MetricsPage.instancesPerPart` instances, not one registry per page:
/// swift-prometheus 2.4.1 copies a family's whole table of label sets for every label set it
/// adds (`MetricFamily.adding`), so one registry holding every instance costs time quadratic in
/// the instances (at 105 instances, 51 M of the page's 134 M instructions; about 25 times that
/// at 500). The parts carry no help text (each would repeat and re-check it); `Exposition.headers`
/// writes each metric's HELP and TYPE once, and `Exposition.merge` joins the texts into one page.
final class ExpositionPart {
    let registry = PrometheusCollectorRegistry()
    private let withHelp: Bool

    init(withHelp: Bool = false) { self.withHelp = withHelp }

    private func descriptor(_ metric: SlirpMetric) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metric.rawValue, unitName: "", helpText: withHelp ? metric.help : "")
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

/// Joins the texts swift-prometheus wrote for the parts into one page, as the text format wants
/// it: each metric's `# HELP` and `# TYPE` once, then all its samples together; metrics in name
/// order (a page that differs only where the facts do). Nothing is parsed beyond where lines
/// start: swift-prometheus writes each metric as its comment lines (`# HELP NAME ...`, `# TYPE
/// NAME ...`) followed by its samples, and no line break ever falls inside a line (label values
/// escape `\n`, help text has none).
enum Exposition {
    /// Every metric's HELP and TYPE lines, as swift-prometheus writes them (one registry with
    /// one series of each; only its comment lines are used).
    static func headers() -> [UInt8] {
        let part = ExpositionPart(withHelp: true)
        for metric in SlirpMetric.allCases {
            switch metric.kind {
            case .gauge: part.gauge(metric, [], 0)
            case .counter: part.counter(metric, [], count: 0)
            }
        }
        return part.registry.emitToBuffer()
    }

    /// The page: `headers`' comment lines for each metric that has samples in `parts`, then those samples.
    static func merge(headers: [UInt8], _ parts: [[UInt8]]) -> [UInt8] {
        var header: [String: [UInt8]] = [:]
        forEachRun(headers) { name, comments, _ in header[name, default: []] += comments }
        var samples: [String: [UInt8]] = [:]
        var fallback: [String: [UInt8]] = [:]
        var total = 0
        for text in parts {
            total += text.count
            forEachRun(text) { name, comments, run in
                guard !run.isEmpty else { return }
                samples[name, default: []] += run
                if header[name] == nil, fallback[name] == nil { fallback[name] = Array(comments) }
            }
        }
        var page: [UInt8] = []
        page.reserveCapacity(total + header.values.reduce(0) { $0 + $1.count })
        for name in samples.keys.sorted() {
            page += header[name] ?? fallback[name] ?? []
            page += samples[name] ?? []
        }
        return page
    }

    /// Calls `body` with each metric's name, its comment lines and its run of sample lines, in the order written.
    private static func forEachRun(_ text: [UInt8], _ body: (String, ArraySlice<UInt8>, ArraySlice<UInt8>) -> Void) {
        let newline = UInt8(ascii: "\n"), hash = UInt8(ascii: "#")
        var i = text.startIndex
        while i < text.endIndex {
            // Comment lines: `# HELP NAME ...` and `# TYPE NAME ...`, NAME the same.
            let commentsStart = i
            var name = ""
            while i < text.endIndex, text[i] == hash {
                let lineEnd = text[i...].firstIndex(of: newline).map { $0 + 1 } ?? text.endIndex
                let nameStart = min(i + 7, lineEnd)
                if name.isEmpty {
                    name = String(decoding: text[nameStart..<lineEnd].prefix { $0 != UInt8(ascii: " ") && $0 != newline }, as: UTF8.self)
                }
                i = lineEnd
            }
            let samplesStart = i
            while i < text.endIndex, text[i] != hash {
                i = text[i...].firstIndex(of: newline).map { $0 + 1 } ?? text.endIndex
            }
            body(name, text[commentsStart..<samplesStart], text[samplesStart..<i])
        }
    }
}
