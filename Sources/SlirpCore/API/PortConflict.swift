/// Finds who holds a host port, to explain `slirp_add_hostfwd failed`.
public enum PortConflict {
    /// A socket bound to the port, and its owner when it could be found.
    public struct Holder: Sendable, Equatable {
        public let address: String
        public let port: Int
        public let proto: ForwardProtocol
        public let inode: UInt64
        public let ownerPID: Int32?
        public let ownerCommand: String?
        /// The owner's user name (or `uid N`), when the owner was found.
        public var ownerUser: String? = nil

        /// `pid 123 (nc, user alice)`, or why it cannot be named.
        public var ownerDescription: String {
            guard let ownerPID else { return "a process slirpmon cannot see (run as root to name it)" }
            return "pid \(ownerPID) (\(ownerCommand ?? "?")\(ownerUser.map { ", user \($0)" } ?? ""))"
        }
    }

    /// Sockets bound to `port` that conflict with binding `address`, as seen from the
    /// network namespace of `pid` (slirp4netns binds host ports in its own namespace): IPv4 ones
    /// on the same or a wildcard address, and IPv6 ones on `::` (dual-stack unless V6ONLY, which
    /// /proc does not show) or an IPv4-mapped address that conflicts the same way.
    public static func holders(of port: Int, proto: ForwardProtocol, address: IPv4Address, seenFrom pid: Int32, procRoot: String = "/proc") -> [Holder] {
        guard let table = try? SocketTable.read(proto, directory: "\(procRoot)/\(pid)/net", port: port) else { return [] }
        var found: [(String, UInt64)] = []
        for socket in table.entries where socket.localPort == port && (proto == .udp || socket.isListening) {
            let v4 = socket.isIPv6 ? (socket.local.hasPrefix("::ffff:") ? IPv4Address(socket.local.dropFirst(7)) : nil) : IPv4Address(socket.local)
            if socket.isIPv6 && socket.local == "::" {
                found.append(("[::]", socket.inode))
            } else if let v4, v4.isUnspecified || address.isUnspecified || v4 == address {
                found.append((socket.isIPv6 ? "[\(socket.local)]" : socket.local, socket.inode))
            }
        }
        guard !found.isEmpty else { return [] }
        let owners = socketOwners(inodes: Set(found.map(\.1)), procRoot: procRoot)
        return found.map { text, inode in
            let owner = owners[inode]
            let uid = owner.flatMap { try? Files.status("\(procRoot)/\($0.0)") }.map { $0.st_uid }
            return Holder(address: text, port: port, proto: proto, inode: inode, ownerPID: owner?.0, ownerCommand: owner?.1,
                          ownerUser: uid.map { UserNames.name(of: $0) ?? "uid \($0)" })
        }
    }

    /// One sentence naming who holds the port, or saying nobody visible does, with the fix
    /// (`diagnose(...).sentence`).
    public static func explain(port: Int, proto: ForwardProtocol, address: IPv4Address, seenFrom pid: Int32, procRoot: String = "/proc") -> String {
        diagnose(port: port, proto: proto, address: address, seenFrom: pid, procRoot: procRoot).sentence
    }

    /// Why a host port could not be bound for a forward: the one explanation `fwd add`, the
    /// monitor's form (both through `ForwardSession`) and the doctor's trial of a container's
    /// `-p` mappings give. `binder` is the user that binds (slirp4netns's owner, or rootlessport's:
    /// the instance's user); nil: the owner of `pid`.
    public static func diagnose(port: Int, proto: ForwardProtocol, address: IPv4Address, seenFrom pid: Int32,
                                binder: UInt32? = nil, procRoot: String = "/proc") -> HostPortDiagnosis {
        let holders = holders(of: port, proto: proto, address: address, seenFrom: pid, procRoot: procRoot)
        let what = "\(proto.rawValue) port \(port)"
        guard let first = holders.first else {
            if !address.isUnspecified && !isLocal(address, seenFrom: pid, procRoot: procRoot) {
                return HostPortDiagnosis(.notLocal, cause: "\(address) is not an address of this host",
                                         fix: "use 0.0.0.0, 127.0.0.1 or one of the host's addresses")
            }
            let uid = binder ?? (try? Files.status("\(procRoot)/\(pid)")).map { $0.st_uid }
            if let privileged = privileged(port: port, what: what, binder: uid, procRoot: procRoot) { return privileged }
            return HostPortDiagnosis(.unexplained, cause: "no listener on \(what) is visible",
                                     fix: "another user's process may hold it: run as root to see every socket")
        }
        if first.ownerPID == pid {
            return HostPortDiagnosis(.heldByItself, cause: "\(what) is already bound on \(first.address) by this slirp4netns itself (an existing forward)",
                                     fix: "`slirpmon fwd list` shows it; remove it first to change it", holder: first)
        }
        if let pid = first.ownerPID, let holder = PortHolders.holder(pid: pid, command: first.ownerCommand, inode: first.inode, procRoot: procRoot),
           let container = holder.containerWords {
            let owner = "\(holder.program.rawValue) pid \(pid) (user \(first.ownerUser ?? holder.user ?? "?")) of \(container)"
            if let reason = holder.staleReason {
                let stop = holder.stopCommand.map { "`\($0)` frees the port (\(holder.stopCaution); " } ?? "("
                return HostPortDiagnosis(.inUse, cause: "\(what) is already bound on \(first.address) by \(owner), \(reason)",
                                         fix: "it is left over: \(stop)`slirpmon ports` lists every stale holder)", holder: first)
            }
            return HostPortDiagnosis(.inUse, cause: "\(what) is already bound on \(first.address) by \(owner) (\(holder.containerState ?? "state unknown"))",
                                     fix: "stop that container or choose another host port", holder: first)
        }
        return HostPortDiagnosis(.inUse, cause: "\(what) is already bound on \(first.address) by \(first.ownerDescription)",
                                 fix: "stop that process or choose another host port", holder: first)
    }

