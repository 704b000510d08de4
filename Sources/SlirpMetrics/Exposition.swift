import Prometheus

/// One page of series being put together: a fresh swift-prometheus registry per page, so an
/// instance gone since the last page has no series left.
final class Exposition {
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
