#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The small HTTP server the demo runs inside each of its namespaces, so that every forward
/// it shows answers `curl 127.0.0.1:PORT` through slirp4netns.
///
/// It runs as the process that holds the namespace (started by `ip netns exec` or
/// `unshare --net`), answers every connection with one short text page saying where it was
/// reached, and ends with its parent: the demo, which stops it on exit.
public enum DemoServer {
    /// The page served on `port` of the namespace `name`.
    public static func page(name: String, port: Int) -> String {
        "slirpmon demo: you reached port \(port) inside the \"\(name)\" namespace, through slirp4netns.\n"
    }

    /// Why the server could not start: one line.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Listens on `ports` (all addresses of the namespace) and answers until the parent is
    /// gone. Returns only when it cannot listen.
    public static func serve(name: String, ports: [Int]) -> Failure {
        let parent = getppid()
        var listeners: [Int32] = []
        for port in ports {
            switch listen(port: port) {
            case .success(let fd): listeners.append(fd)
            case .failure(let failure): return failure
            }
        }
        var fds = listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while getppid() == parent {
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            guard ready > 0 else { continue }
            for (index, entry) in fds.enumerated() where entry.revents & Int16(POLLIN) != 0 {
                answer(listener: entry.fd, page: page(name: name, port: ports[index]))
            }
        }
        return Failure(description: "the demo that started this server is gone")
    }

    private static func listen(port: Int) -> Result<Int32, Failure> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(description: "socket: \(SystemError("socket").reason)")) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let reason = SystemError("bind").reason
            close(fd)
            return .failure(Failure(description: "cannot listen on port \(port): \(reason)"))
        }
        return .success(fd)
    }

    /// Reads what the client sent (at most 4 KiB, for at most a second) and answers with the page.
    private static func answer(listener: Int32, page: String) {
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        defer { close(client) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8](repeating: 0, count: 4096)
        _ = request.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        let response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(page.utf8.count)\r\nConnection: close\r\n\r\n\(page)"
        var bytes = Array(response.utf8)
        _ = bytes.withUnsafeMutableBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
