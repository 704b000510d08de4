#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The instances `slirpmon demo` runs: one plain with an API socket and two forwards,
/// one with a custom cidr and IPv6 and one forward, one without an API socket. With a
/// server command, a server answers inside each namespace behind every forward.
public enum DemoFleet {
    /// Namespaces are named `slirpmon-demo-<our pid>-<name>`.
    public static let prefixBase = "slirpmon-demo"

    /// Starts the demo instances in a new lab; the caller tears it down.
    /// Its sockets and logs go in a new private directory `PARENT/slirpmon-demo-PID.XXXXXX`.
    /// `server(name, ports)` is the argv of a program to answer on those TCP ports inside the
    /// instance `name`'s namespace (`slirpmon demo-server`); nil: nothing listens there.
    public static func start(parent: String = "/tmp", server: ((String, [Int]) -> [String])? = nil) throws(SlirpLab.LabError) -> SlirpLab {
        removeStaleNamespaces()
        let lab = try SlirpLab(prefix: "\(prefixBase)-\(getpid())", parent: parent)
        do {
            let web = try freeTCPPort(), admin = try freeTCPPort(), app = try freeTCPPort()
            var plain = SlirpLab.Spec(name: "web", forwards: [
                ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: web, guestPort: Port.http),
                ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: admin, guestPort: Port.httpAlternate),
            ])
            plain.mtu = 65520
            var custom = SlirpLab.Spec(name: "custom", cidr: "10.99.128.0/17", ipv6: true, forwards: [
                ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: app, guestPort: Port.http),
            ])
            custom.mtu = 1500
            for var spec in [plain, custom, SlirpLab.Spec(name: "noapi", apiSocket: false)] {
                // Behind every forward's guest port; port 80 where there is no forward.
                let ports = Set(spec.forwards.map { Int($0.guestPort.value) }).sorted()
                let listening = ports.isEmpty ? [Int(Port.http.value)] : ports
                spec.server = server.map { SlirpLab.Server(command: $0(spec.name, listening), ports: listening) }
                try lab.start(spec)
            }
        } catch {
            lab.tearDown()
            throw error
        }
        return lab
    }

    /// Deletes `ip netns` namespaces left by a demo whose process no longer exists (killed with SIGKILL).
    public static func removeStaleNamespaces() {
        guard geteuid() == 0, let names = try? Files.directoryEntries("/run/netns"), let ip = Executables.find("ip") else { return }
        for name in names where name.hasPrefix(prefixBase + "-") {
            let rest = name.dropFirst(prefixBase.count + 1)
            guard let pidText = rest.split(separator: "-").first, let pid = Int32(pidText) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = Executables.run(ip, ["netns", "delete", name], timeout: 5) }
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it).
    public static func freeTCPPort() throws(SlirpLab.LabError) -> Port {
        try freePort(type: Int32(SOCK_STREAM.rawValue))
    }

    /// A UDP port on 127.0.0.1 that nothing is bound to right now.
    public static func freeUDPPort() throws(SlirpLab.LabError) -> Port {
        try freePort(type: Int32(SOCK_DGRAM.rawValue))
    }

    private static func freePort(type: Int32) throws(SlirpLab.LabError) -> Port {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw .setup("socket: \(SystemError("socket").reason)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok, let port = Port(Int(UInt16(bigEndian: address.sin_port))) else { throw .setup("cannot find a free port") }
        return port
    }
}
