#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One forward to probe, whatever carries it: a slirp4netns API forward, a port Podman's
/// rootlessport carries (`port_handler=rootlesskit`, from the container's `-p`), or a RootlessKit port.
public struct ProbeForward: Sendable, Equatable, Encodable {
    /// The process that binds the host side.
    public enum Carrier: String, Sendable, Equatable, Encodable {
        /// slirp4netns itself (an API forward; RootlessKit's slirp4netns port driver).
        case slirp4netns
        /// Podman's rootlessport (the container's configured `-p`).
        case rootlessport
        /// The rootlesskit parent (RootlessKit's builtin port driver).
        case rootlesskit
    }

    /// The forward's id (`fwd list`); nil for a configured port (rootlessport has no ids).
    @NullWhenAbsent public var id: Int?
    public var proto: ForwardProtocol
    /// nil: all addresses.
    @NullWhenAbsent public var hostAddr: String?
    public var hostPort: Int
    /// nil: the namespace's own address (slirp4netns's guest address).
    @NullWhenAbsent public var guestAddr: String?
    public var guestPort: Int
    public var carrier: Carrier

    public init(id: Int?, proto: ForwardProtocol, hostAddr: String?, hostPort: Int, guestAddr: String?, guestPort: Int, carrier: Carrier) {
        _id = NullWhenAbsent(wrappedValue: id)
        _hostAddr = NullWhenAbsent(wrappedValue: hostAddr)
        _guestAddr = NullWhenAbsent(wrappedValue: guestAddr)
        (self.proto, self.hostPort, self.guestPort, self.carrier) = (proto, hostPort, guestPort, carrier)
    }

    /// An API forward of slirp4netns.
    public init(_ forward: HostForward) {
        self.init(id: forward.id, proto: forward.proto, hostAddr: forward.hostAddr, hostPort: forward.hostPort,
                  guestAddr: forward.guestAddr, guestPort: forward.guestPort, carrier: .slirp4netns)
    }

    /// The ports one configured `-p` mapping carried by rootlessport stands for (one per port and protocol).
    public static func configured(_ port: PodmanPort) -> [ProbeForward] {
        let protocols = port.proto.split(separator: ",").compactMap { ForwardProtocol(rawValue: String($0)) }
        return (0..<port.range).flatMap { offset in
            protocols.map { ProbeForward(id: nil, proto: $0, hostAddr: port.hostIP.isEmpty ? nil : port.hostIP, hostPort: port.hostPort + offset,
                                         guestAddr: nil, guestPort: port.containerPort + offset, carrier: .rootlessport) }
        }
    }

    /// A RootlessKit port (`proto` `tcp4`/`tcp6`/`udp4` read as tcp/udp); the builtin driver's
    /// parent binds it, the slirp4netns driver's slirp4netns does; nil for a protocol neither has.
    public init?(_ port: RootlessKitPort, portDriver: String) {
        guard let proto = ForwardProtocol(rawValue: String(port.spec.proto.prefix(3))) else { return nil }
        self.init(id: port.id, proto: proto, hostAddr: port.spec.parentIP, hostPort: port.spec.parentPort,
                  guestAddr: port.spec.childIP, guestPort: port.spec.childPort, carrier: portDriver == "slirp4netns" ? .slirp4netns : .rootlesskit)
    }

    /// `tcp 127.0.0.1:18080 -> 10.0.2.100:80` (`*` for all host addresses, `:80` for the guest's own).
    public var summary: String {
        "\(proto.rawValue) \(Format.hostPort(hostAddr ?? "*", hostPort)) -> \(guestAddr.map { Format.hostPort($0, guestPort) } ?? ":\(guestPort)")"
    }


    enum CodingKeys: String, CodingKey {
        case id, proto, hostAddr = "host_addr", hostPort = "host_port", guestAddr = "guest_addr", guestPort = "guest_port", carrier
    }
}

