#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The facts of running slirp4netns processes that cannot change while they run
/// (`InventoryCache.ProcessFacts`: command line, owner, fd 1/2 targets, socket inodes), kept on
/// disk between runs of `slirpmon list`. A script listing again and again then reads each
/// instance's command line, status and fds once, and afterwards only its stat line.
///
/// Facts are used only for the very process they were read from (PID and start time: a reused
/// PID never inherits them), and only in the boot and PID namespace they were read in (both are
/// the file's first line). The file is private to its user (`PrivateFile`); one that does not
/// parse whole is ignored. Its format is `KeptFile`'s: a header line, then per process
/// NUL-terminated fields (command-line words and link targets never contain NUL).
///
/// Each process's facts carry when they were read (whole seconds): a process that has exited but
/// is not reaped yet (defunct) shows them as last seen then.
///
/// With each process's facts goes its last forward list, when one is kept
/// (`InventoryCache.KeptForwards`: the socket path asked, the log's mark after the answer, the
/// forwards), so the next run can tell from the log alone whether to ask again; and the
/// container it was proven to serve (`InventoryCache.ProvenContainer`), when one was.
struct ProcessFactsDiskCache {
    let path: String
    /// This boot and PID namespace, as the file's header.
    let scope: [UInt8]

    static let magic = "slirpmon-process-facts 4"

    /// The current user's file, for the host's `/proc`; nil without a private runtime directory.
    static func forCurrentUser() -> ProcessFactsDiskCache? {
        guard let directory = PrivateFile.directoryForCurrentUser(), let scope = currentScope() else { return nil }
        return ProcessFactsDiskCache(path: "\(directory)/process-facts-\(geteuid())", scope: scope)
    }

    /// This boot (its time) and PID namespace, as the header line.
    static func currentScope() -> [UInt8]? {
        guard let namespace = try? Files.readLink("/proc/self/ns/pid") else { return nil }
        return Array("\(magic) boot \(BootClock.hostBootTime) \(namespace)\n".utf8)
    }

    /// What the file keeps: facts by process, and forward lists for some of them.
    struct Kept {
        var facts: [ProcessIdentity: InventoryCache.ProcessFacts] = [:]
        var forwards: [ProcessIdentity: InventoryCache.KeptForwards] = [:]
        var joins: [ProcessIdentity: InventoryCache.ProvenContainer] = [:]
    }

    /// What is kept for this scope (nothing when there is none, or the file is not to be trusted).
    /// `names`: looks up each owner's user name (once per uid).
    func load(names: inout UserNameCache) -> Kept {
        guard let bytes = PrivateFile.read(path) else { return Kept() }
        return Self.decode(bytes, scope: scope, names: &names) ?? Kept()
    }

    /// Keeps `facts`, and the forward lists of those processes (best effort).
    func store(_ facts: [ProcessIdentity: InventoryCache.ProcessFacts], forwards: [ProcessIdentity: InventoryCache.KeptForwards] = [:],
               joins: [ProcessIdentity: InventoryCache.ProvenContainer] = [:]) {
        guard let bytes = Self.encode(facts, forwards: forwards, joins: joins, scope: scope) else { return }
        PrivateFile.write(bytes, to: path)
    }

    static func encode(_ facts: [ProcessIdentity: InventoryCache.ProcessFacts], forwards: [ProcessIdentity: InventoryCache.KeptForwards] = [:],
                       joins: [ProcessIdentity: InventoryCache.ProvenContainer] = [:], scope: [UInt8]) -> [UInt8]? {
        var out = KeptFile.Writer(scope, capacity: scope.count + facts.count * 512)
        for identity in facts.keys.sorted(by: { $0.pid < $1.pid }) {
            guard let f = facts[identity] else { continue }
            out.number(UInt64(identity.pid))
            out.number(identity.startTicks)
            out.optional(f.uid.map(String.init))
            out.number(UInt64(exactly: f.readAt.rounded(.down)) ?? 0) // whole seconds: a defunct process's values are last seen then
            out.number(UInt64(f.arguments.count))
            f.arguments.forEach { out.text($0) }
            out.optional(f.containerID)
            out.optional(f.stdoutTarget)
            out.optional(f.stderrTarget)
            out.optional(f.socketInodes.map { String($0.count) })
            f.socketInodes?.sorted().forEach { out.number($0) }
            let kept = forwards[identity].flatMap { $0.isStorable ? $0 : nil }
            out.optional(kept?.path)
            if let kept {
                let m = kept.mark
                out.number(m.device)
                out.number(m.inode)
                out.number(UInt64(m.size))
                out.number(UInt64(m.changedSeconds))
                out.number(UInt64(m.changedNanoseconds))
                out.number(UInt64(kept.forwards.count))
                for f in kept.forwards {
                    out.number(UInt64(f.id))
                    out.text(f.proto.rawValue)
                    out.text(f.hostAddr)
                    out.number(UInt64(f.hostPort))
                    out.text(f.guestAddr)
                    out.number(UInt64(f.guestPort))
                }
            }
            let join = joins[identity]
            out.optional(join?.id)
            if let join {
                out.text(join.name)
                out.optional(join.podName)
                out.number(join.isInfra ? 1 : 0)
            }
        }
        // A word holding a NUL (a hostile API reply's address) would end its field early: nothing is kept.
        return out.refused ? nil : out.bytes
    }

