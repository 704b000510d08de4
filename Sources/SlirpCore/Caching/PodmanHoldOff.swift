#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Users whose Podman failed (did not answer in time, or answered with an error), not asked
/// again for `period` seconds: a user's Podman with its storage locked cost every `slirpmon
/// list` as root its whole timeout (10 s). The failure is shown as such, with when it happened
/// and until when it is not asked again.
///
/// A remembered failure holds only while what it depends on is unchanged: the Podman binary,
/// the user's Podman state files and configuration files (`key`, the same facts
/// `PodmanDiskCache` keys its answers on, plus containers.conf and storage.conf). A user who
/// fixes their configuration is asked at the next run. Kept in memory (the monitor) and, for
/// short-lived commands, in a private file beside Podman's cached answer (`PrivateFile`).
struct PodmanHoldOff {
    struct Failure: Equatable {
        let uid: UInt32
        /// The failure as Podman's run gave it, one line.
        let reason: String
        /// Seconds since the epoch.
        let at: Double
        let until: Double
        /// A digest of what the failure depends on (see `key(binary:user:)`).
        let key: String

        /// "REASON at 18:40:02; not asked again until 18:41:02 (...)".
        var message: String {
            "\(reason) at \(Self.clock(at)); not asked again until \(Self.clock(until)) or until its configuration or containers change (`slirpmon list --no-cache` asks now)"
        }

        /// Local time of day, HH:MM:SS.
        static func clock(_ seconds: Double) -> String {
            var time = time_t(seconds)
            var parts = tm()
            localtime_r(&time, &parts)
            func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        }
    }

    static let period = 60.0

    /// Seconds since the epoch (the file is read by later runs: wall-clock time).
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    /// The file's header (`KeptFile`'s format); then per failure: uid, at, until, key, reason.
    static let header = Array("slirpmon-podman-failures 2\n".utf8)

    /// The file of remembered failures, or nil: in memory only.
    let path: String?
    private(set) var failures: [UInt32: Failure] = [:]

    init(path: String?) {
        self.path = path
        if let path { failures = Self.load(path) }
    }

    /// The file of the current user (root: `/run/slirpmon`), or nil without a private directory.
    static func pathForCurrentUser() -> String? {
        PrivateFile.directoryForCurrentUser().map { "\($0)/podman-failures-\(geteuid())" }
    }

    /// The remembered failure of `uid` that still holds at `now` under `key`.
    func held(uid: UInt32, key: String, now: Double) -> Failure? {
        guard let failure = failures[uid], failure.key == key, failure.at <= now, now < failure.until else { return nil }
        return failure
    }

    /// Remembers a failure (and writes the file, when there is one).
    mutating func remember(uid: UInt32, reason: String, key: String, now: Double) -> Failure {
        let oneLine = String(reason.map { $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\0" ? " " : $0 })
        let failure = Failure(uid: uid, reason: oneLine, at: now, until: now + Self.period, key: key)
        failures[uid] = failure
        save()
        return failure
    }

    /// Forgets the failure of `uid` (its Podman answered).
    mutating func forget(uid: UInt32) {
        guard failures.removeValue(forKey: uid) != nil else { return }
        save()
    }

    /// What a user's failure depends on, as a short digest (FNV-1a of the facts: a digest, so
    /// that the file stays small and holds no paths of the user's).
    static func key(binary: String, user: PodmanCLI.User?, environment: [String: String] = ContainersConf.processEnvironment) -> String {
        var facts = PodmanDiskCache.state(binary: binary, processes: [], users: [user], environment: environment).key
        let uid = user?.uid ?? UInt32(geteuid())
        var files: [String] = []
        // This process's own Podman reads the files its environment names (a user's gets none of it).
        if user == nil { files += ["CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"].compactMap { environment[$0] } }
        var directories = UserNames.home(of: uid).map { ["\($0)/.config/containers"] } ?? []
        if uid == 0 { directories.append("/etc/containers") }
        files += directories.flatMap { ["\($0)/containers.conf", "\($0)/storage.conf"] }
        for file in files {
            guard let st = try? Files.status(file) else { continue }
            facts += "\n\(file):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in facts.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    private func save() {
        guard let path else { return }
        var out = KeptFile.Writer(Self.header)
        for f in failures.values.sorted(by: { $0.uid < $1.uid }) {
            out.number(UInt64(f.uid))
            out.text(String(f.at))
            out.text(String(f.until))
            out.text(f.key)
            out.text(f.reason)
        }
        guard !out.refused else { return }
        PrivateFile.write(out.bytes, to: path)
    }

    /// The failures in the file; none when it is not whole.
    private static func load(_ path: String) -> [UInt32: Failure] {
        guard let bytes = PrivateFile.read(path, limit: 1 << 20), bytes.starts(with: header) else { return [:] }
        return bytes.withUnsafeBufferPointer { buffer in
            var fields = KeptFile.Reader(buffer, from: header.count)
            var result: [UInt32: Failure] = [:]
            while !fields.atEnd {
                guard let uid = fields.number(UInt32.self), let at = fields.text().flatMap(Double.init),
                      let until = fields.text().flatMap(Double.init), let key = fields.text(), let reason = fields.text() else { return [:] }
                result[uid] = Failure(uid: uid, reason: reason, at: at, until: until, key: key)
            }
            return result
        }
    }
}