/// Where the probed forward's instance is: its slirp4netns, its namespace, and who carries its ports.
public struct ProbeSite: Sendable, Equatable {
    public var slirpPID: Int32
    /// slirp4netns's namespace: `--netns-type=path`'s file, or `/proc/PID/ns/net`.
    public var netnsPath: String?
    /// slirp4netns's guest address (computed from `--cidr`): where a forward without one delivers.
    public var guest: String?
    /// slirp4netns's gateway (the cidr's .2): what a client on the host's loopback appears as inside.
    public var gateway: String?
    /// Run with `--disable-host-loopback`.
    public var disableHostLoopback: Bool
    /// Processes that bind forwards' host sides: slirp4netns, rootlessport, the rootlesskit parent.
    public var carriers: [Int32]
    /// Processes likely inside the namespace, looked at before all of `/proc` (the container's, rootlessport-child).
    public var insideHints: [Int32]

    public init(slirpPID: Int32, netnsPath: String?, guest: String?, gateway: String? = nil, disableHostLoopback: Bool,
                carriers: [Int32], insideHints: [Int32] = []) {
        self.slirpPID = slirpPID
        self.netnsPath = netnsPath
        self.guest = guest
        self.gateway = gateway
        self.disableHostLoopback = disableHostLoopback
        self.carriers = carriers
        self.insideHints = insideHints
    }
}

