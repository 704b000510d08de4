import NIOCore
import NIOPosix

/// One render of the metrics page at a time: a scrape that arrives while one runs waits for that
/// one and gets its page, so N concurrent scrapes cost one render, not N, and a render slower than
/// the scrape interval never piles up more behind it. A page rendered less than `reuse` ago
/// answers again: any local user reaches the port, and one scraping in a loop (or pipelining
/// requests) would otherwise keep root rendering back to back. Lives on the server's one event loop.
final class SharedRender {
    private let loop: EventLoop
    private let pool: NIOThreadPool
    private let reuse: TimeAmount
    private let render: @Sendable () throws -> [UInt8]
    private var inFlight: EventLoopFuture<[UInt8]>?
    private var last: (page: [UInt8], rendered: NIODeadline)?

    init(loop: EventLoop, pool: NIOThreadPool, reuse: TimeAmount, render: @escaping @Sendable () throws -> [UInt8]) {
        self.loop = loop
        self.pool = pool
        self.reuse = reuse
        self.render = render
    }

    /// The page of the render in flight, or of a new one started on the render thread (never on
    /// the event loop: other connections are served while it runs).
    func page() -> EventLoopFuture<[UInt8]> {
        loop.preconditionInEventLoop()
        if let inFlight { return inFlight }
        if let last, NIODeadline.now() - last.rendered < reuse { return loop.makeSucceededFuture(last.page) }
        let started = pool.runIfActive(eventLoop: loop, render)
        inFlight = started
        // Registered first, so it runs before the scrapes' own callbacks: a scrape answered by
        // this page and scraping again at once gets the page kept, not a render of its own.
        started.assumeIsolated().whenComplete { [self] result in
            inFlight = nil
            if case .success(let page) = result { last = (page, .now()) } else { last = nil }
        }
        return started
    }
}
