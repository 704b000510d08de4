import NIOCore
import NIOPosix

/// One render of the metrics page at a time: a scrape that arrives while one runs waits for that
/// one and gets its page, so N concurrent scrapes cost one render, not N, and a render slower than
/// the scrape interval never piles up more behind it. Lives on the server's one event loop.
final class SharedRender {
    private let loop: EventLoop
    private let pool: NIOThreadPool
    private let render: @Sendable () throws -> [UInt8]
    private var inFlight: EventLoopFuture<[UInt8]>?

    init(loop: EventLoop, pool: NIOThreadPool, render: @escaping @Sendable () throws -> [UInt8]) {
        self.loop = loop
        self.pool = pool
        self.render = render
    }

    /// The page of the render in flight, or of a new one started on the render thread (never on
    /// the event loop: other connections are served while it runs).
    func page() -> EventLoopFuture<[UInt8]> {
        loop.preconditionInEventLoop()
        if let inFlight { return inFlight }
        let started = pool.runIfActive(eventLoop: loop, render)
        inFlight = started
        // Registered first, so it runs before the scrapes' own callbacks: a scrape answered by
        // this page and scraping again at once starts a fresh render.
        started.assumeIsolated().whenComplete { [self] _ in inFlight = nil }
        return started
    }
}
