#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A container's `-p` mappings set up the way Podman sets them up once slirp4netns is ready,
/// and released at once.
///
/// With port_handler=slirp4netns Podman sends one `add_hostfwd` per port and protocol to the API
/// socket (`setupRootlessPortMappingViaSlirp`, host address `0.0.0.0` when none is given, and
/// an IPv6 one as it is); the trial sends the same requests to its own scratch slirp4netns, then
/// removes what was added (the forwards die with that slirp4netns anyway). With rootlesskit,
/// rootlessport binds each host address and port in the host's network namespace as the
/// container's owner; the trial binds each one the same way (Go's listener: `0.0.0.0` as a
/// dual-stack `[::]`, `SO_REUSEADDR` for TCP) and closes it at once. A port held by the
/// container's own slirp4netns or rootlessport is the running container's, not a conflict.
public enum PortTrial {
    /// One host port tried.
    public struct Check: Sendable, Equatable {
        /// `tcp 0.0.0.0:8080 -> 80`
        public var mapping: String
        /// What happened, in words.
        public var detail: String
        /// Why the container cannot start, when it cannot.
        public var cause: FailureCause?
    }

    /// One port and protocol of a mapping, as Podman expands it.
    struct Forward {
        var proto: String
        var hostIP: String
        var hostPort: Int
        var containerPort: Int

        /// The host address Podman binds: `0.0.0.0` for none.
        var host: String { hostIP.isEmpty ? "0.0.0.0" : hostIP }
        var label: String { "\(proto) \(Format.hostPort(host, hostPort)) -> \(containerPort)" }
    }

    /// Podman's loop: each protocol of each mapping, each port of its range.
    static func expand(_ ports: [PodmanPort]) -> [Forward] {
        var result: [Forward] = []
        for port in ports {
            for proto in port.proto.split(separator: ",") {
                for i in 0..<max(1, port.range) {
                    result.append(Forward(proto: String(proto), hostIP: port.hostIP, hostPort: port.hostPort + i, containerPort: port.containerPort + i))
                }
            }
        }
        return result
    }

