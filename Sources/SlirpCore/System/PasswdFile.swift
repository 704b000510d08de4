import Synchronization

/// The entries of a passwd file (`name:password:uid:gid:gecos:home:shell`), read as text.
enum PasswdFile {
    struct Entry: Equatable, Sendable {
        let name: String
        let uid: UInt32
        let gid: UInt32
        let home: String
    }

    /// The well-formed entries of the file at `path` (none when it cannot be read); comments,
    /// blank and malformed lines are skipped.
    static func entries(_ path: String = "/etc/passwd") -> [Entry] {
        guard let bytes = try? Files.readBytes(path) else { return [] }
        return parse(bytes)
    }

    /// The entries of passwd-format text (a file, or what `getent passwd` prints).
    static func parse(_ bytes: [UInt8]) -> [Entry] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count == 7, line.first != UInt8(ascii: "#"), !fields[0].isEmpty,
                  let uid = UInt32(String(decoding: fields[2], as: UTF8.self)),
                  let gid = UInt32(String(decoding: fields[3], as: UTF8.self)) else { return nil }
            return Entry(name: String(decoding: fields[0], as: UTF8.self), uid: uid, gid: gid, home: String(decoding: fields[5], as: UTF8.self))
        }
    }
}

/// Users by uid or name: `/etc/passwd` first, then, for what it does not list (directory users:
/// LDAP, SSSD, systemd's), `getent passwd`, which asks the system's NSS in a child process.
///
/// NSS is never loaded into slirpmon itself: its modules are shared libraries `dlopen`ed by
/// libc, which a statically linked slirpmon cannot do safely (systemd's module crashed it on a
/// worker thread). The file is read again when it changes; `getent`'s answers (a user or none)
/// are kept for a minute.
public enum UserNames {
    /// The user name of `uid`, or nil when no source knows it.
    public static func name(of uid: UInt32) -> String? { user(uid: uid)?.name }

    /// The home directory of `uid`.
    public static func home(of uid: UInt32) -> String? { user(uid: uid)?.home }

    /// The home directory of the user called `name`.
    public static func home(named name: String) -> String? { user(key: "name \(name)", asking: name, from: { $0.name == name })?.home }

    static func user(named name: String) -> PasswdFile.Entry? { user(key: "name \(name)", asking: name, from: { $0.name == name }) }
    static func user(uid: UInt32) -> PasswdFile.Entry? { user(key: "uid \(uid)", asking: String(uid), from: { $0.uid == uid }) }

    static let passwdPath = "/etc/passwd"
    static let getentAge = 60.0

    private struct FileState: Equatable {
        let inode: UInt64
        let size: Int64
        let modified: Int
        let modifiedNanoseconds: Int
    }
    private static let file = Mutex<Kept<FileState, [PasswdFile.Entry]>?>(nil)
    private static let asked = Mutex<[String: Kept<String, PasswdFile.Entry?>]>([:])

    /// The entry `matches` picks in `/etc/passwd`, else what `getent passwd query` answers
    /// (kept under `key`).
    private static func user(key: String, asking query: String, from matches: (PasswdFile.Entry) -> Bool) -> PasswdFile.Entry? {
        if let entry = fileEntries().first(where: matches) { return entry }
        let now = Double(Deadline.now.nanoseconds) / 1e9
        if let kept = asked.withLock({ $0[key]?.value(provenBy: key, now: now, maxAge: getentAge) }) { return kept }
        let entry = getent(query).first(where: matches)
        asked.withLock { $0[key] = Kept(entry, key: key, readAt: now) }
        return entry
    }

    /// `/etc/passwd`'s entries, parsed again only when the file changed.
    static func fileEntries() -> [PasswdFile.Entry] {
        let st = try? Files.status(passwdPath)
        let state = st.map { FileState(inode: UInt64($0.st_ino), size: Int64($0.st_size), modified: $0.st_mtim.tv_sec, modifiedNanoseconds: $0.st_mtim.tv_nsec) }
        if let state, let cached = file.withLock({ $0?.value(provenBy: state, now: 0) }) { return cached }
        let entries = PasswdFile.entries(passwdPath)
        file.withLock { $0 = state.map { Kept(entries, key: $0, readAt: 0) } }
        return entries
    }

    /// What `getent passwd query` prints (nothing when getent is missing or knows no such user).
    private static func getent(_ query: String) -> [PasswdFile.Entry] {
        guard let getent = Executables.find("getent"),
              case .success(let output) = Executables.run(getent, ["passwd", "--", query], timeout: 2), output.status == 0 else { return [] }
        return PasswdFile.parse(Array(output.stdout.utf8))
    }
}
