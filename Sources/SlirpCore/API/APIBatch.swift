#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One request sent to many API sockets at once, their replies awaited in one `poll` on one
/// thread.
///
/// `slirpmon list` asks every instance for its forwards. Instead of eight threads each blocked
/// on one request at a time (eight thread starts per refresh, a wake-up per reply), every
/// request is sent first and the replies are read as they come; the wall time is the
/// slirp4netns side's either way. Each socket gets every check
/// `APIClient` makes: the path's length, `SO_PEERCRED` against the expected PID before anything
/// is written, one request and `shutdown(SHUT_WR)`, the reply read to EOF up to its size limit.
/// All share one deadline: a peer that never answers costs that deadline once, for all, and a
/// full listen backlog is retried every 2 ms until it.
public enum APIBatch {
    /// `list_hostfwd` on every client: its forwards, or why not, in the clients' order.
    public static func list(_ clients: [APIClient]) -> [Result<[HostForward], APIError>] {
        exchange(APIMessage.listRequest(), with: clients) { client, bytes throws(APIError) in try client.forwards(in: client.decode(bytes)) }
    }

    /// Requests in flight at once: enough to keep both sides busy (100 list requests took as long
    /// with 8 in flight as with 100, in C), few enough that `poll` looks at a short list and a
    /// hundred slirp4netns are not all woken at once.
    static let window = 16

    /// Sends `request` on every client and makes each reply into a `T` as it arrives (while
    /// others are still on their way); the results in the clients' order. The deadline is the
    /// longest of the clients' timeouts, from now.
    public static func exchange<T>(_ request: [UInt8], with clients: [APIClient],
                                   reply: (APIClient, [UInt8]) throws(APIError) -> T) -> [Result<T, APIError>] {
        let deadline = Deadline.after(seconds: clients.map(\.timeout).max() ?? 0)
        var results = [Result<T, APIError>?](repeating: nil, count: clients.count)
        var open: [Exchange] = []
        var next = 0 // the next client to start
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 << 10) { scratch in
            var ready = Set<Int>()
            while true {
                while open.count < window && next < clients.count {
                    do throws(UnixStreamSocket.Failure) {
                        open.append(Exchange(index: next, socket: try .open(clients[next].socketPath, pinned: clients[next].expectedFile)))
                        ready.insert(open.count - 1) // a new one is tried at once
                    } catch { results[next] = .failure(clients[next].map(error)) }
                    next += 1
                }
                if open.isEmpty { break }
                for k in open.indices where ready.contains(k) || open[k].state == .backlogFull {
                    let client = clients[open[k].index]
                    do throws(APIError) {
                        if try open[k].advance(request, client: client, deadline: deadline, scratch: scratch) {
                            results[open[k].index] = .success(try reply(client, open[k].reply))
                        }
                    } catch { results[open[k].index] = .failure(error) }
                }
                open.removeAll { results[$0.index] != nil }
                if open.isEmpty && next < clients.count { ready = []; continue }
                guard !open.isEmpty else { break }
                if deadline.hasPassed {
                    for e in open { results[e.index] = .failure(clients[e.index].map(.timedOut(phase: e.state.phase))) }
                    for i in next..<clients.count { results[i] = .failure(clients[i].map(.timedOut(phase: "connect"))) }
                    break
                }
                ready = wait(for: open, deadline: deadline)
            }
        }
        return results.map { $0 ?? .failure(.transfer(path: "", SystemError("exchange", "", errno: .ioError))) }
    }

    /// The indices of `open` whose sockets can make progress, after waiting at most until
    /// `deadline` (2 ms while a connection waits for a full backlog).
    private static func wait(for open: [Exchange], deadline: Deadline) -> Set<Int> {
        // A socket waiting for a full backlog is not polled (an unconnected socket would report
        // itself writable at once, and the loop would spin): it is retried after the 2 ms.
        var fds = open.map { pollfd(fd: $0.state == .backlogFull ? -1 : $0.socket.descriptor, events: $0.state.events, revents: 0) }
        let rc = FileDescriptor.poll(&fds, until: deadline, atMost: open.contains(where: { $0.state == .backlogFull }) ? 2 : .max)
        guard rc > 0 else { return [] } // a timeout: the loop looks at the deadline and tries again
        return Set(fds.indices.filter { fds[$0].revents != 0 })
    }

    /// One request's progress.
    private struct Exchange {
        enum State: Equatable {
            case connecting, backlogFull, inProgress, sending(Int), receiving
            var events: Int16 {
                switch self {
                case .connecting, .backlogFull, .inProgress, .sending: Int16(POLLOUT)
                case .receiving: Int16(POLLIN)
                }
            }
            var phase: String {
                switch self {
                case .connecting, .backlogFull, .inProgress: "connect"
                case .sending: "write"
                case .receiving: "reply"
                }
            }
        }

        let index: Int
        let socket: UnixStreamSocket
        var state = State.connecting
        var reply: [UInt8] = []

        init(index: Int, socket: UnixStreamSocket) {
            self.index = index
            self.socket = socket
        }

        /// Goes as far as the socket allows without waiting; true once the whole reply is in.
        mutating func advance(_ request: [UInt8], client: APIClient, deadline: Deadline,
                              scratch: UnsafeMutableBufferPointer<UInt8>) throws(APIError) -> Bool {
            do {
                while true {
                    switch state {
                    case .connecting, .backlogFull:
                        switch try socket.connectStep() {
                        case .connected: try checkPeer(client); state = .sending(0)
                        case .backlogFull: state = .backlogFull; return false
                        case .inProgress: state = .inProgress; return false
                        }
                    case .inProgress:
                        try socket.finishConnect()
                        try checkPeer(client)
                        state = .sending(0)
                    case .sending(let offset):
                        let sent = try socket.send(request, from: offset)
                        guard sent == request.count else { state = .sending(sent); return false }
                        try socket.shutdownWrite()
                        state = .receiving
                        return false // a reply is never there the moment the request is sent
                    case .receiving:
                        return try socket.receive(into: &reply, limit: client.maximumReplyBytes, deadline: deadline, scratch: scratch)
                    }
                }
            } catch let failure as UnixStreamSocket.Failure {
                throw client.map(failure)
            } catch let error as APIError {
                throw error
            } catch {
                throw .transfer(path: client.socketPath, SystemError("exchange", client.socketPath, errno: .ioError))
            }
        }

        private func checkPeer(_ client: APIClient) throws(APIError) {
            guard let expected = client.expectedPID else { return }
            let peer: PeerCredentials
            do throws(UnixStreamSocket.Failure) { peer = try socket.peerCredentials() } catch { throw client.map(error) }
            guard peer.pid == expected else { throw .wrongPeer(path: client.socketPath, expected: expected, actual: peer.pid) }
        }
    }
}
