/// How long `slirpmon serve` lets a scrape wait for a fresh page (`--scrape-timeout`): its
/// default and its bounds, in the one module both `slirpmon` (which checks and documents the
/// option) and `slirpmon-serve` (which parses it again, being runnable on its own) link.
public enum ScrapeTimeout {
    /// Below Prometheus's default `scrape_timeout` (10 s): a scrape whose page is late is answered
    /// (with the last page and its age) before Prometheus gives up and marks the target down.
    public static let defaultSeconds = 8.0

    /// Seconds `--scrape-timeout` accepts.
    public static let range: ClosedRange<Double> = 0.1...600

    /// The error for a value outside `range` (or no number): `written` as the operator wrote it.
    public static func outOfRange(got written: String) -> String {
        let shown = written.isEmpty ? "\"\"" : written.count <= 40 ? written : String(written.prefix(40)) + "..."
        return "--scrape-timeout must be from \(format(range.lowerBound)) to \(format(range.upperBound)) seconds, got \(shown)"
    }

    /// `0.1`, `8`, `600`: a number of seconds as written in help and errors.
    public static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
