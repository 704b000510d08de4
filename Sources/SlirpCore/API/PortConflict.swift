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
    }

    /// Sockets bound to `port` that conflict with binding `address`, as seen from the
    /// network namespace of `pid` (slirp4netns binds host ports in its own namespace).
    public static func holders(of port: Int, proto: ForwardProtocol, address: IPv4Address, seenFrom pid: Int32, procRoot: String = "/proc") -> [Holder] {
        var found: [(String, UInt64)] = []
        let files = proto == .tcp ? ["tcp", "tcp6"] : ["udp", "udp6"]
        for file in files {
            guard let text = try? Files.readText("\(procRoot)/\(pid)/net/\(file)") else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count >= 10 else { continue }
                let local = f[1].split(separator: ":")
                guard local.count == 2, let p = Int(local[1], radix: 16), p == port,
                      let inode = UInt64(f[9]) else { continue }
                if proto == .tcp && f[3] != "0A" { continue } // LISTEN only
                let hex = local[0]
                let text: String
                if hex.utf8.count == 8, let v4 = IPv4Address(procHex: hex) {
                    guard v4.isUnspecified || address.isUnspecified || v4 == address else { continue }
                    text = v4.description
                } else if let v6 = IPv6Address(procHex: hex) {
                    text = "[\(v6)]"
                } else { continue }
                found.append((text, inode))
            }
        }
        guard !found.isEmpty else { return [] }
        let owners = socketOwners(inodes: Set(found.map(\.1)), procRoot: procRoot)
        return found.map { text, inode in
            let owner = owners[inode]
            return Holder(address: text, port: port, proto: proto, inode: inode, ownerPID: owner?.0, ownerCommand: owner?.1)
        }
    }

    /// One sentence naming who holds the port, or saying nobody visible does.
    public static func explain(port: Int, proto: ForwardProtocol, address: IPv4Address, seenFrom pid: Int32, procRoot: String = "/proc") -> String {
        let holders = holders(of: port, proto: proto, address: address, seenFrom: pid, procRoot: procRoot)
        guard let first = holders.first else {
            if !address.isUnspecified && !isLocal(address, seenFrom: pid, procRoot: procRoot) {
                return "\(address) is not an address of this host: use 0.0.0.0, 127.0.0.1 or one of the host's addresses"
            }
            if port < 1024 { return "no listener holds \(proto.rawValue) port \(port); ports below 1024 need root (or CAP_NET_BIND_SERVICE) for slirp4netns to bind" }
            return "no listener on \(proto.rawValue) port \(port) is visible; another user's process may hold it"
        }
        let who: String
        if let owner = first.ownerPID {
            who = owner == pid ? "this slirp4netns itself (an existing forward)" : "pid \(owner) (\(first.ownerCommand ?? "?"))"
        } else {
            who = "a process slirpmon cannot see (run as root to name it)"
        }
        return "\(proto.rawValue) port \(port) is already bound on \(first.address) by \(who)"
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
