/// What a probe of one forward found (`ForwardProbe`), and its verdict with the fix.
/// `slirpmon fwd probe --json` writes it as it is.
public struct ProbeReport: Sendable, Equatable, Encodable {
    /// Which of the cases an operator meets holds.
    public enum Verdict: String, Sendable, Equatable, Encodable {
        /// Host port held by the forward's carrier, a listener on the guest address, and (TCP) a connection made the round trip.
        case works
        /// The forward exists, but nothing in the container listens on its guest address and port.
        case nothingListens = "nothing_listens"
        /// The host port answers, but another process holds it.
        case otherProcess = "other_process"
        /// The forward's guest address is not one of the container's.
        case guestNotContainer = "guest_not_container"
        /// A UDP forward reachable from the host's loopback on an instance with --disable-host-loopback: replies are dropped.
        case udpRepliesDropped = "udp_replies_dropped"
        /// Nothing accepts on the forward's host side (its carrier's socket is gone).
        case hostPortClosed = "host_port_closed"
        /// A listener is there and the host side accepted, but no connection reached it.
        case noRoundTrip = "no_round_trip"
        /// No forward of the instance has the host port asked for.
        case noForward = "no_forward"
        /// The forward's host side lives in another network namespace than slirpmon's (a rootless
        /// Podman inside a container, a user's `unshare -n`): not probed from here.
        case hostElsewhere = "host_elsewhere"
    }

    /// A socket and the process holding it, when found.
    public struct Socket: Sendable, Equatable, Encodable {
        public let address: String
        public let port: Int
        @NullWhenAbsent public var pid: Int32?
        @NullWhenAbsent public var command: String?
        @NullWhenAbsent public var user: String?
        /// True when the holder is the forward's instance (slirp4netns, rootlessport, rootlesskit).
        public let isCarrier: Bool
        let inode: UInt64

        init(_ entry: SocketTable.Entry, pid: Int32?, procRoot: String, isCarrier: Bool) {
            address = entry.local
            port = entry.localPort
            inode = entry.inode
            self.pid = pid
            self.isCarrier = isCarrier
            if let pid {
                command = (try? Files.readText("\(procRoot)/\(pid)/comm"))?.trimmingSpaces
                user = (try? Files.status("\(procRoot)/\(pid)")).map { UserNames.name(of: $0.st_uid) ?? "uid \($0.st_uid)" }
            }
        }

        /// `pid 123 (httpd, user alice)`, or why it is not named.
        public var described: String {
            guard let pid else { return "a process slirpmon cannot see (run as root to name it)" }
            return "pid \(pid) (\(command ?? "?")\(user.map { ", user \($0)" } ?? ""))"
        }

        /// `10.0.2.100:80`, `[::]:80`.
        public var endpoint: String { Format.hostPort(address, port) }

        enum CodingKeys: String, CodingKey { case address, port, pid, command, user, isCarrier = "carrier" }
    }

    public var verdict: Verdict = .works
    /// What holds, in one sentence.
    public var summary = ""
    /// What to do about it; nil when it works.
    public var fix: String?
    /// The forward probed; nil for a host port no forward has.
    public var forward: ProbeForward?
    public var hostPort: Int
    /// Where the probe connected (the host address; loopback for all addresses).
    public var connectAddress: String?
    /// The socket a client on this host reaches, and its holder.
    public var hostHolder: Socket?
    /// How the TCP connect ended; nil when not tried (UDP, or nothing holds the host port).
    public var connect: HostConnect.Outcome?
    /// The guest address the forward delivers to.
    public var guestAddress: String?
    /// False when the guest address is not one of the namespace's.
    public var guestIsLocal = true
    /// The socket in the namespace that takes the forward's connections, and its process.
    public var listener: Socket?
    /// Sockets on the guest port that the forward does not reach (e.g. only 127.0.0.1).
    public var otherListeners: [Socket] = []
    /// Sockets on the guest port beyond the `otherListenersShown` named in `otherListeners`.
    public var otherListenersMore = 0
    /// How many other sockets on the guest port a probe names (each is a search for its holder).
    static let otherListenersShown = 8
    /// TCP: a connection reached the guest port (nil: not tried).
    public var roundTrip: Bool?
    /// The forwarder closed the accepted connection (it could not reach the guest).
    public var closedByForwarder = false
    /// The process through which the namespace was read.
    public var namespacePID: Int32?
    /// Why the namespace could not be read, if so.
    public var namespaceProblem: String?
    /// What was not looked into to name a socket's holder (a process with too many descriptors, the
    /// scan's deadline): a holder left unnamed may be there.
    public var notChecked: [String] = []
    public var connectMilliseconds: Double?
    public var roundTripMilliseconds: Double?
    /// The whole probe.
    public var elapsedMilliseconds: Double = 0

