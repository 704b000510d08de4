import NIOCore
import SlirpMetrics

/// The bounds that keep one slow or hostile client from costing other scrapes anything.
public struct ServeLimits: Sendable {
    /// How long a scrape waits for a fresh page (`--scrape-timeout`; `ScrapeTimeout` has its default,
    /// 8 s, below Prometheus's default scrape_timeout of 10 s, and bounds). Past it the scrape gets
    /// the last page rendered, with its age (`slirpmon_page_age_seconds`), or 503 with the reason
    /// when there is none yet; the render goes on, and a scrape while it runs or within `pageReuse`
    /// of its end gets its page. A scraper's own `X-Prometheus-Scrape-Timeout-Seconds` shortens it
    /// (see `scrapeWait(header:)`).
    public var scrapeTimeout: TimeAmount = .nanoseconds(Int64(ScrapeTimeout.defaultSeconds * 1e9))
    /// A page rendered less than this ago answers a scrape again instead of a new render: scrapes
    /// in a loop, from any local user, cost root one render per this interval at most.
    public var pageReuse: TimeAmount = .seconds(2)
    /// A client gets this long to send a whole request (from connecting, or from its previous
    /// answer) and again to read its answer; then its connection is closed. A client that
    /// trickles its header a byte at a time (slowloris) is cut off here, whatever its pace.
    public var clientTimeout: TimeAmount = .seconds(10)
    /// Open connections at most. Past it, a new connection closes the one that has waited longest
    /// without a complete request, so idle or trickling clients cannot fill the table.
    public var maxConnections = 64
    /// The request header, all fields together, at most this many bytes; a larger one answers 400
    /// and closes (NIO's decoder counts it, so memory per connection stays bounded).
    public var maxHeaderBytes = 16 * 1024

    public init() {}

    /// The header in which Prometheus sends each scrape's own timeout (`scrape_timeout`, in seconds).
    public static let scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

    /// How long a scrape that sent `header` (the values of `X-Prometheus-Scrape-Timeout-Seconds`)
    /// waits for a fresh page: the scraper's timeout less a margin for sending the answer (10 %,
    /// at least 0.25 s), never longer than `scrapeTimeout`, never shorter than 0.1 s. The header
    /// comes from whoever reaches the port (any local user): anything but one plain decimal
    /// number of seconds within `ScrapeTimeout.range` (`10`, `9.5`) is ignored, and
    /// `scrapeTimeout` applies.
    public func scrapeWait(header values: [String]) -> TimeAmount {
        guard values.count == 1, let seconds = Self.plainSeconds(values[0]), ScrapeTimeout.range.contains(seconds) else { return scrapeTimeout }
        let wait = max(ScrapeTimeout.range.lowerBound, seconds - max(seconds * 0.1, 0.25))
        return min(scrapeTimeout, .nanoseconds(Int64(wait * 1e9)))
    }

    /// `DIGITS[.DIGITS]`, 12 characters at most (no sign, exponent, `inf` or `nan`).
    private static func plainSeconds(_ text: String) -> Double? {
        let trimmed = text.utf8.count <= 40 ? text.trimmingSpaces : ""
        let parts = trimmed.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 12, let whole = parts.first, !whole.isEmpty,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }),
              parts.count == 1 || !parts[1].isEmpty else { return nil }
        return Double(trimmed)
    }
}

private extension String {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingSpaces: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
