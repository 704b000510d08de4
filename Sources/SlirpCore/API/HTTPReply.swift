/// One HTTP/1.1 exchange over a unix socket, as RootlessKit's REST API needs it, and nothing more.
///
/// Written here rather than taken from AsyncHTTPClient: slirpmon makes one request per command,
/// synchronously, with one deadline; AsyncHTTPClient brings swift-nio, swift-nio-ssl (BoringSSL)
/// and Foundation into the one binary that `list` also starts (see the commit that added this
/// file for the measured build time, size and start-up cost). The rules kept here are strict:
/// `Connection: close`, so the reply ends where the peer closes, except in a batch on one kept
/// connection (`end(of:)` finds where a reply ends); the status line, headers and body are read
/// as HTTP/1.1 says (`Content-Length` exactly, or `chunked`, or up to the close); headers at
/// most `maximumHeaderBytes`; the whole reply at most the client's cap.
struct HTTPReply: Sendable, Equatable {
    /// The status code (`201`).
    let status: Int
    /// The body, de-chunked.
    let body: [UInt8]

    /// The most a status line and headers may take: RootlessKit's are under 200 bytes.
    static let maximumHeaderBytes = 16 << 10

    /// Why bytes are not an HTTP reply; `reason` says where it went wrong.
    struct Malformed: Error, Sendable, Equatable {
        let reason: String
    }

    /// The request bytes: `method target`, `Host` (Go's server refuses HTTP/1.1 without one; any name
    /// does), `Connection: close` (`keep-alive` for a request of a batch on one connection), and the JSON body with its length.
    static func request(method: String, target: String, body: [UInt8]? = nil, host: String = "rootlesskit", keepAlive: Bool = false) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    /// The status line and headers that frame a reply.
    private struct Head {
        let status: Int
        let contentLength: Int?
        let chunked: Bool
        let connectionClose: Bool
        /// Where the body starts.
        let bodyStart: Int
        /// 1xx, 204 and 304 have no body whatever the headers say (RFC 9112 6.3).
        var hasNoBody: Bool { status < 200 || status == 204 || status == 304 }
    }