    init(forward: ProbeForward?, hostPort: Int) {
        self.forward = forward
        self.hostPort = hostPort
    }

    /// The report for a forward whose instance has exited (its PID gone or reused): nothing probed.
    public static func exited(_ forward: ProbeForward, pid: Int32) -> ProbeReport {
        var report = ProbeReport(forward: forward, hostPort: forward.hostPort)
        report.set(.noForward, "slirp4netns pid \(pid) has exited (or its PID is another process's now): nothing probed", fix: nil)
        return report
    }

    mutating func set(_ verdict: Verdict, _ summary: String, fix: String?) {
        self.verdict = verdict
        self.summary = summary
        self.fix = fix
    }

    /// The verdict, the first that holds of: host side closed, another process on it, guest
    /// address not the container's, nothing listening, UDP replies dropped, no round trip, works.
    mutating func decide(forward f: ProbeForward, site: ProbeSite) {
        let host = Format.hostPort(connectAddress ?? "?", f.hostPort)
        let guestText = guestAddress.map { Format.hostPort($0, f.guestPort) } ?? ":\(f.guestPort)"
        let restart: String = switch f.carrier {
        case .slirp4netns: "add it again (`slirpmon fwd rm TARGET ID`, then `slirpmon fwd add`), or restart the container"
        case .rootlessport: "restart the container (`podman restart NAME`): rootlessport binds the -p ports when it starts"
        case .rootlesskit: "add the port again (`slirpmon fwd add TARGET`); RootlessKit binds it when asked"
        }
        guard let holder = hostHolder, connect != .refused else {
            set(.hostPortClosed, "nothing accepts on host \(f.proto.rawValue) \(host): the \(f.carrier.rawValue) forward is listed, but its host socket is gone", fix: restart)
            return
        }
        if !holder.isCarrier && holder.pid != nil {
            set(.otherProcess, "host \(f.proto.rawValue) \(host) answers, but it belongs to \(holder.described), not to this forward's \(f.carrier.rawValue)",
                fix: "stop pid \(holder.pid.map(String.init) ?? "?") (or make it bind elsewhere), or give the forward another host port")
            return
        }
        if !guestIsLocal, let guest = guestAddress {
            let own = site.guest.map { " (the container's is \($0))" } ?? ""
            set(.guestNotContainer, "the forward delivers to \(guest), which is not an address of the container's namespace\(own): connections go nowhere",
                fix: f.carrier == .slirp4netns
                    ? "remove it and add it again without --guest-addr (`slirpmon fwd rm TARGET \(f.id.map(String.init) ?? "ID")`, then `slirpmon fwd add TARGET \(f.hostPort):\(f.guestPort)`)"
                    : "add the port again with the child's own address (no childIP)")
            return
        }
        guard let listener else {
            let namespace = namespacePID.map { " (namespace read through pid \($0))" } ?? ""
            if let other = otherListeners.first {
                set(.nothingListens, "the forward delivers to \(guestText), but in the container \(other.described) listens only on \(other.endpoint)\(namespace)",
                    fix: "make the service listen on all addresses (0.0.0.0) or on \(guestAddress ?? "the container's address") in the container")
            } else if let problem = namespaceProblem {
                set(.nothingListens, "no listener found on \(f.proto.rawValue) port \(f.guestPort) in the container: \(problem)",
                    fix: "start the service in the container on port \(f.guestPort)")
            } else {
                set(.nothingListens, "the forward exists, but nothing listens on \(f.proto.rawValue) port \(f.guestPort) in the container\(namespace)",
                    fix: "start the service in the container, or check the port it listens on (the forward's guest port is \(f.guestPort))")
            }
            return
        }
        let loopbackClients = connectAddress.flatMap { IPv4Address($0) }.map(\.isLoopback) ?? false
        if f.proto == .udp && f.carrier == .slirp4netns && site.disableHostLoopback && loopbackClients {
            set(.udpRepliesDropped, "datagrams to \(host) reach \(listener.described) on \(listener.endpoint), but its replies to clients on the host's loopback are dropped: slirp4netns runs with --disable-host-loopback",
                fix: "clients use one of the host's other addresses; or create the container with --network slirp4netns:allow_host_loopback=true, or port_handler=rootlesskit (Podman's default), whose replies are not dropped")
            return
        }
        if f.proto == .tcp && roundTrip != true {
            let how = closedByForwarder ? "the \(f.carrier.rawValue) forwarder accepted, then closed the connection: it could not connect to \(guestText)"
                : connect == .accepted ? "the connection was accepted on the host, but none reached \(listener.endpoint) in the container in time"
                : "the connect to \(host) \(connect?.rawValue.replacingOccurrences(of: "_", with: " ") ?? "was not made")"
            set(.noRoundTrip, "\(listener.described) listens on \(listener.endpoint), but \(how)",
                fix: "check the container's firewall and that the service accepts connections; `slirpmon show TARGET` lists the addresses")
            return
        }
        let trip = f.proto == .tcp ? "a connection to \(host) reached" : "host \(host) is bound and datagrams go to (none sent)"
        set(.works, "\(trip) \(listener.described) listening on \(listener.endpoint) in the container", fix: nil)
    }

    enum CodingKeys: String, CodingKey {
        case verdict, summary, fix, forward, hostPort = "host_port", connectAddress = "connect_address", hostHolder = "host_holder", connect
        case guestAddress = "guest_address", guestIsLocal = "guest_is_local", listener, otherListeners = "other_listeners", otherListenersMore = "other_listeners_more", roundTrip = "round_trip"
        case closedByForwarder = "closed_by_forwarder", namespacePID = "namespace_pid", namespaceProblem = "namespace_problem", notChecked = "not_checked"
        case connectMilliseconds = "connect_ms", roundTripMilliseconds = "round_trip_ms", elapsedMilliseconds = "elapsed_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(summary, forKey: .summary)
        try c.encode(NullWhenAbsent(wrappedValue: fix), forKey: .fix)
        try c.encode(NullWhenAbsent(wrappedValue: forward), forKey: .forward)
        try c.encode(hostPort, forKey: .hostPort)
        try c.encode(NullWhenAbsent(wrappedValue: connectAddress), forKey: .connectAddress)
        try c.encode(NullWhenAbsent(wrappedValue: hostHolder), forKey: .hostHolder)
        try c.encode(NullWhenAbsent(wrappedValue: connect), forKey: .connect)
        try c.encode(NullWhenAbsent(wrappedValue: guestAddress), forKey: .guestAddress)
        try c.encode(guestIsLocal, forKey: .guestIsLocal)
        try c.encode(NullWhenAbsent(wrappedValue: listener), forKey: .listener)
        try c.encode(otherListeners, forKey: .otherListeners)
        try c.encode(otherListenersMore, forKey: .otherListenersMore)
        try c.encode(NullWhenAbsent(wrappedValue: roundTrip), forKey: .roundTrip)
        try c.encode(closedByForwarder, forKey: .closedByForwarder)
        try c.encode(NullWhenAbsent(wrappedValue: namespacePID), forKey: .namespacePID)
        try c.encode(NullWhenAbsent(wrappedValue: namespaceProblem), forKey: .namespaceProblem)
        try c.encode(notChecked, forKey: .notChecked)
        try c.encode(NullWhenAbsent(wrappedValue: connectMilliseconds.map(Self.rounded)), forKey: .connectMilliseconds)
        try c.encode(NullWhenAbsent(wrappedValue: roundTripMilliseconds.map(Self.rounded)), forKey: .roundTripMilliseconds)
        try c.encode(Self.rounded(elapsedMilliseconds), forKey: .elapsedMilliseconds)
    }

    /// Milliseconds to 0.01.
    static func rounded(_ ms: Double) -> Double { (ms * 100).rounded() / 100 }

    /// The report as lines for a terminal: the verdict, the fix, then what was seen and the time.
    public var lines: [String] {
        var out = ["\(verdict.rawValue.uppercased()): \(summary)"]
        if let fix { out.append("  fix: \(fix)") }
        if let f = forward { out.append("  forward: \(f.id.map { "[\($0)] " } ?? "")\(f.summary) (carried by \(f.carrier.rawValue))") }
        let connectWords = connect.map { "connect \($0.rawValue.replacingOccurrences(of: "_", with: " "))\(connectMilliseconds.map { " in " + Self.ms($0) } ?? "")" } ?? "no connect"
        out.append("  host:      \(hostHolder.map { "\($0.endpoint) held by \($0.described)" } ?? "no socket on port \(hostPort)"); \(connectWords)")
        if forward != nil {
            let seen = listener.map { "\($0.endpoint) by \($0.described)" } ?? "no listener on \(guestAddress ?? "?"):\(forward?.guestPort ?? 0)"
            let more = otherListenersMore > 0 ? ", and \(otherListenersMore) more" : ""
            out.append("  container: \(seen)\(otherListeners.isEmpty ? "" : "; also " + otherListeners.map { "\($0.endpoint) by \($0.described)" }.joined(separator: ", ") + more)")
            if let roundTrip {
                out.append("  round trip: \(roundTrip ? "made" : (closedByForwarder ? "no (closed by the forwarder)" : "no"))\(roundTripMilliseconds.map { " in " + Self.ms($0) } ?? "")")
            }
        }
        out += notChecked.map { "  not checked: \($0)" }
        out.append("  probe took \(Self.ms(elapsedMilliseconds))")
        return out
    }

    /// `3.2 ms`
    public static func ms(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) ms"
    }
}
