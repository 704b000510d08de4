#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One question asked of slirp4netns's DNS address from inside the instance's network namespace,
/// as a process of the container asks it, and what came back, timed.
public struct DNSProbe: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        /// A reply came (its `code` says whether the name exists).
        case answered
        /// An ICMP port unreachable came back: slirp4netns relays the host resolver's refusal
        /// (nothing listens on port 53 at the address it forwards to).
        case refused
        /// Nothing came back before the deadline: slirp4netns dropped the query (no nameserver of
        /// that family in its resolv.conf, --disable-dns) or the host resolver is silent.
        case timeout
        /// The query could not be sent (no route to the address in the namespace) or the reply was malformed.
        case error
    }

    /// The address asked (10.0.2.3, fd00::3).
    public let server: String
    /// `A` or `AAAA`.
    public let type: String
    public let outcome: Outcome
    /// The reply's code word (`NOERROR`, `NXDOMAIN`, `SERVFAIL`...), when answered.
    @NullWhenAbsent public private(set) var code: String?
    /// The addresses answered for the name.
    public let addresses: [String]
    /// From the query sent to the reply (or the refusal), in milliseconds; the deadline's length for a timeout.
    @NullWhenAbsent public private(set) var milliseconds: Double?
    /// What went wrong, in words, for `error`.
    @NullWhenAbsent public private(set) var error: String?

    public init(server: String, type: String, outcome: Outcome, code: String? = nil, addresses: [String] = [],
                milliseconds: Double? = nil, error: String? = nil) {
        (self.server, self.type, self.outcome, self.addresses) = (server, type, outcome, addresses)
        self.code = code
        self.milliseconds = milliseconds
        self.error = error
    }

    /// True when the resolver answered (the name existing or not): DNS through slirp4netns works.
    public var resolverAnswers: Bool { outcome == .answered && (code == "NOERROR" || code == "NXDOMAIN") }

    /// Asks each of `servers` (IPv4 or IPv6 literals, each with the seconds to wait for it) for
    /// `name` (A for an IPv4 server, AAAA for an IPv6 one), all at once, from a throwaway thread
    /// inside the network namespace at `path` (`NamespaceReader.runInside`: root, and with
    /// `owner`, only a namespace that user owns).
    ///
    /// With `tap`, the first server (slirp4netns's IPv4 DNS address) is also followed on its way
    /// out (`DNSRoute`): the kernel's route to it in the namespace, and the tap's sent packets around its send.
    public static func ask(_ servers: [(server: String, timeout: Double)], name labels: [[UInt8]],
                           inNamespace path: String, owner: UInt32?, tap: String? = nil) -> Result<([DNSProbe], DNSRoute?), NamespaceReader.Failure> {
        NamespaceReader.runInside(path, owner: owner) {
            var route: DNSRoute?
            let probes = askHere(servers, labels: labels, tap: tap, route: &route)
            return .success((probes, route))
        }
    }

    /// Seconds the tap is watched after the path check's query is sent (slirp4netns reads its tap at once).
    static let pathWait = 0.2
    /// Seconds the tap is watched before that query: packets sent then are others' (`DNSRoute.tapBusy`).
    static let quietWait = 0.06
    /// Microseconds between two reads of the tap's counters: /proc/net/dev is as long as the
    /// namespace's owner makes it (one line an interface), so it is read a few times, not in a spin.
    static let counterPoll: UInt32 = 20_000
    /// The most of the namespace's /proc/net/dev read (about 8000 interfaces); a longer one is not read.
    static let netDevLimit = 1 << 20

    /// Packets the tap sent to slirp4netns while one query to `server` was sent and `pathWait`
    /// passed (stopping at the first), and whether it sent any in the `quietWait` before; nil when
    /// the tap's counters cannot be read or nothing was sent.
    private static func packetsSent(through tap: String, sending labels: [[UInt8]], to server: String) -> (sent: UInt64, busy: Bool)? {
        guard let first = tapPacketsSent(tap) else { return nil }
        usleep(UInt32(quietWait * 1e6))
        guard let before = tapPacketsSent(tap) else { return nil }
        let query = DNSMessage.query(id: UInt16.random(in: 0...UInt16.max), labels: labels, type: .a)
        guard case .success(let (fd, _)) = send(query, to: server) else { return nil }
        defer { close(fd) }
        let until = Deadline.after(seconds: pathWait)
        while true {
            guard let now = tapPacketsSent(tap) else { return nil }
            if now > before || until.hasPassed { return (now >= before ? now - before : 0, before != first) }
            usleep(counterPoll)
        }
    }

    /// The tap's sent packets in the calling thread's namespace, nil when not readable (or longer than `netDevLimit`).
    private static func tapPacketsSent(_ tap: String) -> UInt64? {
        (try? Files.readText("/proc/thread-self/net/dev", limit: netDevLimit)).flatMap { InterfaceCounters.parse(netDev: $0, interface: tap)?.txPackets }
    }

    /// `ask` in the calling thread's network namespace; `route` is filled with `tap`.
    static func askHere(_ asked: [(server: String, timeout: Double)], labels: [[UInt8]], tap: String? = nil, route: inout DNSRoute?) -> [DNSProbe] {
        let servers = asked.map(\.server)
        let deadline = Deadline.after(seconds: asked.map(\.timeout).max() ?? 0)
        var probes = [DNSProbe?](repeating: nil, count: servers.count)
        var pending: [(index: Int, fd: Int32, query: [UInt8], type: DNSMessage.QueryType, sent: Deadline)] = []
        defer { for p in pending { close(p.fd) } }
        for (index, server) in servers.enumerated() {
            let type: DNSMessage.QueryType = server.contains(":") ? .aaaa : .a
            let query = DNSMessage.query(id: UInt16.random(in: 0...UInt16.max), labels: labels, type: type)
            let follow = index == 0 && type == .a ? tap : nil
            let result = send(query, to: server)
            if let follow {
                let table = DNSRoute.lookup(server, tap: follow)
                var refused = false
                if case .failure(let error) = result { refused = error.errno == .notPermitted }
                route = DNSRoute(tap: follow, kind: table.kind, interface: table.interface, tapPacketsSent: nil, blockedByFirewall: refused)
            }
            switch result {
            case .success(let (fd, sent)): pending.append((index, fd, query, type, sent))
            case .failure(let error):
                probes[index] = DNSProbe(server: server, type: type.word, outcome: .error, error: error.description)
            }
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !pending.isEmpty && !deadline.hasPassed {
            // A probe past its own wait is a timeout; the others go on.
            for slot in pending.indices.reversed() where Deadline.now.seconds(since: pending[slot].sent) >= asked[pending[slot].index].timeout {
                let p = pending.remove(at: slot)
                close(p.fd)
                probes[p.index] = DNSProbe(server: servers[p.index], type: p.type.word, outcome: .timeout, milliseconds: asked[p.index].timeout * 1000)
            }
            guard let soonest = pending.map({ $0.sent.nanoseconds + UInt64(asked[$0.index].timeout * 1e9) }).min() else { break }
            var fds = pending.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard FileDescriptor.poll(&fds, until: min(deadline, Deadline(nanoseconds: soonest))) > 0 else { continue }
            var finished: [Int] = []
            for (slot, fd) in fds.enumerated() where fd.revents != 0 {
                let p = pending[slot], server = servers[p.index]
                let count = buffer.withUnsafeMutableBytes { recv(p.fd, $0.baseAddress, $0.count, 0) }
                let elapsed = Deadline.now.seconds(since: p.sent) * 1000
                if count < 0 {
                    let errno = Errno.current
                    if errno == .wouldBlock || errno == .interrupted { continue }
                    probes[p.index] = errno == .connectionRefused
                        ? DNSProbe(server: server, type: p.type.word, outcome: .refused, milliseconds: elapsed)
                        : DNSProbe(server: server, type: p.type.word, outcome: .error, milliseconds: elapsed, error: "recv: \(errno)")
                    finished.append(slot)
                    continue
                }
                do throws(DNSMessage.ReplyError) {
                    let reply = try DNSMessage.reply(Array(buffer[0..<count]), to: p.query, type: p.type)
                    probes[p.index] = DNSProbe(server: server, type: p.type.word, outcome: .answered, code: reply.codeWord,
                                               addresses: reply.addresses, milliseconds: elapsed)
                    finished.append(slot)
                } catch {
                    // Another datagram (not our ID or question) is left unread in effect: keep waiting.
                    if case .malformed(let why) = error {
                        probes[p.index] = DNSProbe(server: server, type: p.type.word, outcome: .error, milliseconds: elapsed,
                                                   error: "malformed reply: \(why)")
                        finished.append(slot)
                    }
                }
            }
            for slot in finished.sorted(by: >) {
                close(pending[slot].fd)
                pending.remove(at: slot)
            }
        }
        for p in pending {
            probes[p.index] = DNSProbe(server: servers[p.index], type: p.type.word, outcome: .timeout, milliseconds: asked[p.index].timeout * 1000)
        }
        // An unanswered IPv4 query is sent once more, alone (nothing else of ours in flight), and the
        // tap watched: its "sent" count grows when slirp4netns reads a packet from it, so none in
        // `pathWait` means the query never reached slirp4netns.
        if let tap, let first = probes.first ?? nil, first.type == "A", first.outcome != .answered, let current = route, !current.blockedByFirewall {
            let watched = packetsSent(through: tap, sending: labels, to: first.server)
            route = DNSRoute(tap: tap, kind: current.kind, interface: current.interface,
                             tapPacketsSent: watched?.sent, tapBusy: watched?.busy ?? false, blockedByFirewall: false)
        }
        return probes.enumerated().map { index, probe in
            probe ?? DNSProbe(server: servers[index], type: servers[index].contains(":") ? "AAAA" : "A", outcome: .error, error: "not asked")
        }
    }

    /// `connect(fd, address)` for a `sockaddr_in` or `sockaddr_in6`. The corresponding C function is `connect`.
    private static func connect<Address>(_ fd: Int32, to address: Address) -> Int32 {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// A connected, non-blocking UDP socket to `server` port 53 with `query` sent on it, and when;
    /// connected, so an ICMP port unreachable comes back as ECONNREFUSED on the next `recv`.
    private static func send(_ query: [UInt8], to server: String) -> Result<(Int32, Deadline), SystemError> {
        let ipv6 = server.contains(":")
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(SystemError("socket", server)) }
        let parsed: Bool, connected: Int32
        if ipv6 {
            var address = sockaddr_in6()
            (address.sin6_family, address.sin6_port) = (sa_family_t(AF_INET6), in_port_t(53).bigEndian)
            parsed = inet_pton(AF_INET6, server, &address.sin6_addr) == 1
            connected = parsed ? connect(fd, to: address) : -1
        } else {
            var address = sockaddr_in()
            (address.sin_family, address.sin_port) = (sa_family_t(AF_INET), in_port_t(53).bigEndian)
            parsed = inet_pton(AF_INET, server, &address.sin_addr) == 1
            connected = parsed ? connect(fd, to: address) : -1
        }
        guard parsed else {
            close(fd)
            return .failure(SystemError("inet_pton", server, errno: .invalidArgument, detail: "not an IP address"))
        }
        guard connected == 0 else {
            let error = SystemError("connect", "\(server) port 53")
            close(fd)
            return .failure(error)
        }
        let sent = Deadline.now
        let written = query.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard written == query.count else {
            let error = SystemError("send", "\(server) port 53")
            close(fd)
            return .failure(error)
        }
        return .success((fd, sent))
    }
}
