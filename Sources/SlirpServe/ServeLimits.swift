import NIOCore

/// The bounds that keep one slow or hostile client from costing other scrapes anything.
public struct ServeLimits: Sendable {
    /// A scrape whose page is not rendered by then answers 503 with the reason; the render goes on,
    /// and a scrape while it runs or within `pageReuse` of its end gets its page (Prometheus's own
    /// default scrape_timeout is 10 s).
    public var scrapeTimeout: TimeAmount = .seconds(10)
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
}