/// Probes one forward: who answers on its host side, whether something listens on its guest
/// address and port inside the namespace, and whether a connection makes the round trip; then
/// one verdict with the fix.
///
/// Sends nothing but a TCP connect (no payload; UDP: no datagram at all), every wait bounded by
/// the deadline. Reads the namespace's sockets through a process inside it (`/proc/PID/net`), found
/// by its namespace's identity (never by a path a user's process names, beyond what
/// `NamespaceReader.namespaceFile` proves).
public enum ForwardProbe {
    /// Probes `forward` of the instance at `site`, within `timeout` seconds.
    public static func run(_ forward: ProbeForward, site: ProbeSite, timeout: Double, procRoot: String = "/proc") -> ProbeReport {
        let start = Deadline.now
        let deadline = Deadline.after(seconds: timeout)
        var report = ProbeReport(forward: forward, hostPort: forward.hostPort)
        // Naming holders reads other processes' descriptors: bounded (`DescriptorScan`), said when cut short.
        var scan = DescriptorScan(deadline: min(deadline, Deadline.after(seconds: scanSeconds)))
        var inside = NamespaceView.of(site, proto: forward.proto, port: forward.guestPort, procRoot: procRoot)
        report.namespaceProblem = inside.problem
        report.namespacePID = inside.pid
        // The host side is read and connected to in slirpmon's own network namespace: a carrier in
        // another one binds there, and what holds the port here is someone else (never named to stop).
        if let carrier = site.carriers.first, let elsewhere = Self.otherNamespace(of: carrier, procRoot: procRoot) {
            report.set(.hostElsewhere, "the host side of this forward is in another network namespace (\(elsewhere)) than slirpmon's: not probed from here",
                       fix: "probe it from that namespace (e.g. `nsenter -t \(carrier) -n` and a client there)")
            report.elapsedMilliseconds = Deadline.now.seconds(since: start) * 1000
            return report
        }

        // The host side: what a client on this host reaches.
        let connectAddress = clientAddress(forward.hostAddr)
        report.connectAddress = connectAddress
        // An IPv4 client reaches an IPv4 socket when one takes it: the IPv6 file only otherwise (`::` takes IPv4 too).
        let v4 = IPv4Address(connectAddress) != nil
        var hostTable = try? SocketTable.read(forward.proto, directory: "\(procRoot)/self/net", port: forward.hostPort, families: v4 ? .ipv4 : .ipv6)
        if v4, hostTable?.receiver(of: connectAddress, port: forward.hostPort, proto: forward.proto) == nil {
            hostTable = try? SocketTable.read(forward.proto, directory: "\(procRoot)/self/net", port: forward.hostPort)
        }
        if let receiver = hostTable?.receiver(of: connectAddress, port: forward.hostPort, proto: forward.proto) {
            report.hostHolder = holder(of: receiver, carriers: site.carriers, procRoot: procRoot, scan: &scan)
        }

        // The container side: the guest address and who listens there.
        let guest = forward.guestAddr ?? (forward.carrier == .rootlesskit ? "127.0.0.1" : site.guest)
        report.guestAddress = guest
        if let table = inside.table, let guest {
            if let listener = table.receiver(of: guest, port: forward.guestPort, proto: forward.proto) {
                report.listener = inside.owner(of: listener, procRoot: procRoot, scan: &scan)
            }
            // Any user in the namespace can bind thousands (SO_REUSEPORT): a few are named, the rest counted.
            let others = table.bound(port: forward.guestPort, proto: forward.proto).filter { $0.inode != report.listener?.inode }
            report.otherListeners = others.prefix(ProbeReport.otherListenersShown).map { inside.owner(of: $0, procRoot: procRoot, scan: &scan) }
            report.otherListenersMore = others.count - report.otherListeners.count
        }
        if let guest, let v4 = IPv4Address(guest), let locals = inside.localAddresses, !v4.isLoopback, !locals.contains(v4) {
            report.guestIsLocal = false
        }

        // The round trip (TCP): connected on the host side, and OUR connection seen arriving at the
        // guest port inside the namespace (or bytes from it, a banner).
        if forward.proto == .tcp, report.hostHolder != nil {
            // Connections to the listener show in its family's file only (one read each time, not two).
            let families: SocketTable.Families = report.listener.map { $0.address.contains(":") ? .ipv6 : .ipv4 } ?? .both
            let before = inside.connections(port: forward.guestPort, families: families)
            let connectStart = Deadline.now
            let connection = HostConnect.connect(to: connectAddress, port: forward.hostPort, deadline: deadline)
            report.connect = connection.outcome
            report.connectMilliseconds = Deadline.now.seconds(since: connectStart) * 1000
            if connection.outcome == .accepted {
                let peer = expectedPeer(forward, site: site, client: connection.localEndpoint)
                // Nothing in the namespace to reach: the forwarder's close is all there is to see, and
                // soon; a guest address nobody has is never answered (slirp4netns waits): not watched.
                let watchUntil = !report.guestIsLocal ? Deadline.now : report.listener == nil ? min(deadline, Deadline.after(seconds: 0.3)) : deadline
                while true {
                    let far = connection.farEnd(waiting: 1)
                    // Only a new connection from where ours appears counts (someone else's to the same
                    // port in the window is not our round trip), read after the far end was looked at.
                    let arrived = before.flatMap { old in inside.connections(port: forward.guestPort, families: families).map { now in
                        now.contains { key, entry in old[key] == nil && peer.matches(entry) } } } ?? false
                    // Closed first: the forwarder gave up; only our own connection, told by its
                    // preserved source port, proves it had arrived before.
                    if far == .closed {
                        if arrived && peer.port != nil { report.roundTrip = true } else { report.closedByForwarder = true; report.roundTrip = false }
                        break
                    }
                    if far == .sentData || arrived {
                        report.roundTrip = true
                        break
                    }
                    if watchUntil.hasPassed { report.roundTrip = false; break }
                }
                report.roundTripMilliseconds = Deadline.now.seconds(since: connectStart) * 1000
            }
            connection.close()
        }
        report.notChecked = scan.notChecked
        report.decide(forward: forward, site: site)
        report.elapsedMilliseconds = Deadline.now.seconds(since: start) * 1000
        return report
    }

    /// Seconds a probe spends at most naming the holders of sockets (reading descriptors).
    static let scanSeconds = 0.5

    /// Where our probe's connection appears from inside the namespace, as `ClientSource` measured
    /// it for each carrier: slirp4netns keeps the real source and its port (a loopback client
    /// appears as the gateway); rootlessport dials from the container's own address, RootlessKit's
    /// builtin driver from 127.0.0.1 (for a child IP of 127.0.0.1), both from a port of their own.
    struct ExpectedPeer {
        /// The address it comes from; nil: not known (any address).
        var address: String?
        /// Its source port, where the carrier keeps ours; nil: any.
        var port: Int?

