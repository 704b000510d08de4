import NIOCore
import NIOHTTP1

/// One connection's requests: `GET|HEAD /metrics` (the page), `/` (a link to it), 404 for any
/// other path, 405 for any other method. Each request must arrive whole within the client
/// timeout; each answer must be read within it too; otherwise the connection is closed.
final class ScrapeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let index = Array("""
        <!DOCTYPE html>
        <html><head><title>slirpmon</title></head>
        <body><h1>slirpmon</h1><p><a href="/metrics">/metrics</a>: slirp4netns instances and their containers, for Prometheus.</p></body></html>

        """.utf8)

    private let render: SharedRender
    private let table: ConnectionTable
    private let limits: ServeLimits
    private var request: HTTPRequestHead?
    private var deadline: Scheduled<Void>?
    /// The number of the scrape waiting for a page, if one is: the page and the timeout race to
    /// answer it, and whichever comes second finds a different number (or none) and does nothing.
    private var waitingScrape: Int?
    private var scrapes = 0

    init(render: SharedRender, table: ConnectionTable, limits: ServeLimits) {
        self.render = render
        self.table = table
        self.limits = limits
    }

    func channelActive(context: ChannelHandlerContext) {
        table.opened(context.channel)
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        waitingScrape = nil
        table.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break // dropped as it comes: nothing here takes a body, and the deadline bounds how long one may run
        case .end:
            guard let head = request else { return }
            request = nil
            deadline?.cancel()
            deadline = nil
            table.answering(context.channel)
            answer(context, head)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil) // a parse error was answered 400 by NIO's error handler before this
    }

    /// Closes the connection unless it is answered or re-armed within the client timeout.
    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: limits.clientTimeout) { channel.close(promise: nil) }
    }

    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard head.method == .GET || head.method == .HEAD else {
            respond(context, head, .methodNotAllowed, Array("slirpmon serve answers GET and HEAD only\n".utf8), extra: [("Allow", "GET, HEAD")])
            return
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch path {
        case "/metrics": scrape(context, head)
        case "/": respond(context, head, .ok, Self.index, contentType: "text/html; charset=utf-8")
        default: respond(context, head, .notFound, Array("not found: slirpmon serve has /metrics (and / with a link to it)\n".utf8))
        }
    }

    /// Waits for a fresh page as long as `ServeLimits.scrapeWait` allows (Prometheus's own timeout,
    /// sent in its header, less a margin; at most --scrape-timeout); past that answers the last page
    /// with its age, or 503 when none was rendered yet. Either way the render goes on for the next scrape.
    private func scrape(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        scrapes += 1
        let number = scrapes
        waitingScrape = number
        let loop = context.eventLoop.assumeIsolated()
        let wait = limits.scrapeWait(header: head.headers[ServeLimits.scrapeTimeoutHeader])
        let timer = loop.scheduleTask(in: wait) { [self] in
            guard waitingScrape == number else { return }
            waitingScrape = nil
            if let last = render.last {
                answer(context, head, last)
                return
            }
            let tenths = (wait.nanoseconds + 50_000_000) / 100_000_000
            let seconds = "\(tenths / 10).\(tenths % 10)"
            let reason = "slirpmon serve: no metrics page yet: the first was not rendered within \(seconds) s (--scrape-timeout, or the scrape's \(ServeLimits.scrapeTimeoutHeader) less a margin); the render goes on, and a scrape while it runs or just after it gets its page\n"
            respond(context, head, .serviceUnavailable, Array(reason.utf8))
        }
        render.page().assumeIsolated().whenComplete { [self] result in
            timer.cancel()
            guard waitingScrape == number else { return }
            waitingScrape = nil
            switch result {
            case .success(let page):
                answer(context, head, page)
            case .failure(let error):
                respond(context, head, .internalServerError, Array("slirpmon serve: rendering the metrics failed: \(error)\n".utf8))
            }
        }
    }

    /// The page as rendered, then its age (`PageAge`): two buffers, the page's shared, not copied.
    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ page: SharedRender.Page) {
        let age = PageAge.family(age: .now() - page.rendered, after: page.body, allocator: context.channel.allocator)
        respond(context, head, .ok, [page.body, age], contentType: Self.metricsContentType)
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: [UInt8],
                         contentType: String = "text/plain; charset=utf-8", extra: [(String, String)] = []) {
        respond(context, head, status, [context.channel.allocator.buffer(bytes: body)], contentType: contentType, extra: extra)
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: [ByteBuffer],
                         contentType: String, extra: [(String, String)] = []) {
        let keepAlive = head.isKeepAlive
        let length = body.reduce(0) { $0 + $1.readableBytes }
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(length)")] + extra)
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        // HEAD: the same head, Content-Length included, and no body.
        if head.method != .HEAD {
            for part in body { context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil) }
        }
        arm(context) // the client has the client timeout to read the answer
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] result in
            guard case .success = result, keepAlive else {
                context.close(promise: nil)
                return
            }
            table.waiting(context.channel)
            arm(context) // and again to send its next request
        }
    }
}
