/// A client of one RootlessKit REST API socket (`$STATE/api.sock`): `GET /v1/info`,
/// `GET|POST /v1/ports`, `DELETE /v1/ports/{id}`.
///
/// One request per connection (`Connection: close`), HTTP/1.1 as `HTTPReply` reads it, except
/// for a batch sent `over` one `KeptConnection`. Connect, write and reply share one deadline per
/// request, so a hung rootlesskit costs at most `timeout`. The reply is
/// read whole, with no fixed buffer (Podman reads 2 KiB), up to `maximumReplyBytes` against a
/// hostile peer. When `expectedPID` is set (the rootlesskit parent, which listens on the socket),
/// nothing is written unless `SO_PEERCRED` names that process; when `expectedFile` is set (the
/// socket file `RootlessKitEndpoint` proved the process holds), the connection goes to that
/// file only, as `APIClient` does for slirp4netns.
public struct RootlessKitAPI: Sendable {
    /// The socket layer: connect (pinned), `SO_PEERCRED`, write, read to the close within the cap.
    public var transport: APIClient
    public var socketPath: String { transport.socketPath }

    public init(socketPath: String, expectedPID: Int32? = nil, expectedFile: SocketFile? = nil, timeout: Double = 2,
                maximumReplyBytes: Int = 16 << 20) {
        transport = APIClient(socketPath: socketPath, expectedPID: expectedPID, expectedFile: expectedFile, timeout: timeout,
                              maximumReplyBytes: maximumReplyBytes)
    }

    /// The instance's versions, state directory, child PID and drivers (`GET /v1/info`).
    public func info() throws(RootlessKitAPIError) -> RootlessKitInfo {
        let reply = try exchange(method: "GET", target: "/v1/info")
        let value = try json(reply, expecting: 200)
        guard let info = RootlessKitInfo(value) else { throw bad(reply, "no apiVersion and version in the info") }
        return info
    }

    /// The ports, by id (`GET /v1/ports`; RootlessKit answers `null` for none and lists them unsorted).
    public func ports() throws(RootlessKitAPIError) -> [RootlessKitPort] {
        let reply = try exchange(method: "GET", target: "/v1/ports")
        let value = try json(reply, expecting: 200, fragmentsAllowed: true)
        if value == .null { return [] }
        guard let items = value.array else { throw bad(reply, "the port list is not an array") }
        var ports: [RootlessKitPort] = []
        ports.reserveCapacity(items.count)
        for item in items {
            guard let port = RootlessKitPort(item) else { throw bad(reply, "a port is not {id, spec{proto, parentPort, childPort}}: \(excerpt(item))") }
            ports.append(port)
        }
        return ports.sorted { $0.id < $1.id }
    }

    /// Adds a port (`POST /v1/ports`, answered 201 with the new id); a spec with a `problem` (on
    /// `info`, the instance's drivers, when given) is not sent.
    @discardableResult
    public func add(_ spec: RootlessKitPortSpec, on info: RootlessKitInfo? = nil, over connection: APIClient.KeptConnection? = nil) throws(RootlessKitAPIError) -> RootlessKitPort {
        if let problem = info.map(spec.problem(on:)) ?? spec.problem { throw .invalidRequest(problem) }
        let body: [UInt8]
        do { body = try JSONText.encode(spec, pretty: false) } catch { throw .invalidRequest("the spec cannot be written as JSON: \(error)") }
        let reply = try exchange(method: "POST", target: "/v1/ports", body: body, over: connection)
        let value = try json(reply, expecting: 201)
        guard let port = RootlessKitPort(value) else { throw bad(reply, "no {id, spec} in the reply to the new port") }
        // What was added is what was sent: the peer's echo is not repeated as the port (only its id is new).
        return RootlessKitPort(id: port.id, spec: spec)
    }

    /// Removes the port with `id` (`DELETE /v1/ports/{id}`, answered 200 with no body).
    public func remove(id: Int, over connection: APIClient.KeptConnection? = nil) throws(RootlessKitAPIError) {
        let reply = try exchange(method: "DELETE", target: "/v1/ports/\(id)", over: connection)
        try refusal(reply)
        guard reply.status == 200 else { throw bad(reply, "status \(reply.status), not 200") }
        guard reply.body.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) else { throw bad(reply, "a body where none is sent: \(HTTPReply.excerpt(reply.body[...]))") }
    }

    /// The JSON body of a reply with status `expecting`; RootlessKit's `{"message"}` for an error status.
    private func json(_ reply: HTTPReply, expecting status: Int, fragmentsAllowed: Bool = false) throws(RootlessKitAPIError) -> JSONValue {
        try refusal(reply)
        guard reply.status == status else { throw bad(reply, "status \(reply.status), not \(status)") }
        do { return try JSONValue.parse(reply.body, fragmentsAllowed: fragmentsAllowed) } catch {
            throw bad(reply, "the body is not JSON (at byte \(error.offset)): \(HTTPReply.excerpt(reply.body[...]))")
        }
    }

    /// Throws RootlessKit's own error for a 4xx or 5xx reply: its `message`, verbatim.
    private func refusal(_ reply: HTTPReply) throws(RootlessKitAPIError) {
        guard reply.status >= 400 else { return }
        guard let value = try? JSONValue.parse(reply.body), let message = value["message"]?.string else {
            throw bad(reply, "an error status without RootlessKit's {\"message\"}: \(HTTPReply.excerpt(reply.body[...]))")
        }
        throw .rootlesskit(status: reply.status, message: message)
    }

    private func bad(_ reply: HTTPReply, _ reason: String) -> RootlessKitAPIError {
        .badReply(path: socketPath, status: reply.status, reason: reason)
    }

    private func excerpt(_ value: JSONValue) -> String {
        HTTPReply.excerpt(Array(((try? value.text(pretty: false)) ?? "?").utf8)[...])
    }

    /// Sends one request and parses the reply.
    func exchange(method: String, target: String, body: [UInt8]? = nil, over connection: APIClient.KeptConnection? = nil) throws(RootlessKitAPIError) -> HTTPReply {
        let bytes: [UInt8]
        if let connection {
            do { bytes = try connection.exchange(HTTPReply.request(method: method, target: target, body: body, keepAlive: true), end: HTTPReply.end(of:)) } catch {
                throw .transport(error)
            }
        } else {
            bytes = try exchangeRaw(HTTPReply.request(method: method, target: target, body: body))
        }
        do { return try HTTPReply.parse(bytes) } catch { throw .badReply(path: socketPath, status: nil, reason: error.reason) }
    }

    /// Sends the request bytes and returns the reply bytes, read until the peer closes (the request
    /// says `Connection: close`; its end is not signalled with a half-close).
    func exchangeRaw(_ request: [UInt8]) throws(RootlessKitAPIError) -> [UInt8] {
        do { return try transport.exchangeRaw(request, endingWrite: false) } catch { throw .transport(error) }
    }
}