        func matches(_ entry: SocketTable.Entry) -> Bool {
            // An IPv4 client seen by an IPv6 socket appears as ::ffff:a.b.c.d.
            let remote = IPv6Address(entry.remote)?.ipv4Mapped?.description ?? entry.remote
            return (address.map { $0 == remote } ?? true) && (port.map { $0 == entry.remotePort } ?? true)
        }
    }

    static func expectedPeer(_ forward: ProbeForward, site: ProbeSite, client: (address: String, port: Int)?) -> ExpectedPeer {
        switch forward.carrier {
        case .slirp4netns:
            guard let client else { return ExpectedPeer() }
            let v6 = IPv6Address(client.address)
            if let v6, v6.ipv4Mapped == nil {
                // libslirp's sotranslate_accept rewrites an IPv6 loopback source to its IPv6 gateway,
                // not to `site.gateway` (IPv4); slirp4netns 1.2 refuses a non-IPv4 host_addr, so this
                // is unseen here: our own source port, which slirp4netns keeps, is enough.
                return ExpectedPeer(address: v6.isLoopback ? nil : v6.description, port: client.port)
            }
            let v4 = IPv4Address(client.address) ?? v6?.ipv4Mapped
            return ExpectedPeer(address: v4?.isLoopback == true ? site.gateway : v4?.description ?? client.address, port: client.port)
        case .rootlessport:
            return ExpectedPeer(address: site.guest, port: nil)
        case .rootlesskit:
            let child = forward.guestAddr ?? "127.0.0.1"
            return ExpectedPeer(address: child == "127.0.0.1" ? "127.0.0.1" : nil, port: nil)
        }
    }

    /// Where the instance at `site` binds its host side when that is not slirpmon's own network
    /// namespace (`net:[N] of pid P`), or nil.
    public static func elsewhere(_ site: ProbeSite, procRoot: String = "/proc") -> String? {
        site.carriers.first.flatMap { otherNamespace(of: $0, procRoot: procRoot) }
    }

    /// The network namespace of `pid` when it is not slirpmon's own (`net:[N]` of pid P), or nil:
    /// the same, or not readable (then the probe goes on, as before it was checked).
    static func otherNamespace(of pid: Int32, procRoot: String) -> String? {
        guard let own = try? Files.readLink("\(procRoot)/self/ns/net"), let its = try? Files.readLink("\(procRoot)/\(pid)/ns/net"), own != its else { return nil }
        return "\(its) of pid \(pid)"
    }

    /// Who holds host port `port` when no forward of the instance has it (`fwd probe TARGET HOSTPORT`).
    public static func unforwarded(port: Int, proto: ForwardProtocol, site: ProbeSite, known: [ProbeForward], procRoot: String = "/proc") -> ProbeReport {
        let start = Deadline.now
        var report = ProbeReport(forward: nil, hostPort: port)
        if let carrier = site.carriers.first, let elsewhere = otherNamespace(of: carrier, procRoot: procRoot) {
            report.set(.hostElsewhere, "this instance's host side is in another network namespace (\(elsewhere)) than slirpmon's: its port \(port) is not looked at from here",
                       fix: "look from that namespace (e.g. `nsenter -t \(carrier) -n ss -ltnp`)")
            report.elapsedMilliseconds = Deadline.now.seconds(since: start) * 1000
            return report
        }
        let table = try? SocketTable.read(proto, directory: "\(procRoot)/self/net", port: port)
        report.connectAddress = "127.0.0.1"
        if let receiver = table?.receiver(of: "127.0.0.1", port: port, proto: proto) ?? table?.bound(port: port, proto: proto).first {
            var scan = DescriptorScan(deadline: Deadline.after(seconds: scanSeconds))
            report.hostHolder = holder(of: receiver, carriers: site.carriers, procRoot: procRoot, scan: &scan)
            report.notChecked = scan.notChecked
        }
        let list = known.isEmpty ? "it forwards none" : "its forwards: " + known.prefix(5).map(\.summary).joined(separator: ", ") + (known.count > 5 ? ", ..." : "")
        if let holder = report.hostHolder, !holder.isCarrier {
            // No forward was named: the number may be a container port typed by mistake, so the
            // holder is named, never called the one to stop (`slirpmon ports` says when a holder is stale).
            report.set(.noForward, "this instance forwards no \(proto.rawValue) host port \(port); on this host it is held by \(holder.described), not by this instance (\(list))",
                       fix: "give the forward's id or host port as `slirpmon fwd list TARGET` shows it; to forward \(port) to the container, it must be free first (`slirpmon ports` says whether its holder is a leftover)")
        } else if let holder = report.hostHolder {
            report.set(.noForward, "\(proto.rawValue) port \(port) is held by \(holder.described), a carrier of this instance, but no forward of it has that port (\(list))",
                       fix: "give the forward's id or host port as `slirpmon fwd list TARGET` shows it")
        } else {
            report.set(.noForward, "this instance forwards no \(proto.rawValue) host port \(port), and nothing on this host listens on it (\(list))",
                       fix: "add it: `slirpmon fwd add TARGET \(port):PORT` (or the container's -p)")
        }
        report.elapsedMilliseconds = Deadline.now.seconds(since: start) * 1000
        return report
    }

