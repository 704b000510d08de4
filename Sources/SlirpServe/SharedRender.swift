import NIOCore
import NIOPosix

/// One render of the metrics page at a time: a scrape that arrives while one runs waits for that
/// one and gets its page, so N concurrent scrapes cost one render, not N, and a render slower than
/// the scrape interval never piles up more behind it. A page rendered less than `reuse` ago
/// answers again: any local user reaches the port, and one scraping in a loop (or pipelining
/// requests) would otherwise keep root rendering back to back. The last page rendered is kept
/// (`last`) for a scrape whose render is late. Lives on the server's one event loop.
final class SharedRender {
    /// A rendered page: its bytes (copied once into a buffer that every answer shares) and when
    /// its render ended.
    struct Page {
        let body: ByteBuffer
        let rendered: NIODeadline
    }

    private let loop: EventLoop
    private let pool: NIOThreadPool
    private let reuse: TimeAmount
    private let render: @Sendable () throws -> [UInt8]
    private var inFlight: EventLoopFuture<Page>?
    /// The last page rendered, kept after a failed render too: it is answered with its age.
    private(set) var last: Page?

    init(loop: EventLoop, pool: NIOThreadPool, reuse: TimeAmount, render: @escaping @Sendable () throws -> [UInt8]) {
        self.loop = loop
        self.pool = pool
        self.reuse = reuse
        self.render = render
    }

    /// The page of the render in flight, or of a new one started on the render thread (never on
    /// the event loop: other connections are served while it runs).
    func page() -> EventLoopFuture<Page> {
        loop.preconditionInEventLoop()
        if let inFlight { return inFlight }
        if let last, NIODeadline.now() - last.rendered < reuse { return loop.makeSucceededFuture(last) }
        let render = self.render
        // Copied into its buffer on the render thread, once per render, not once per answer.
        let started = pool.runIfActive(eventLoop: loop) { ByteBuffer(bytes: try render()) }.map { Page(body: $0, rendered: .now()) }
        inFlight = started
        // Registered first, so it runs before the scrapes' own callbacks: a scrape answered by
        // this page and scraping again at once gets the page kept, not a render of its own.
        started.assumeIsolated().whenComplete { [self] result in
            inFlight = nil
            if case .success(let page) = result { last = page }
        }
        return started
    }
}
