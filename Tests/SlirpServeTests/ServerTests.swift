import Foundation
import Glibc
import NIOCore
import SlirpCore
import SlirpServe
import SlirpTestSupport
import Testing

/// A render the test controls: how long it takes, and how many times it ran.
final class CountingRender: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    let seconds: Double
    let page: [UInt8]

    init(seconds: Double = 0, page: String = "slirpmon_up 1\n") {
        self.seconds = seconds
        self.page = Array(page.utf8)
    }

    var renders: Int { lock.withLock { count } }

    func render() throws -> [UInt8] {
        lock.withLock { count += 1 }
        if seconds > 0 { usleep(UInt32(seconds * 1e6)) }
        return page
    }
}

/// A value shared between a test and the threads it starts.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&stored) } }
}

/// A connection to the server that the test writes to byte by byte, as a hostile client would.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = socketAddress(IPv4Address(127, 0, 0, 1), port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw LabSetupError("connect to 127.0.0.1:\(port) failed") }
    }

    deinit { close(fd) }

    /// False once the server has closed the connection (EPIPE/ECONNRESET).
    @discardableResult
    func send(_ text: String) -> Bool {
        text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } >= 0
    }

    /// Everything the server sends until it closes, or until `seconds` pass.
    func readAll(seconds: Double) -> String {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return String(decoding: receiveAll(fd), as: UTF8.self)
    }

    /// True when the server has closed its side (a read returns end of file at once).
    func isClosedByServer(within seconds: Double) -> Bool {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// The HTTP server of `slirpmon serve` with a render the test controls: what each path answers,
/// and what a slow or hostile client (any local user reaches the port) can cost the scrapes.
@Suite("slirpmon serve's HTTP server", .serialized)
struct ServerTests {
    func serve(_ render: CountingRender, _ configure: (inout ServeLimits) -> Void = { _ in }) throws -> MetricsServer {
        var limits = ServeLimits()
        configure(&limits)
        return try MetricsServer(listen: try ListenAddress(parsing: "127.0.0.1:0"), limits: limits) { try render.render() }
    }

    @Test("Prometheus gets the page with its content type; / links to it; every other path is 404, a query string is ignored")
    func prometheusGetsThePageWithItsContentTypeAndEveryOtherPathIsNotFound() throws {
        let server = try serve(CountingRender(page: "slirpmon_up 1\n"))
        defer { server.stop() }
        let metrics = try #require(httpExchange(port: server.address.port, path: "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.head.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8"), "\(metrics.head)")
        #expect(metrics.body.hasPrefix("slirpmon_up 1\n# HELP slirpmon_page_age_seconds "), "\(metrics.body)")
        let index = try #require(httpExchange(port: server.address.port, path: "/"))
        #expect(index.status == 200)
        #expect(index.body.contains("<a href=\"/metrics\">"), "\(index.body)")
        for path in ["/nope", "/metrics/x", "/metricsx", "//metrics"] {
            #expect(httpExchange(port: server.address.port, path: path)?.status == 404, "\(path)")
        }
        #expect(httpExchange(port: server.address.port, path: "/metrics?name[]=x")?.status == 200, "a query string is ignored")
    }

    @Test("an IPv6 loopback listener answers over IPv6")
    func anIPv6LoopbackListenerAnswersOverIPv6() throws {
        let server = try MetricsServer(listen: try ListenAddress(parsing: "[::1]:0")) { Array("slirpmon_up 1\n".utf8) }
        defer { server.stop() }
        #expect(server.address.description == "[::1]:\(server.address.port)")
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(server.address.port).bigEndian
        address.sin6_addr = in6addr_loopback
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        #expect(connected == 0, "connect to [::1]:\(server.address.port)")
        _ = "GET /metrics HTTP/1.0\r\n\r\n".withCString { send(fd, $0, strlen($0), 0) }
        let reply = String(decoding: receiveAll(fd), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.0 200") && reply.contains("\r\n\r\nslirpmon_up 1\n"), "\(reply)")
    }

    @Test("HEAD answers the length without the body; other methods are refused with 405")
    func headAnswersTheLengthWithoutTheBodyAndOtherMethodsAreRefused() throws {
        let server = try serve(CountingRender(page: "slirpmon_up 1\n"))
        defer { server.stop() }
        let head = try #require(httpExchange(port: server.address.port, method: "HEAD", path: "/metrics"))
        #expect(head.status == 200)
        let length = try #require(httpExchange(port: server.address.port, path: "/metrics")).body.utf8.count
        #expect(head.head.lowercased().contains("content-length: \(length)"), "\(head.head)")
        #expect(head.body == "", "HEAD has no body")
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let refused = try #require(httpExchange(port: server.address.port, method: method, path: "/metrics"), "\(method)")
            #expect(refused.status == 405, "\(method)")
            #expect(refused.head.contains("Allow: GET, HEAD"), "\(refused.head)")
        }
    }

    @Test("a slowloris client does not delay a scrape and is cut off at the client timeout")
    func aSlowlorisClientDoesNotDelayAScrapeAndIsCutOffAtTheClientTimeout() throws {
        let render = CountingRender()
        let server = try serve(render) { $0.clientTimeout = .seconds(2) }
        defer { server.stop() }
        let slow = try RawConnection(port: server.address.port)
        // The slowloris: a header that never ends, a byte every 100 ms, from another thread.
        let stopped = Locked(false)
        let sender = Thread {
            for byte in "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 100) {
                if stopped.value || !slow.send(String(byte)) { return }
                usleep(100_000)
            }
        }
        sender.start()
        defer { stopped.value = true }
        usleep(300_000)
        let begin = Deadline.now
        let scrape = try #require(httpExchange(port: server.address.port, path: "/metrics"), "a scrape beside the slowloris")
        #expect(scrape.status == 200)
        #expect(Double(Deadline.now.nanoseconds - begin.nanoseconds) / 1e9 < 1.0, "the scrape waited for the slowloris")
        // 8 s: room for a loaded machine (swift-testing runs other suites beside this one), far short of the 14 s the header would take.
        #expect(slow.isClosedByServer(within: 8), "the slowloris still connected 8 s after the 2 s client timeout")
    }

    @Test("a huge header is answered 400 and closed without being kept")
    func aHugeHeaderIsAnswered400AndClosedWithoutBeingKept() throws {
        let server = try serve(CountingRender())
        defer { server.stop() }
        let hostile = try RawConnection(port: server.address.port)
        hostile.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")
        // 20 KiB of header fields: past the 16 KiB limit (NIO alone would take up to 80 KiB).
        let field = "X-Junk: " + String(repeating: "j", count: 1000) + "\r\n"
        for _ in 0..<20 where hostile.send(field) {}
        hostile.send("\r\n")
        let answer = hostile.readAll(seconds: 5)
        #expect(answer.hasPrefix("HTTP/1.1 400"), "answer: \(answer.prefix(200))")
        #expect(hostile.isClosedByServer(within: 2))
        #expect(httpExchange(port: server.address.port, path: "/metrics")?.status == 200, "the server goes on")
    }

    @Test("scrapes that arrive together share one render")
    func scrapesThatArriveTogetherShareOneRender() throws {
        let render = CountingRender(seconds: 1)
        let server = try serve(render) { $0.pageReuse = .zero }
        defer { server.stop() }
        let answered = Locked<[Int]>([])
        // Eight threads of their own (not a pool sized to the 2 cores): eight scrapes at once.
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<8 {
            Thread {
                let status = httpExchange(port: server.address.port, path: "/metrics", timeout: 10)?.status ?? -1
                answered.update { $0.append(status) }
                done.signal()
            }.start()
        }
        for _ in 0..<8 { done.wait() }
        #expect(answered.value == Array(repeating: 200, count: 8))
        #expect(render.renders <= 2, "8 scrapes within one render's second started \(render.renders) renders")
        #expect(httpExchange(port: server.address.port, path: "/metrics")?.status == 200)
        #expect(render.renders == 2, "a scrape after the shared render renders a fresh page")
    }

    @Test("a client scraping in a loop costs one render per reuse interval")
    func aClientScrapingInALoopCostsOneRenderPerReuseInterval() throws {
        let render = CountingRender()
        let server = try serve(render) { $0.pageReuse = .seconds(2) }
        defer { server.stop() }
        // Any local user reaches the port: 50 requests pipelined on one connection, then 20 more one by one.
        let raw = try RawConnection(port: server.address.port)
        raw.send(String(repeating: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", count: 49) + "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answers = raw.readAll(seconds: 5)
        #expect(answers.components(separatedBy: "HTTP/1.1 200").count - 1 == 50, "every pipelined request answered")
        for _ in 0..<20 { #expect(httpExchange(port: server.address.port, path: "/metrics")?.status == 200) }
        #expect(render.renders == 1, "70 scrapes within the reuse interval rendered \(render.renders) pages")
        usleep(2_200_000)
        #expect(httpExchange(port: server.address.port, path: "/metrics")?.body.hasPrefix("slirpmon_up 1\n") == true)
        #expect(render.renders == 2, "a scrape after the interval renders a fresh page")
    }

    @Test("a first render slower than the scrape timeout answers 503 with the reason and renders only once; once a page exists, a slow render answers it")
    func aRenderSlowerThanTheScrapeTimeoutAnswers503WithTheReasonAndRendersOnlyOnce() throws {
        let render = CountingRender(seconds: 3)
        let server = try serve(render) { $0.scrapeTimeout = .milliseconds(500); $0.pageReuse = .zero }
        defer { server.stop() }
        for _ in 0..<3 {
            let begin = Deadline.now
            let answer = try #require(httpExchange(port: server.address.port, path: "/metrics"))
            #expect(answer.status == 503)
            #expect(answer.body.contains("not rendered within 0.5 s"), "\(answer.body)")
            #expect(Double(Deadline.now.nanoseconds - begin.nanoseconds) / 1e9 < 2.0)
        }
        #expect(render.renders == 1, "scrapes during a slow render started renders of their own")
        // Past the first render's end: no render was queued behind it by the scrapes that timed out.
        usleep(3_500_000)
        #expect(render.renders == 1, "renders piled up behind the slow one")
        #expect(httpExchange(port: server.address.port, path: "/metrics")?.status == 200, "a second render, as slow: the first page answered, with its age")
        #expect(render.renders == 2)
    }

    @Test("idle connections past the limit cannot lock out a scrape")
    func idleConnectionsPastTheLimitCannotLockOutAScrape() throws {
        let server = try serve(CountingRender()) { $0.maxConnections = 8 }
        defer { server.stop() }
        let idle = try (0..<40).map { _ in try RawConnection(port: server.address.port) }
        usleep(200_000)
        let scrape = httpExchange(port: server.address.port, path: "/metrics")
        #expect(scrape?.status == 200, "40 idle connections held the server")
        let closed = idle.filter { $0.isClosedByServer(within: 0.05) }.count
        #expect(closed >= 32, "the oldest idle connections make room")
    }
}
