#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

/// `slirpmon serve`'s HTTP server: SwiftNIO's HTTP/1.1 (parser, pipelining, protocol errors)
/// on one event-loop thread, the page rendered on one other thread. Between scrapes nothing
/// runs: no timer is armed without an open connection, so an idle server costs no CPU.
public final class MetricsServer: Sendable {
    /// The address bound (with the port the kernel chose for port 0).
    public let address: ListenAddress
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channel: Channel

    /// Binds `listen` and serves until `stop`.
    public init(listen: ListenAddress, limits: ServeLimits = ServeLimits(),
                render: @escaping @Sendable () throws -> [UInt8]) throws(ServeError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let loop = group.next()
        // Both shared by every connection, made and touched only on the one event loop.
        let made = loop.submit {
            NIOLoopBound((SharedRender(loop: loop, pool: pool, reuse: limits.pageReuse, render: render), ConnectionTable(limit: limits.maxConnections)), eventLoop: loop)
        }
        guard let shared = try? made.wait() else {
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw .cannotListen(address: listen.description, reason: "the event loop did not start")
        }
        let decoderLimits = {
            var decoder = NIOHTTPDecoderLimitConfiguration()
            decoder.maxHeaderListSize = limits.maxHeaderBytes
            decoder.maxHeaderFieldSize = limits.maxHeaderBytes
            decoder.maxHeaderFieldCount = 100
            return decoder
        }()
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withDecoderLimitConfiguration: decoderLimits).flatMapThrowing {
                    let (render, table) = shared.value
                    try channel.pipeline.syncOperations.addHandler(ScrapeHandler(render: render, table: table, limits: limits))
                }
            }
        do {
            let socketAddress = try SocketAddress(ipAddress: listen.host, port: listen.port)
            channel = try bootstrap.bind(to: socketAddress).wait()
        } catch {
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw .cannotListen(address: listen.description, reason: Self.reason(error))
        }
        let port = channel.localAddress?.port ?? listen.port
        address = (try? ListenAddress(parsing: listen.isIPv6 ? "[\(listen.host)]:\(port)" : "\(listen.host):\(port)")) ?? listen
        self.group = group
        self.pool = pool
    }

    /// Stops listening, closes every connection and waits for the threads to end (a render in
    /// flight finishes first: the render thread is stopped before the event loop, which its page
    /// is handed to, so that the page never meets a loop already shut down).
    public func stop() {
        try? channel.close().wait()
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }

    private static func reason(_ error: Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}