    /// The address a client on this host uses for a forward on `hostAddr` (all addresses: loopback).
    static func clientAddress(_ hostAddr: String?) -> String {
        guard let hostAddr, hostAddr != "0.0.0.0", hostAddr != "::", !hostAddr.isEmpty else {
            return hostAddr == "::" ? "::1" : "127.0.0.1"
        }
        return hostAddr
    }

    /// The owner of a host socket: a carrier of the instance when one holds it (their fds are
    /// looked at first: a few), else whoever does (all of `/proc`, only then).
    static func holder(of entry: SocketTable.Entry, carriers: [Int32], procRoot: String, scan: inout DescriptorScan) -> ProbeReport.Socket {
        if let pid = scan.owner(of: entry.inode, among: carriers, procRoot: procRoot) {
            return ProbeReport.Socket(entry, pid: pid, procRoot: procRoot, isCarrier: true)
        }
        let owner = scan.owner(of: entry.inode, among: (try? Files.processIDs(procRoot: procRoot)) ?? [], procRoot: procRoot)
        return ProbeReport.Socket(entry, pid: owner, procRoot: procRoot, isCarrier: false)
    }
}

/// The probed namespace as read through a process inside it.
struct NamespaceView {
    var pid: Int32?
    var nsFile: String?
    var table: SocketTable?
    var localAddresses: Set<IPv4Address>?
    var problem: String?
    let proto: ForwardProtocol
    var procRoot = "/proc"
    /// The namespace's processes other than `pid`, listed by the first `owner(of:)` that needs them.
    var othersInside: [Int32]?