    /// Sends `add_hostfwd` for each mapping to the trial's slirp4netns (`client`, pid `slirpPID`) as
    /// Podman would, then removes every forward added.
    static func viaAPI(_ ports: [PodmanPort], client: APIClient, slirpPID: Int32, own: inout OwnProcesses) -> [Check] {
        var added: [Int] = []
        defer { for id in added { try? client.remove(id: id) } }
        var checks: [Check] = []
        for forward in expand(ports) {
            var check = Check(mapping: forward.label, detail: "")
            guard let proto = ForwardProtocol(rawValue: forward.proto) else {
                check.cause = FailureCause(.hostPortUnavailable, cause: "\(forward.label): slirp4netns forwards tcp and udp only, not \(forward.proto)",
                                           fix: "use port_handler=rootlesskit (Podman's default) for \(forward.proto) mappings, or drop them", evidence: forward.label)
                check.detail = "\(forward.label): not sent (\(forward.proto))"
                checks.append(check)
                continue
            }
            let reply: Result<Int, APIError>
            if let request = request(forward, proto: proto) {
                do throws(APIError) { reply = .success(try client.add(request)) } catch { reply = .failure(error) }
            } else if let v6 = IPv6Address(forward.host), let host = Port(forward.hostPort), let guest = Port(forward.containerPort) {
                // Podman sends an IPv6 host address as it is; so does the trial (a validated address: hex digits and colons).
                let bytes = Array(#"{"execute":"add_hostfwd","arguments":{"proto":"\#(proto.rawValue)","host_addr":"\#(v6)","host_port":\#(host.value),"guest_port":\#(guest.value)}}"#.utf8) + [10]
                do throws(APIError) {
                    switch try client.exchange(bytes) {
                    case .added(let id): reply = .success(id)
                    case .error(let desc): reply = .failure(.slirp(desc: desc))
                    default: reply = .failure(.badReply(path: client.socketPath, .unexpectedShape(excerpt: "no id in the reply")))
                    }
                } catch { reply = .failure(error) }
            } else {
                check.detail = "\(forward.label): not sent: Podman would not have accepted this mapping"
                check.cause = FailureCause(.hostPortUnavailable, cause: "\(forward.label) is not a host address and port slirp4netns can take",
                                           fix: "recreate the container with a valid -p mapping", evidence: forward.label)
                checks.append(check)
                continue
            }
            switch reply {
            case .success(let id):
                added.append(id)
                check.detail = "\(forward.label): add_hostfwd answered id \(id)"
            case .failure(let error):
                // Podman: `from slirp4netns while setting up port redirection: %v` of the reply's error object.
                let podman: String
                if case .slirp(let desc) = error { podman = "from slirp4netns while setting up port redirection: map[desc:\(desc)]" } else { podman = error.description }
                let diagnosis: HostPortDiagnosis?
                if IPv6Address(forward.host) != nil && IPv4Address(forward.host) == nil {
                    diagnosis = PortConflict.ipv6HostAddress(forward.host)
                } else if error.isBindFailure, let v4 = IPv4Address(forward.host) {
                    diagnosis = PortConflict.diagnose(port: forward.hostPort, proto: proto, address: v4, seenFrom: slirpPID)
                } else {
                    diagnosis = nil
                }
                record(&check, forward: forward, diagnosis: diagnosis, own: &own, podman: podman)
            }
            checks.append(check)
        }
        return checks
    }

    /// Binds each mapping's host address and port as rootlessport would, closing each at once.
    static func viaRootlessport(_ ports: [PodmanPort], own: inout OwnProcesses) -> [Check] {
        var checks: [Check] = []
        for forward in expand(ports) {
            var check = Check(mapping: forward.label, detail: "")
            guard let proto = ForwardProtocol(rawValue: forward.proto) else {
                check.detail = "\(forward.label): \(forward.proto) not tried (the trial binds tcp and udp)"
                checks.append(check)
                continue
            }
            guard let failure = bind(forward, proto: proto) else {
                check.detail = "\(forward.label): the host port can be bound (bound and released at once)"
                checks.append(check)
                continue
            }
            // Podman: rootlessport's Go error, `listen tcp 0.0.0.0:8080: bind: address already in use`,
            // after its own sentence for a privileged port.
            var podman = "listen \(proto.rawValue) \(Format.hostPort(forward.host, forward.hostPort)): bind: \(failure.reason.lowercased())"
            let start = PortConflict.unprivilegedPortStart()
            if failure.errno == .permissionDenied && forward.hostPort < start {
                podman = "cannot expose privileged port \(forward.hostPort), you can add 'net.ipv4.ip_unprivileged_port_start=\(forward.hostPort)' to /etc/sysctl.conf (currently \(start)), or choose a larger port number (>= \(start)): " + podman
            }
            podman = "rootlessport " + podman
            let v4 = IPv4Address(forward.host) ?? IPv4Address(0)
            var diagnosis = PortConflict.diagnose(port: forward.hostPort, proto: proto, address: v4, seenFrom: getpid(), binder: geteuid())
            if failure.errno == .permissionDenied, diagnosis.kind != .privileged {
                diagnosis = HostPortDiagnosis(.unexplained, cause: "binding \(forward.label) is not permitted (\(failure.reason))",
                                              fix: "look for a security policy (SELinux, AppArmor, seccomp) that denies the bind")
            }
            record(&check, forward: forward, diagnosis: diagnosis, own: &own, podman: podman)
            checks.append(check)
        }
        return checks
    }

    /// The validated request for an IPv4 mapping, or nil.
    static func request(_ forward: Forward, proto: ForwardProtocol) -> ForwardRequest? {
        guard let address = IPv4Address(forward.host), let host = Port(forward.hostPort), let guest = Port(forward.containerPort) else { return nil }
        return ForwardRequest(proto: proto, hostAddr: address, hostPort: host, guestPort: guest)
    }

    /// A failed mapping's check: the container's own holder is no failure; anything else is, with the shared explanation.
    static func record(_ check: inout Check, forward: Forward, diagnosis: HostPortDiagnosis?, own: inout OwnProcesses, podman: String) {
        if let diagnosis, diagnosis.kind == .inUse, let holder = diagnosis.holder, let pid = holder.ownerPID, own.contains(pid) {
            check.detail = "\(forward.label): held by the container's own \(holder.ownerCommand ?? "process") (pid \(pid)): the container is running"
            return
        }
        let kind: FailureCause.Kind
        switch diagnosis?.kind {
        case .inUse?, .heldByItself?: kind = .hostPortInUse
        case .privileged?: kind = .hostPortPrivileged
        case .notLocal?: kind = .hostAddressNotLocal
        case .ipv6HostAddress?: kind = .hostAddressIPv6
        case .unexplained?, nil: kind = .hostPortUnavailable
        }
        let cause = diagnosis.map { "\(forward.label): \($0.cause)" } ?? "\(forward.label): slirp4netns refused the forward"
        check.detail = "\(forward.label): FAILED: \(podman)"
        check.cause = FailureCause(kind, cause: cause + ", so the container cannot start",
                                   fix: diagnosis?.fix ?? "read Podman's message; `slirpmon fwd add` on a running instance shows the same", evidence: podman)
    }

    /// Binds `forward`'s host address and port like Go's `net.Listen`/`ListenPacket` with
    /// "tcp"/"udp" (rootlessport's): the IPv4 wildcard as a dual-stack `[::]` when this host has
    /// IPv6; TCP with `SO_REUSEADDR` and a listen. The socket is closed before this returns.
    /// nil when it could be bound.
    static func bind(_ forward: Forward, proto: ForwardProtocol) -> SystemError? {
        let type = (proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)) | Int32(SOCK_CLOEXEC.rawValue)
        guard let port = UInt16(exactly: forward.hostPort) else { return SystemError("bind", forward.label, errno: .invalidArgument) }
        // The families to try, in order, with the address's bytes in network order.
        var candidates: [(family: Int32, address: [UInt8])] = []
        if let v4 = IPv4Address(forward.host) {
            if v4.isUnspecified { candidates.append((AF_INET6, [UInt8](repeating: 0, count: 16))) }
            candidates.append((AF_INET, withUnsafeBytes(of: v4.value.bigEndian) { Array($0) }))
        } else if let v6 = IPv6Address(forward.host) {
            candidates.append((AF_INET6, v6.bytes))
        }
        guard let (family, address, fd) = candidates.lazy.map({ ($0.family, $0.address, socket($0.family, type, 0)) }).first(where: { $0.2 >= 0 }) else {
            return candidates.isEmpty ? SystemError("bind", forward.label, errno: .invalidArgument, detail: "not an IP address") : SystemError("socket", forward.label)
        }
        defer { close(fd) }
        var on: Int32 = 1, off: Int32 = 0
        if proto == .tcp { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) }
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size)) }
        let bound: Int32
        if family == AF_INET6 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: address) }
            bound = withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: address) }
            bound = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard bound == 0 else { return SystemError("bind", forward.label) }
        if proto == .tcp && listen(fd, 1) != 0 { return SystemError("listen", forward.label) }
        return nil
    }

    /// The container's own slirp4netns and rootlessport processes, found only when a port is
    /// busy (a scan of `/proc`): the slirp4netns whose files carry the container's ID, and the
    /// rootlessport holding that slirp4netns's namespace. Only processes of this user count.
    public struct OwnProcesses: Sendable {
        let containerID: String?
        let sandboxKey: String?
        private var found: Set<Int32>?

        public init(containerID: String?, sandboxKey: String? = nil) {
            self.containerID = containerID
            self.sandboxKey = sandboxKey
        }

        mutating func contains(_ pid: Int32) -> Bool {
            if found == nil { found = scan() }
            return found?.contains(pid) ?? false
        }

        private func scan() -> Set<Int32> {
            guard let id = containerID, ContainerID.isContainerID(id),
                  let all = try? ProcessScanner().scanAll() else { return [] }
            let me = geteuid()
            let slirp = all.slirp.filter { $0.containerID == id && $0.uid == me }
            var namespaces = Set(slirp.compactMap(\.configuration.netnsPath))
            if let sandboxKey, !sandboxKey.isEmpty { namespaces.insert(sandboxKey) }
            let ports = all.rootlessPorts.filter { port in port.uid == me && !port.isChild && port.netnsPaths.contains { namespaces.contains($0) } }
            return Set(slirp.map(\.pid) + ports.map(\.pid))
        }
    }
}
