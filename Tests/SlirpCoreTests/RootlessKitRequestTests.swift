import Testing
@testable import SlirpCore

/// What slirpmon writes to RootlessKit and how it reads the HTTP that comes back.
@Suite("RootlessKit requests and replies")
struct RootlessKitRequestTests {
    @Test("a port spec leaves an absent address out, as rootlessctl sends it")
    func specLeavesAbsentOut() throws {
        let spec = RootlessKitPortSpec(proto: "tcp", parentPort: 18600, childPort: 80)
        #expect(String(decoding: try JSONText.encode(spec, pretty: false), as: UTF8.self) == #"{"childPort":80,"parentPort":18600,"proto":"tcp"}"#)
        let full = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        #expect(String(decoding: try JSONText.encode(full, pretty: false), as: UTF8.self)
            == #"{"childIP":"127.0.0.1","childPort":18700,"parentIP":"127.0.0.1","parentPort":18700,"proto":"tcp4"}"#)
    }

    @Test("a POST carries its length and asks the server to close")
    func requestBytes() {
        let bytes = HTTPReply.request(method: "POST", target: "/v1/ports", body: Array("{}".utf8))
        #expect(String(decoding: bytes, as: UTF8.self)
            == "POST /v1/ports HTTP/1.1\r\nHost: rootlesskit\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test("RootlessKit's exact replies are read; two lengths, a bad length, bytes after the body are refused")
    func replies() throws {
        let created = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nDate: Sat, 05 Dec 2026 03:27:14 GMT\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"id\":1}\n"
        #expect(try HTTPReply.parse(Array(created.utf8)) == HTTPReply(status: 201, body: Array("{\"id\":1}\n".utf8)))
        let deleted = "HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 03:27:14 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        #expect(try HTTPReply.parse(Array(deleted.utf8)) == HTTPReply(status: 200, body: []))
        for (bad, why) in [
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab", "two different Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a number"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", "1 bytes after"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "status line"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"),
            ("HTTP/1.1 200 OK\r\nContent-Le", "ends inside its headers"),
        ] {
            #expect(throws: HTTPReply.Malformed.self) { try HTTPReply.parse(Array(bad.utf8)) }
            do { _ = try HTTPReply.parse(Array(bad.utf8)) } catch { #expect(error.reason.contains(why), "\(bad.debugDescription): \(error.reason)") }
        }
    }

    @Test("on a kept connection a reply ends where its framing says: Content-Length, the 0 chunk and its trailers, no body for 204; a close, no length or a malformed head leave it to the close or to parse")
    func replyEnds() {
        func end(_ text: String) -> Int? { HTTPReply.end(of: Array(text.utf8)) }
        let created = "HTTP/1.1 201 Created\r\nContent-Length: 9\r\n\r\n{\"id\":1}\n"
        #expect(end(created) == created.utf8.count)
        #expect(end(String(created.dropLast())) == nil, "one byte short")
        #expect(end("HTTP/1.1 201 Created\r\nContent-Le") == nil, "inside the headers")
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        #expect(end(chunked) == chunked.utf8.count)
        #expect(end(String(chunked.dropLast(2))) == nil, "the last line not there yet")
        let trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n"
        #expect(end(trailers) == trailers.utf8.count)
        #expect(end("HTTP/1.1 204 No Content\r\n\r\n") == 27)
        #expect(end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab") == nil, "the peer closes: read to the close")
        #expect(end("HTTP/1.1 200 OK\r\n\r\nabc") == nil, "no length: the close ends it")
        let malformed = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"
        #expect(end(malformed) == malformed.utf8.count, "parse says why")
        #expect(String(decoding: HTTPReply.request(method: "DELETE", target: "/v1/ports/3", keepAlive: true), as: UTF8.self)
            == "DELETE /v1/ports/3 HTTP/1.1\r\nHost: rootlesskit\r\nConnection: keep-alive\r\n\r\n")
    }
}
