#if canImport(Glibc)
import Glibc
#endif

/// The floor for adding forwards: slirp4netns's own cost per request, with no validation,
/// no peer check, no JSON decoding. One blocking connect / write / shutdown / read per request.
enum RawClient {
    /// `slirpmon-bench raw-add SOCKET FIRST_PORT COUNT`: adds tcp 127.0.0.1:P -> P for COUNT ports.
    static func addForwards(socket path: String, firstPort: Int, count: Int) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < 108 else { return 2 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        var reply = [UInt8](repeating: 0, count: 4096)
        for port in firstPort..<(firstPort + count) {
            let request = Array("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":\(port),\"guest_port\":\(port)}}\n".utf8)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return 1 }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0, write(fd, request, request.count) == request.count else { close(fd); return 1 }
            shutdown(fd, Int32(SHUT_WR))
            var total = 0
            while true {
                let n = read(fd, &reply, reply.count)
                if n <= 0 { break }
                total += n
            }
            close(fd)
            if total == 0 { return 1 }
        }
        return 0
    }
}