    /// A port below `net.ipv4.ip_unprivileged_port_start` for a binder other than root, or nil.
    static func privileged(port: Int, what: String, binder: UInt32?, procRoot: String) -> HostPortDiagnosis? {
        let start = unprivilegedPortStart(procRoot: procRoot)
        guard port < start, binder != 0 else { return nil }
        let who = binder.map { UserNames.name(of: $0).map { "user \($0)" } ?? "uid \($0)" } ?? "a user other than root"
        return HostPortDiagnosis(.privileged, cause: "\(what) is privileged: below net.ipv4.ip_unprivileged_port_start (\(start)), and it is bound as \(who), not root",
                                 fix: "use a host port of \(start) or more, or lower the limit: sysctl net.ipv4.ip_unprivileged_port_start=\(port) (in /etc/sysctl.d/ to keep it)")
    }

    /// `net.ipv4.ip_unprivileged_port_start` (1024 when unreadable): users other than root bind only ports from it on.
    public static func unprivilegedPortStart(procRoot: String = "/proc") -> Int {
        (try? Files.readText("\(procRoot)/sys/net/ipv4/ip_unprivileged_port_start")).flatMap { Int($0.trimmingSpaces) } ?? 1024
    }

    /// The API's refusal of an IPv6 host address (`add_hostfwd` answers `bad arguments.host_addr`).
    public static func ipv6HostAddress(_ address: String) -> HostPortDiagnosis {
        HostPortDiagnosis(.ipv6HostAddress, cause: "host address \(address) is IPv6: the slirp4netns API takes IPv4 host addresses only (add_hostfwd answers bad arguments.host_addr)",
                          fix: "use an IPv4 host address (127.0.0.1 for ::1, none for all); a container keeps an IPv6 one with port_handler=rootlesskit (Podman's default), whose rootlessport binds IPv6")
    }

    static func isLocal(_ address: IPv4Address, seenFrom pid: Int32, procRoot: String) -> Bool {
        guard let trie = try? Files.readText("\(procRoot)/\(pid)/net/fib_trie") else { return true }
        return ObservedAddresses.localAddresses(fibTrie: trie).contains(address)
    }

    /// inode -> (pid, command) for the given socket inodes, scanning `/proc/*/fd`.
    static func socketOwners(inodes: Set<UInt64>, procRoot: String) -> [UInt64: (Int32, String)] {
        var result: [UInt64: (Int32, String)] = [:]
        guard let pids = try? Files.processIDs(procRoot: procRoot) else { return result }
        for pid in pids {
            guard let fds = try? Files.directoryEntries("\(procRoot)/\(pid)/fd") else { continue }
            for fd in fds {
                guard let link = try? Files.readLink("\(procRoot)/\(pid)/fd/\(fd)"), link.hasPrefix("socket:["),
                      let inode = UInt64(link.dropFirst(8).dropLast()), inodes.contains(inode) else { continue }
                if result[inode] == nil {
                    let command = (try? Files.readText("\(procRoot)/\(pid)/comm"))?.trimmingSpaces ?? "?"
                    result[inode] = (pid, command)
                }
            }
            if result.count == inodes.count { break }
        }
        return result
    }
}

/// Why a host port cannot be taken, with the fix (`PortConflict.diagnose`).
public struct HostPortDiagnosis: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Another process holds it (`holder`).
        case inUse
        /// The same slirp4netns holds it already (an existing forward).
        case heldByItself
        /// The host address is not one of this host's.
        case notLocal
        /// Below `ip_unprivileged_port_start`, bound by a user other than root.
        case privileged
        /// The slirp4netns API refuses IPv6 host addresses.
        case ipv6HostAddress
        /// No visible reason.
        case unexplained
    }

    public let kind: Kind
    /// What is wrong, in one sentence.
    public let cause: String
    /// What to do about it.
    public let fix: String
    /// The socket holding the port, for `inUse` and `heldByItself`.
    public let holder: PortConflict.Holder?

    public init(_ kind: Kind, cause: String, fix: String, holder: PortConflict.Holder? = nil) {
        self.kind = kind
        self.cause = cause
        self.fix = fix
        self.holder = holder
    }

    /// Cause and fix in one sentence.
    public var sentence: String { "\(cause): \(fix)" }
}