    /// Finds a process inside `site`'s namespace and reads its sockets and local addresses.
    static func of(_ site: ProbeSite, proto: ForwardProtocol, port: Int, procRoot: String) -> NamespaceView {
        var view = NamespaceView(proto: proto, procRoot: procRoot)
        guard let path = site.netnsPath else {
            view.problem = "slirp4netns's namespace is unknown (no target on its command line)"
            return view
        }
        let nsFile: String
        let uid = (try? Files.status("\(procRoot)/\(site.slirpPID)")).map { $0.st_uid }
        if let pid = targetPID(path) {
            // A user's slirp4netns names its target PID: read through it only when it is that user's
            // process (a user's instance pointing at pid 1 would show the host's listeners as its own).
            let owner = (try? Files.status("\(procRoot)/\(pid)")).map { $0.st_uid }
            guard uid == 0 || (uid != nil && owner == uid) else {
                view.problem = "not read: target pid \(pid) is not a process of slirp4netns's user"
                return view
            }
            nsFile = "\(procRoot)/\(pid)/ns/net"
        } else if geteuid() == 0 {
            switch NamespaceReader.namespaceFile(path, of: site.slirpPID, uid: uid, procRoot: procRoot) {
            case .success(let file): nsFile = file
            case .failure(let failure):
                view.problem = failure.description
                return view
            }
        } else {
            let seen = "\(procRoot)/\(site.slirpPID)/root\(path)"
            nsFile = NamespaceReader.isNamespaceFile(seen) ? seen : path
        }
        view.nsFile = nsFile
        guard let wanted = ContainerJoin.identity(nsFile) else {
            view.problem = "network namespace \(path) is gone"
            return view
        }
        let hinted = site.insideHints.first { ContainerJoin.identity("\(procRoot)/\($0)/ns/net") == wanted }
        guard let pid = hinted ?? newestInside(wanted, procRoot: procRoot) else {
            view.problem = "no process runs in the container's network namespace, so nothing can listen there"
            view.table = SocketTable(entries: [])
            // Its addresses still say whether a guest address is its own: as root, read on a thread that joins it.
            if geteuid() == 0 {
                let read = NamespaceReader.runInside(nsFile, owner: uid == 0 ? nil : uid) { () -> Result<Set<IPv4Address>, NamespaceReader.Failure> in
                    do throws(SystemError) { return .success(ObservedAddresses.localAddresses(fibTrie: try Files.readText("/proc/thread-self/net/fib_trie"))) } catch {
                        return .failure(.unreadable(error))
                    }
                }
                view.localAddresses = try? read.get()
            }
            return view
        }
        view.pid = pid
        do {
            view.table = try SocketTable.read(proto, directory: "\(procRoot)/\(pid)/net", port: port)
            view.localAddresses = ObservedAddresses.localAddresses(fibTrie: try Files.readText("\(procRoot)/\(pid)/net/fib_trie"))
        } catch {
            view.problem = "the namespace's sockets could not be read through pid \(pid): \(error)"
        }
        return view
    }

    /// A process in the namespace `wanted`, the newest first: a container's processes came after
    /// most of the host's (a scan from PID 1 stats nearly every process before reaching them).
    static func newestInside(_ wanted: ContainerJoin.FileIdentity, procRoot: String) -> Int32? {
        guard let pids = try? Files.processIDs(procRoot: procRoot) else { return nil }
        return pids.sorted(by: >).first { ContainerJoin.identity("\(procRoot)/\($0)/ns/net") == wanted }
    }

    /// N of `/proc/N/ns/net` (slirp4netns's PID target).
    static func targetPID(_ path: String) -> Int32? {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "proc", parts[2] == "ns", parts[3] == "net" else { return nil }
        return Int32(parts[1])
    }

    /// The connections to `port` now (TCP), by their two ends, read again; nil when unreadable.
    func connections(port: Int, families: SocketTable.Families) -> [String: SocketTable.Entry]? {
        guard proto == .tcp, let pid, let table = try? SocketTable.read(.tcp, directory: "\(procRoot)/\(pid)/net", port: port, families: families) else { return nil }
        var out: [String: SocketTable.Entry] = [:]
        for entry in table.connections(toPort: port) { out["\(entry.local):\(entry.localPort) \(entry.remote):\(entry.remotePort)"] = entry }
        return out
    }

    /// The socket with the process inside the namespace that holds it, when one is found within
    /// `scan`'s bounds. The namespace's other processes are listed once a probe (a stat of every
    /// /proc entry's ns link), and not at all once the scan's deadline passed.
    mutating func owner(of entry: SocketTable.Entry, procRoot: String, scan: inout DescriptorScan) -> ProbeReport.Socket {
        var owner: Int32?
        if scan.expired() {
            owner = nil
        } else if let pid, scan.holds(pid, inode: entry.inode, procRoot: procRoot) == true {
            owner = pid
        } else if let nsFile, !scan.expired() {
            if othersInside == nil { othersInside = NamespaceReader.processesInside(netnsPath: nsFile, procRoot: procRoot).filter { $0 != pid } }
            owner = scan.owner(of: entry.inode, among: othersInside ?? [], procRoot: procRoot)
        }
        return ProbeReport.Socket(entry, pid: owner, procRoot: procRoot, isCarrier: false)
    }
}

