import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// What `slirpmon serve` keeps between its pages (`MetricsCollector`) and what it reads for each.
@Suite("slirpmon serve: what is kept between pages and what is read for each", .serialized)
struct ServePageTests {
    /// A scrape of `serve`'s /metrics: its samples.
    static func page(of serve: ServeProcess) throws -> [Sample] {
        let reply = try #require(httpExchange(port: serve.port, path: "/metrics", timeout: 60), "no answer: \(serve.stderr)")
        try #require(reply.status == 200, "\(reply.status): \(reply.body.prefix(300))")
        return try #require(samples(reply.body), "not the text format")
    }

    @Test("the tap counters of a page are this page's, though the namespace's addresses are kept from the page before: traffic between two scrapes shows on the second")
    func tapCountersAreReadForEveryPage() throws {
        try #require(isRoot, "needs root (ip netns, mount namespaces)")
        let kept = try ServeTests.Kept("page")
        let lab = try TestLab("sp\(UInt16.random(in: 0...999))")
        let port = try DemoFleet.freeTCPPort()
        var spec = SlirpLab.Spec(name: "web")
        spec.forwards = [MetricsTests.loopback(.tcp, port, to: 80)]
        let web = try lab.start(spec)
        let serve = try ServeProcess(["--scrape-timeout", "30"], keptIn: kept.path)
        defer { _ = serve.stop() }
        func page() throws -> [Sample] { try Self.page(of: serve) }
        let first = try page()
        let rxBefore = try #require(MetricsTests.value(first, "slirpmon_instance_tap_receive_bytes_total", pid: web.pid), "pid \(web.pid) has no tap series")
        #expect(MetricsTests.value(first, "slirpmon_instance_address_mismatches", pid: web.pid) == 0)

        let server = try NamespaceServer(netns: try #require(web.netnsName), port: 80, reply: "serve-page-hello")
        #expect(tcpRoundTrip(port: Int(port.value))?.contains("serve-page-hello") == true)
        withExtendedLifetime(server) {}
        // Past the 2 s a page is answered again: the next scrape makes a new page.
        usleep(2_500_000)
        let second = try page()
        let rxAfter = try #require(MetricsTests.value(second, "slirpmon_instance_tap_receive_bytes_total", pid: web.pid))
        #expect(rxAfter > rxBefore, "rx \(rxBefore) -> \(rxAfter): the counters came with the kept addresses")
        #expect(MetricsTests.value(second, "slirpmon_instance_address_mismatches", pid: web.pid) == 0, "the kept addresses are still on the page")
        #expect(serve.stop() == 0)
    }

    @Test("a series kept from the page before goes when its fact does: an API socket removed shows missing, not held and missing; a stopped instance has no series left")
    func keptSeriesFollowTheFacts() throws {
        try #require(isRoot, "needs root (ip netns, mount namespaces)")
        let kept = try ServeTests.Kept("follow")
        let lab = try TestLab("sf\(UInt16.random(in: 0...999))")
        let socketLoser = try lab.start(.init(name: "lose"))
        let stopping = try lab.start(.init(name: "stop"))
        let serve = try ServeProcess(["--scrape-timeout", "30"], keptIn: kept.path)
        defer { _ = serve.stop() }
        func page() throws -> [Sample] { try Self.page(of: serve) }
        let first = try page()
        #expect(MetricsTests.series(first, "slirpmon_instance_api_socket", pid: socketLoser.pid).map { $0.labels["status"] } == ["held"])
        #expect(MetricsTests.value(first, "slirpmon_instance_defunct", pid: stopping.pid) == 0)

        unlink(try #require(socketLoser.apiSocket))
        lab.lab.stop(stopping)
        usleep(2_500_000)
        let second = try page()
        #expect(MetricsTests.series(second, "slirpmon_instance_api_socket", pid: socketLoser.pid).map { $0.labels["status"] } == ["missing"],
                "\(MetricsTests.series(second, "slirpmon_instance_api_socket", pid: socketLoser.pid))")
        #expect(second.filter { $0.labels["pid"] == String(stopping.pid) }.isEmpty,
                "still on the page: \(second.filter { $0.labels["pid"] == String(stopping.pid) })")
        #expect(serve.stop() == 0)
    }
}