    /// The reply's head; nil while its end is not there yet (and within `maximumHeaderBytes`).
    private static func head(_ bytes: [UInt8]) throws(Malformed) -> Head? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes[...], limit: maximumHeaderBytes) else {
            if bytes.count > maximumHeaderBytes { throw Malformed(reason: "no end of headers in the first \(maximumHeaderBytes / 1024) KiB") }
            return nil
        }
        let lines = split(bytes[0..<headEnd])
        guard let statusLine = lines.first else { throw Malformed(reason: "no status line") }
        let status = try parseStatus(statusLine)
        var contentLength: Int?
        var chunked = false
        var connectionClose = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw Malformed(reason: "a header line without a name: \(excerpt(line))")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            switch name {
            case "content-length":
                // Digits only (no sign, no list): two different lengths are a smuggling attempt, not a reply.
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), value.utf8.count <= 18, let n = Int(value) else {
                    throw Malformed(reason: "Content-Length is not a number: \(excerpt(Array(value.utf8)[...]))")
                }
                if let contentLength, contentLength != n { throw Malformed(reason: "two different Content-Length headers") }
                contentLength = n
            case "transfer-encoding":
                guard value.lowercased() == "chunked" else { throw Malformed(reason: "unsupported Transfer-Encoding \(excerpt(Array(value.utf8)[...]))") }
                chunked = true
            case "connection":
                connectionClose = value.lowercased() == "close"
            default:
                continue
            }
        }
        if chunked && contentLength != nil { throw Malformed(reason: "both Content-Length and chunked") }
        return Head(status: status, contentLength: contentLength, chunked: chunked, connectionClose: connectionClose, bodyStart: headEnd + 4)
    }

    /// Where the reply at the start of `bytes` ends, for a connection kept for the next request:
    /// nil while it is not all there, or when only the peer's close can end it (no length, or the
    /// peer said `Connection: close`); `bytes.count` for a malformed head (`parse` says why).
    static func end(of bytes: [UInt8]) -> Int? {
        let head: Head
        do throws(Malformed) {
            guard let found = try Self.head(bytes) else { return nil }
            head = found
        } catch { return bytes.count }
        if head.connectionClose { return nil }
        if head.hasNoBody { return head.bodyStart }
        if let length = head.contentLength { return bytes.count >= head.bodyStart + length ? head.bodyStart + length : nil }
        guard head.chunked else { return nil }
        // Chunk by chunk to the 0 chunk and the empty line after its trailers.
        var i = head.bodyStart
        while let eol = find([13, 10], in: bytes[i...], limit: 1024) {
            var sizeText = bytes[i..<eol]
            if let semicolon = sizeText.firstIndex(of: UInt8(ascii: ";")) { sizeText = sizeText[..<semicolon] }
            let hex = String(decoding: sizeText, as: UTF8.self).trimmingSpaces()
            guard !hex.isEmpty, hex.utf8.count <= 15, let size = Int(hex, radix: 16), size >= 0 else { return bytes.count }
            if size == 0 {
                guard let end = find([13, 10, 13, 10], in: bytes[eol...], limit: maximumHeaderBytes) else { return nil }
                return end + 4
            }
            i = eol + 2 + size + 2
            if i > bytes.count { return nil }
        }
        return nil
    }

    /// Parses a whole reply (read until the peer closed, or to its `end(of:)`).
    static func parse(_ bytes: [UInt8]) throws(Malformed) -> HTTPReply {
        guard !bytes.isEmpty else { throw Malformed(reason: "the connection closed with no reply") }
        guard let head = try head(bytes) else { throw Malformed(reason: "the reply ends inside its headers") }
        let status = head.status
        let contentLength = head.contentLength
        let chunked = head.chunked
        let rest = bytes[head.bodyStart...]
        if head.hasNoBody { return HTTPReply(status: status, body: []) }
        if chunked { return HTTPReply(status: status, body: try dechunk(rest)) }
        if let contentLength {
            if rest.count < contentLength { throw Malformed(reason: "the body is cut short: \(rest.count) of \(contentLength) bytes") }
            if rest.count > contentLength { throw Malformed(reason: "\(rest.count - contentLength) bytes after the \(contentLength)-byte body") }
            return HTTPReply(status: status, body: Array(rest))
        }
        return HTTPReply(status: status, body: Array(rest))
    }

    /// `HTTP/1.x NNN reason`.
    private static func parseStatus(_ line: ArraySlice<UInt8>) throws(Malformed) -> Int {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0",
              parts[1].utf8.count == 3, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let code = Int(parts[1]), code >= 100 else {
            throw Malformed(reason: "not an HTTP/1.1 status line: \(excerpt(line))")
        }
        return code
    }

    /// The body of a `chunked` reply: hex sizes (extensions ignored), each chunk followed by CRLF, up to the 0 chunk.
    private static func dechunk(_ bytes: ArraySlice<UInt8>) throws(Malformed) -> [UInt8] {
        var body: [UInt8] = []
        var i = bytes.startIndex
        while true {
            guard let eol = find([13, 10], in: bytes[i...], limit: 1024) else { throw Malformed(reason: "a chunk size line is cut short or too long") }
            var sizeText = bytes[i..<eol]
            if let semicolon = sizeText.firstIndex(of: UInt8(ascii: ";")) { sizeText = sizeText[..<semicolon] }
            let hex = String(decoding: sizeText, as: UTF8.self).trimmingSpaces()
            guard !hex.isEmpty, hex.utf8.count <= 15, let size = Int(hex, radix: 16), size >= 0 else {
                throw Malformed(reason: "a chunk size is not hexadecimal: \(excerpt(sizeText))")
            }
            i = eol + 2
            if size == 0 { return body } // trailers, if any, are not read
            guard bytes.endIndex - i >= size + 2 else { throw Malformed(reason: "a chunk is cut short") }
            body.append(contentsOf: bytes[i..<(i + size)])
            guard bytes[i + size] == 13, bytes[i + size + 1] == 10 else { throw Malformed(reason: "a chunk does not end with CRLF") }
            i += size + 2
        }
    }

    /// The index where `needle` starts in `haystack`, looking at most `limit` bytes in.
    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, limit: Int) -> Int? {
        let end = min(haystack.endIndex, haystack.startIndex + limit + needle.count)
        guard end - haystack.startIndex >= needle.count else { return nil }
        var i = haystack.startIndex
        while i + needle.count <= end {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], limit: Int) -> Int? {
        find(needle, in: haystack[...], limit: limit)
    }

    /// Header lines, split at CRLF.
    private static func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 13, i + 1 < head.endIndex, head[i + 1] == 10 {
                lines.append(head[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    /// At most 60 bytes of `bytes`, printable.
    static func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        let cut = bytes.prefix(60).map { $0 >= 32 && $0 < 127 ? Character(Unicode.Scalar($0)) : "." }
        return "\"" + String(cut) + (bytes.count > 60 ? "...\"" : "\"")
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (HTTP's optional white space).
    fileprivate func trimmingSpaces() -> String {
        let utf8 = self.utf8
        let start = utf8.firstIndex(where: { $0 != 32 && $0 != 9 }) ?? utf8.endIndex
        let end = utf8.lastIndex(where: { $0 != 32 && $0 != 9 }).map { utf8.index(after: $0) } ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
