import Prometheus
import SlirpCore

/// The series of one part of a page (one instance, or the host's own series), in a
/// swift-prometheus registry of its own.
///
/// A part kept from one page to the next (`InstanceParts`, a server's pages) keeps its series
/// objects: a series set again gets its new value, one not set again is dropped (`endPage`), so
/// a page costs a lookup per series, not a new series (whose labels swift-prometheus renders
/// and whose family's table of label sets it copies on each add). The parts carry no help text
/// (each would repeat and re-check it); `Exposition.headers` writes each metric's HELP and TYPE
/// once, and `Exposition.merge` joins the texts into one page.
final class ExpositionPart {
    let registry = PrometheusCollectorRegistry()
    private let withHelp: Bool
    /// Each series, with the page that last set it.
    private var gauges: [SeriesKey: (gauge: Gauge, page: Int)] = [:]
    private var counters: [SeriesKey: (counter: Counter, page: Int)] = [:]
    /// The page being made (`endPage` ends it).
    private var page = 0
    /// How many labels every series of the part starts with, the same in all (an instance's
    /// `InstanceLabels`): left out of the keys.
    private let sharedLabels: Int

    /// A series: its metric and its labels past the shared ones (names and values, in order).
    private struct SeriesKey: Hashable {
        let metric: SlirpMetric
        let labels: [String]
    }

    private func key(_ metric: SlirpMetric, _ labels: [(String, String)]) -> SeriesKey {
        SeriesKey(metric: metric, labels: labels.count > sharedLabels ? labels[sharedLabels...].flatMap { [$0.0, $0.1] } : [])
    }

    init(withHelp: Bool = false, sharedLabels: Int = 0) {
        self.withHelp = withHelp
        self.sharedLabels = sharedLabels
    }

    private func descriptor(_ metric: SlirpMetric) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: metric.rawValue, unitName: "", helpText: withHelp ? metric.help : "")
    }

    /// Sets a gauge series. A value that is not a finite number is left out (no `NaN` as a fact).
    func gauge(_ metric: SlirpMetric, _ labels: [(String, String)], _ value: Double) {
        guard value.isFinite else { return }
        let key = key(metric, labels)
        if let index = gauges.index(forKey: key) {
            gauges.values[index].page = page
            return gauges.values[index].gauge.set(to: value)
        }
        let gauge = registry.makeGauge(descriptor: descriptor(metric), labels: labels)
        gauge.set(to: value)
        gauges[key] = (gauge, page)
    }

    /// Sets a counter series to `seconds` (left out unless finite and not negative).
    func counter(_ metric: SlirpMetric, _ labels: [(String, String)], seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        let counter = counter(metric, labels)
        // An integer total stays an integer in the text (`12`, not `12.0`).
        if seconds == seconds.rounded(.down), let whole = Int64(exactly: seconds) { counter.increment(by: whole) } else { counter.increment(by: seconds) }
    }

    /// Sets a counter series to `count`.
    func counter(_ metric: SlirpMetric, _ labels: [(String, String)], count: UInt64) {
        counter(metric, labels).increment(by: Int64(clamping: count))
    }

    /// The counter of that series, at 0 (a counter only goes up: a total read is set by adding it to 0).
    private func counter(_ metric: SlirpMetric, _ labels: [(String, String)]) -> Counter {
        let key = key(metric, labels)
        if let index = counters.index(forKey: key) {
            counters.values[index].page = page
            let kept = counters.values[index].counter
            kept.reset()
            return kept
        }
        let counter = registry.makeCounter(descriptor: descriptor(metric), labels: labels)
        counters[key] = (counter, page)
        return counter
    }

    /// Ends a page: the series not set since the last one are dropped.
    func endPage() {
        for (key, kept) in gauges where kept.page != page {
            registry.unregisterGauge(kept.gauge)
            gauges[key] = nil
        }
        for (key, kept) in counters where kept.page != page {
            registry.unregisterCounter(kept.counter)
            counters[key] = nil
        }
        page += 1
    }
}

/// Each instance's part (`ExpositionPart`), kept from one page to the next while the instance
/// (the same process) runs with the same identifying labels (`InstanceLabels`, which start
/// every series of it); a new part otherwise.
final class InstanceParts {
    private var parts: [ProcessIdentity: (labels: InstanceLabels, part: ExpositionPart)] = [:]
    private var seen = Set<ProcessIdentity>()

    /// The instance's part for this page.
    func part(_ identity: ProcessIdentity, labels: InstanceLabels) -> ExpositionPart {
        seen.insert(identity)
        if let kept = parts[identity], kept.labels == labels { return kept.part }
        let part = ExpositionPart(sharedLabels: InstanceLabels.names.count)
        parts[identity] = (labels, part)
        return part
    }

    /// Ends a page: the parts of instances not on it are dropped.
    func endPage() {
        parts = parts.filter { seen.contains($0.key) }
        seen.removeAll(keepingCapacity: true)
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
    /// one series of each; only its comment lines are used), made once.
    static let headers: [UInt8] = {
        let part = ExpositionPart(withHelp: true)
        for metric in SlirpMetric.allCases {
            switch metric.kind {
            case .gauge: part.gauge(metric, [], 0)
            case .counter: part.counter(metric, [], count: 0)
            }
        }
        return part.registry.emitToBuffer()
    }()

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
