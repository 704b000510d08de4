/// A client of one slirp4netns API socket.
///
/// One request per connection, as slirp4netns expects: one write of one JSON
/// line, `shutdown(SHUT_WR)`, then the reply read until EOF with no fixed buffer
/// (Podman reads 2 KiB and truncates long lists). Connect and reply share one
/// deadline. When `expectedPID` is set, the request is sent only if the process
/// listening on the socket is that slirp4netns (`SO_PEERCRED`): a replaced path
/// never receives anything. When `expectedFile` is set (the socket file `SocketOwnership`
/// proved the process holds), the connection goes to that file only: a path swapped after
/// the check is not even connected to (`UnixStreamSocket.open(_:pinned:)`).
public struct APIClient: Sendable {
    public let socketPath: String
    public let expectedPID: Int32?
    public let expectedFile: SocketFile?
    public var timeout: Double
    public var maximumReplyBytes: Int

    public init(socketPath: String, expectedPID: Int32? = nil, expectedFile: SocketFile? = nil, timeout: Double = 2,
                maximumReplyBytes: Int = 64 << 20) {
        self.socketPath = socketPath
        self.expectedPID = expectedPID
        self.expectedFile = expectedFile
        self.timeout = timeout
        self.maximumReplyBytes = maximumReplyBytes
    }

    /// The forwards added through the API (`list_hostfwd`).
    public func list() throws(APIError) -> [HostForward] {
        try forwards(in: exchange(APIMessage.listRequest()))
    }

    /// The forwards a `list_hostfwd` reply names.
    func forwards(in reply: APIMessage.Reply) throws(APIError) -> [HostForward] {
        switch reply {
        case .entries(let entries): return entries
        case .error(let desc): throw .slirp(desc: desc)
        default: throw .badReply(path: socketPath, .unexpectedShape(excerpt: "not a list"))
        }
    }

    /// Adds a forward (`add_hostfwd`) and returns its id.
    @discardableResult
    public func add(_ request: ForwardRequest) throws(APIError) -> Int {
        switch try exchange(APIMessage.addRequest(request)) {
        case .added(let id): return id
        case .error(let desc): throw .slirp(desc: desc)
        default: throw .badReply(path: socketPath, .unexpectedShape(excerpt: "no id in the reply"))
        }
    }

    /// Removes the forward with `id` (`remove_hostfwd`).
    public func remove(id: Int) throws(APIError) {
        switch try exchange(APIMessage.removeRequest(id: id)) {
        case .done: return
        case .error(let desc): throw .slirp(desc: desc)
        default: throw .badReply(path: socketPath, .unexpectedShape(excerpt: "unexpected reply to remove_hostfwd"))
        }
    }

    /// Sends one request and decodes the reply.
    public func exchange(_ request: [UInt8]) throws(APIError) -> APIMessage.Reply {
        try decode(try exchangeRaw(request))
    }

    func decode(_ bytes: [UInt8]) throws(APIError) -> APIMessage.Reply {
        do { return try APIMessage.decode(bytes) } catch { throw .badReply(path: socketPath, error) }
    }

    /// Sends one request and returns the raw reply bytes. `endingWrite`: signal the request's end with
    /// `shutdown(SHUT_WR)`, as slirp4netns needs (not to an HTTP peer: Go's net/http cancels the request of a client that half-closes).
    public func exchangeRaw(_ request: [UInt8], endingWrite: Bool = true) throws(APIError) -> [UInt8] {
        let deadline = Deadline.after(seconds: timeout)
        do {
            let socket = try connect(deadline: deadline)
            try socket.writeAll(request, deadline: deadline)
            if endingWrite { try socket.shutdownWrite() }
            return try socket.readToEnd(deadline: deadline, limit: maximumReplyBytes)
        } catch let error as APIError {
            throw error
        } catch let failure as UnixStreamSocket.Failure {
            throw map(failure)
        } catch {
            throw .transfer(path: socketPath, SystemError("exchange", socketPath, errno: .ioError))
        }
    }

    /// A connection kept for a batch of HTTP requests (RootlessKit's API), as `rootlessctl` keeps
    /// one: connected and its peer checked once, then each request sent on it and its reply read
    /// to the end its framing gives (`end`). Any failure, or a reply that only the peer's close
    /// ends, drops it: the next request connects anew. A request is never sent twice.
    public final class KeptConnection {
        let client: APIClient
        private var socket: UnixStreamSocket?

        init(_ client: APIClient) { self.client = client }

        /// Sends `request` and returns the reply's bytes; `end`: where a reply ends (nil: at the close).
        func exchange(_ request: [UInt8], end: @escaping ([UInt8]) -> Int?) throws(APIError) -> [UInt8] {
            let deadline = Deadline.after(seconds: client.timeout)
            do {
                let socket = try self.socket ?? client.connect(deadline: deadline)
                self.socket = nil
                try socket.writeAll(request, deadline: deadline)
                let reply = try socket.readToEnd(deadline: deadline, limit: client.maximumReplyBytes, end: end)
                // Kept only when its framing ended the reply exactly (not the peer's close, no bytes beyond).
                if end(reply) == reply.count { self.socket = socket }
                return reply
            } catch let error as APIError {
                throw error
            } catch let failure as UnixStreamSocket.Failure {
                throw client.map(failure)
            } catch {
                throw .transfer(path: client.socketPath, SystemError("exchange", client.socketPath, errno: .ioError))
            }
        }

        /// Closes the connection (also when dropped).
        public func close() { socket = nil }
    }

    /// A connection to keep for a batch of HTTP requests.
    public func keptConnection() -> KeptConnection { KeptConnection(self) }

    /// A new connection to the socket, its peer checked (`expectedPID`).
    func connect(deadline: Deadline) throws -> UnixStreamSocket {
        let socket = try UnixStreamSocket.connect(to: socketPath, pinned: expectedFile, deadline: deadline)
        if let expectedPID {
            let peer = try socket.peerCredentials()
            guard peer.pid == expectedPID else {
                throw APIError.wrongPeer(path: socketPath, expected: expectedPID, actual: peer.pid)
            }
        }
        return socket
    }

    func map(_ failure: UnixStreamSocket.Failure) -> APIError {
        switch failure {
        case .pathTooLong(let bytes): .pathTooLong(path: socketPath, bytes: bytes)
        case .timedOut(let phase): .timedOut(path: socketPath, phase: phase, seconds: timeout)
        case .tooLarge(let limit): .replyTooLarge(path: socketPath, limit: limit)
        case .replaced: .replaced(path: socketPath, expected: expectedPID ?? 0)
        case .system(let error): error.operation == "connect" ? .connect(path: socketPath, error) : .transfer(path: socketPath, error)
        }
    }
}