    /// What `bytes` keep, or nil unless the header is `scope` and every record is whole.
    /// `names`: looks up each owner's user name (once per uid).
    static func decode(_ bytes: [UInt8], scope: [UInt8], names: inout UserNameCache) -> Kept? {
        guard bytes.starts(with: scope) else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> Kept? in
            var fields = KeptFile.Reader(buffer, from: scope.count)
            var kept = Kept()
            while !fields.atEnd {
                guard let pid = fields.number(Int32.self), let start = fields.number(UInt64.self), let uid = fields.optional(),
                      let readAt = fields.number(UInt64.self), let count = fields.number(Int.self), count <= buffer.count else { return nil } // a field is a byte at least
                var arguments: [String] = []
                arguments.reserveCapacity(count)
                for _ in 0..<count {
                    guard let word = fields.next() else { return nil }
                    arguments.append(String(decoding: word, as: UTF8.self))
                }
                guard let containerID = fields.optional(), let stdout = fields.optional(), let stderr = fields.optional(),
                      let inodeCount = fields.optional() else { return nil }
                var inodes: Set<UInt64>?
                if let inodeCount {
                    guard let n = Int(inodeCount) else { return nil }
                    inodes = []
                    for _ in 0..<n {
                        guard let inode = fields.number(UInt64.self) else { return nil }
                        inodes?.insert(inode)
                    }
                }
                var owner: UInt32?
                if let uid {
                    guard let value = UInt32(uid) else { return nil }
                    owner = value
                }
                guard let forwardsPath = fields.optional() else { return nil }
                let identity = ProcessIdentity(pid: pid, startTicks: start)
                if let forwardsPath {
                    guard let forwards = fields.keptForwards(path: forwardsPath, limit: buffer.count) else { return nil }
                    kept.forwards[identity] = forwards
                }
                guard let joinedID = fields.optional() else { return nil }
                if let joinedID {
                    guard let name = fields.text(), let podName = fields.optional(), let infra = fields.number(UInt64.self), infra <= 1 else { return nil }
                    kept.joins[identity] = InventoryCache.ProvenContainer(id: joinedID, name: name, podName: podName, isInfra: infra == 1)
                }
                kept.facts[identity] = InventoryCache.ProcessFacts(
                    uid: owner, user: owner.flatMap { names.name(of: $0) }, arguments: arguments,
                    configuration: SlirpCommandLine.decode(arguments), containerID: containerID,
                    stdoutTarget: stdout, stderrTarget: stderr, socketInodes: inodes, readAt: Double(readAt))
            }
            return kept
        }
    }
}

extension KeptFile.Reader {
    /// A forward list's mark and forwards (after its path), or nil when they do not parse.
    mutating func keptForwards(path: String, limit: Int) -> InventoryCache.KeptForwards? {
        guard let device = number(UInt64.self), let inode = number(UInt64.self), let size = number(Int64.self),
              let seconds = number(Int64.self), let nanoseconds = number(Int64.self),
              let count = number(Int.self), count <= limit else { return nil }
        var forwards: [HostForward] = []
        forwards.reserveCapacity(count)
        for _ in 0..<count {
            guard let id = number(Int.self), let proto = next().flatMap(Self.forwardProtocol),
                  let hostAddr = next(), let hostPort = number(Int.self), let guestAddr = next(), let guestPort = number(Int.self)
            else { return nil }
            forwards.append(HostForward(id: id, proto: proto, hostAddr: String(decoding: hostAddr, as: UTF8.self), hostPort: hostPort,
                                        guestAddr: String(decoding: guestAddr, as: UTF8.self), guestPort: guestPort))
        }
        let mark = RequestAudit.Mark(device: device, inode: inode, size: size, changedSeconds: seconds, changedNanoseconds: nanoseconds)
        return InventoryCache.KeptForwards(path: path, mark: mark, forwards: forwards)
    }

    static func forwardProtocol(_ field: UnsafeBufferPointer<UInt8>) -> ForwardProtocol? {
        if field.elementsEqual("tcp".utf8) { return .tcp }
        return field.elementsEqual("udp".utf8) ? .udp : nil
    }
}

extension InventoryCache.KeptForwards {
    /// True when every number in it is one the file holds (none negative: a change time before
    /// 1970, or a forward's from an odd reply, are simply not kept; `UInt64(_:)` would trap).
    var isStorable: Bool {
        let m = mark
        return m.size >= 0 && m.changedSeconds >= 0 && m.changedNanoseconds >= 0
            && forwards.allSatisfy { $0.id >= 0 && $0.hostPort >= 0 && $0.guestPort >= 0 }
    }
}
