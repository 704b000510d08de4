#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One request to a Docker rootless daemon's own API socket (`$XDG_RUNTIME_DIR/docker.sock`):
/// `GET /v1.41/containers/json`, the running containers with their names and addresses.
///
/// The same rule as every socket slirpmon talks to: the request goes only to a socket proven
/// held by that daemon. dockerd listens inside RootlessKit's network namespace, where the
/// host's sock_diag cannot see it, so the proof is the daemon's own `/proc/PID/net/unix` (its
/// namespace's table): a listening socket bound to the path whose inode is one of dockerd's
/// fds. The client then connects only to the file proven (pinned by device and inode) and
/// writes nothing unless `SO_PEERCRED` names dockerd. One deadline for connect, write and
/// reply; the reply is read up to `maximumReplyBytes`; the answer is parsed as hostile
/// (`DockerContainerAddress.parse(containersJSON:)`).
///
/// Written on the same hand-written HTTP as RootlessKit's API (`HTTPReply`): one request,
/// `Connection: close`, `Host: docker` (Go's server requires a Host header, any value).
public struct DockerEngineAPI: Sendable {
    /// The Engine API of docker.io 20.10.24 (`GET /version`: `"ApiVersion":"1.41"`); a versioned
    /// path keeps the reply's shape when the daemon is newer (Docker serves older versions).
    public static let apiVersion = "v1.41"
    /// The most read from the daemon: 1000 containers of a few KiB each.
    public static let maximumReplyBytes = 8 << 20

    /// The socket layer, pinned to the proven file and dockerd's PID.
    public let transport: APIClient

    /// A client of `socket`, proven now to be held by dockerd `pid`; a `DockerError` saying why not.
    public static func of(dockerdPID pid: Int32, socket: String, timeout: Double = 2,
                          procRoot: String = "/proc") -> Result<DockerEngineAPI, DockerError> {
        let context = "Docker API socket \(socket) (dockerd pid \(pid))"
        guard socket.hasPrefix("/"), socket.utf8.count < 108, !socket.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) else {
            return .failure(DockerError("dockerd pid \(pid)'s socket", "the path is not an absolute path of at most 107 plain bytes"))
        }
        let st: stat
        do throws(SystemError) { st = try Files.status(socket) } catch {
            return .failure(DockerError(context, "\(SocketOwnership.absent(path: socket, error: error))"))
        }
        guard st.st_mode & 0o170000 == 0o140000 else { return .failure(DockerError(context, "not a socket")) }
        let sockets = HeldSockets.read(pid, procRoot: procRoot)
        guard let held = sockets.inodes else {
            return .failure(DockerError(context, "dockerd's file descriptors cannot be read (\(sockets.error?.reason ?? "?")), so the socket is not proven its own and nothing was sent"))
        }
        guard let table = try? Files.readText("\(procRoot)/\(pid)/net/unix") else {
            return .failure(DockerError(context, "/proc/\(pid)/net/unix cannot be read, so the socket is not proven dockerd's and nothing was sent"))
        }
        let bound = UnixSocketTable.parse(table).filter { $0.isListening && $0.path == socket }
        guard bound.contains(where: { held.contains($0.inode) }) else {
            return .failure(DockerError(context, "dockerd holds no listening socket bound to it, so nothing was sent"))
        }
        guard bound.count == 1 else {
            return .failure(DockerError(context, "another listening socket is bound to the same path too (replaced?), so nothing was sent"))
        }
        return .success(DockerEngineAPI(transport: APIClient(socketPath: socket, expectedPID: pid, expectedFile: SocketFile(st),
                                                             timeout: timeout, maximumReplyBytes: maximumReplyBytes)))
    }

    /// The running containers (`GET /v1.41/containers/json`).
    public func containers() -> Result<[DockerContainerAddress], DockerError> {
        let context = "Docker API socket \(transport.socketPath)"
        let bytes: [UInt8]
        do {
            bytes = try transport.exchangeRaw(HTTPReply.request(method: "GET", target: "/\(Self.apiVersion)/containers/json", host: "docker"),
                                              endingWrite: false)
        } catch {
            return .failure(DockerError(context, "\(error)"))
        }
        let reply: HTTPReply
        do { reply = try HTTPReply.parse(bytes) } catch { return .failure(DockerError(context, "not an HTTP reply: \(error.reason)")) }
        guard reply.status == 200 else {
            return .failure(DockerError(context, "status \(reply.status), not 200: \(HTTPReply.excerpt(reply.body[...]))"))
        }
        return DockerContainerAddress.parse(containersJSON: reply.body, context: context)
    }
}
