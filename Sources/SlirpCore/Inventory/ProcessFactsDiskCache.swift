#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The facts of running slirp4netns processes that cannot change while they run
/// (`InventoryCache.ProcessFacts`: command line, owner, fd 1/2 targets, socket inodes), kept on
/// disk between runs of `slirpmon list`. A script listing again and again then reads each
/// instance's command line, status and fds once, and afterwards only its stat line: at 100
/// instances, 500 `/proc` reads fewer per run.
///
/// Facts are used only for the very process they were read from (PID and start time: a reused
/// PID never inherits them), and only in the boot and PID namespace they were read in (both are
/// the file's first line). The file is private to its user (`PrivateFile`); one that does not
/// parse whole is ignored. Its format: a header line, then per process NUL-terminated fields
/// (command-line words and link targets never contain NUL).
struct ProcessFactsDiskCache {
    let path: String
    /// This boot and PID namespace, as the file's header.
    let scope: [UInt8]

    static let magic = "slirpmon-process-facts 1"

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

    /// The facts kept for this scope (empty when there are none, or the file is not to be trusted).
    /// `names`: looks up each owner's user name (once per uid).
    func load(names: inout UserNameCache) -> [ProcessIdentity: InventoryCache.ProcessFacts] {
        guard let bytes = PrivateFile.read(path) else { return [:] }
        return Self.decode(bytes, scope: scope, names: &names) ?? [:]
    }

    /// Keeps `facts` (best effort).
    func store(_ facts: [ProcessIdentity: InventoryCache.ProcessFacts]) {
        PrivateFile.write(Self.encode(facts, scope: scope), to: path)
    }

    static func encode(_ facts: [ProcessIdentity: InventoryCache.ProcessFacts], scope: [UInt8]) -> [UInt8] {
        var out = scope
        func field(_ text: String) { out += text.utf8; out.append(0) }
        func optional(_ text: String?) { field(text.map { "=" + $0 } ?? "") }
        for (identity, f) in facts.sorted(by: { $0.key.pid < $1.key.pid }) {
            field(String(identity.pid))
            field(String(identity.startTicks))
            optional(f.uid.map(String.init))
            field(String(f.arguments.count))
            f.arguments.forEach(field)
            optional(f.containerID)
            optional(f.stdoutTarget)
            optional(f.stderrTarget)
            optional(f.socketInodes.map { String($0.count) })
            f.socketInodes?.sorted().forEach { field(String($0)) }
        }
        return out
    }

    /// The facts in `bytes`, or nil unless the header is `scope` and every record is whole.
    /// `names`: looks up each owner's user name (once per uid).
    static func decode(_ bytes: [UInt8], scope: [UInt8], names: inout UserNameCache) -> [ProcessIdentity: InventoryCache.ProcessFacts]? {
        guard bytes.starts(with: scope) else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> [ProcessIdentity: InventoryCache.ProcessFacts]? in
            var fields = FieldReader(buffer, from: scope.count)
            var facts: [ProcessIdentity: InventoryCache.ProcessFacts] = [:]
            while !fields.atEnd {
                guard let pid = fields.number(Int32.self), let start = fields.number(UInt64.self), let uid = fields.optional(),
                      let count = fields.number(Int.self), count <= buffer.count else { return nil } // a field is a byte at least
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
                facts[ProcessIdentity(pid: pid, startTicks: start)] = InventoryCache.ProcessFacts(
                    uid: owner, user: owner.flatMap { names.name(of: $0) }, arguments: arguments,
                    configuration: SlirpCommandLine.decode(arguments), containerID: containerID,
                    stdoutTarget: stdout, stderrTarget: stderr, socketInodes: inodes)
            }
            return facts
        }
    }

    /// NUL-terminated fields, one after another.
    private struct FieldReader {
        let buffer: UnsafeBufferPointer<UInt8>
        var offset: Int

        init(_ buffer: UnsafeBufferPointer<UInt8>, from offset: Int) {
            self.buffer = buffer
            self.offset = offset
        }

        var atEnd: Bool { offset >= buffer.count }

        /// The next field, without its NUL; nil when there is no whole field left.
        mutating func next() -> UnsafeBufferPointer<UInt8>? {
            var end = offset
            while end < buffer.count && buffer[end] != 0 { end += 1 }
            guard end < buffer.count else { return nil }
            defer { offset = end + 1 }
            return UnsafeBufferPointer(rebasing: buffer[offset..<end])
        }

        /// A decimal field.
        mutating func number<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard let field = next(), !field.isEmpty, field.count <= 20 else { return nil }
            var value: T = 0
            for byte in field {
                guard byte >= 48 && byte <= 57 else { return nil }
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(T(byte - 48))
                guard !o1 && !o2 else { return nil }
                value = sum
            }
            return value
        }

        /// An optional text: "" is nil, "=text" is text; nil (the outer one) when neither.
        mutating func optional() -> String?? {
            guard let field = next() else { return nil }
            if field.isEmpty { return .some(nil) }
            guard field[0] == UInt8(ascii: "=") else { return nil }
            return .some(String(decoding: UnsafeBufferPointer(rebasing: field[1...]), as: UTF8.self))
        }
    }
}
