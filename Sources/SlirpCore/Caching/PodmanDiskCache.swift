import Foundation

/// Podman's answer kept on disk for a few seconds, so that `slirpmon list` run again
/// and again (by an operator, by `watch`, by scripts) does not start Podman each time.
///
/// The answer is reused only when nothing it depends on has changed: the same
/// slirp4netns processes (PID and start time), the same Podman binary and
/// configuration variables, and the same state files of every user asked (Podman's
/// libpod database and its containers.json, by modification time, size and inode:
/// every create, start, stop, failure and removal writes them), and only for
/// `maxAge` seconds. The file lives in `/run/slirpmon` (root) or
/// `$XDG_RUNTIME_DIR/slirpmon` (a user), is private to its owner, and is ignored when
/// it is not. Answers with a failure are never stored.
struct PodmanDiskCache {
    let path: String
    let maxAge: Double

    /// The file: this header, the time written, the key's length in bytes, the key, then the
    /// containers as JSON. The key and age are checked before any JSON is decoded (Foundation's
    /// decoder is slow to start, and most runs need no answer), and `[]` is not decoded at all.
    static let header = Array("slirpmon-podman 2\n".utf8)

    /// The cache of this user, or nil when there is no private runtime directory.
    static func forCurrentUser(maxAge: Double) -> PodmanDiskCache? {
        guard let directory = PrivateFile.directoryForCurrentUser() else { return nil }
        return PodmanDiskCache(path: "\(directory)/podman-answer-\(geteuid())", maxAge: maxAge)
    }

    /// What the answer depends on, as one string.
    static func key(binary: String, processes: [SlirpProcess], users: [PodmanCLI.User?]) -> String {
        state(binary: binary, processes: processes, users: users).key
    }

    /// The key, and whether it may be trusted to change with the next write: a file's time comes
    /// from a coarse clock, so a state file written in the last moments may be written again with
    /// the same time (and size and inode). An answer under an unsettled key is used, never kept.
    static func state(binary: String, processes: [SlirpProcess], users: [PodmanCLI.User?],
                      environment: [String: String] = ContainersConf.processEnvironment) -> (key: String, settled: Bool) {
        var newest = 0.0
        var parts = [binary]
        for name in ["CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "XDG_DATA_HOME", "XDG_CONFIG_HOME"] {
            parts.append("\(name)=\(environment[name] ?? "-")")
        }
        parts.append(processes.map { "\($0.identity.pid)@\($0.identity.startTicks)" }.sorted().joined(separator: ","))
        for user in users {
            let uid = user?.uid ?? UInt32(geteuid())
            let home = uid == 0 ? nil : UserNames.home(of: uid)
            parts.append("uid \(uid)")
            for root in PodmanStorage.graphRoots(home: home, environment: environment) ?? [] {
                let files = ["\(root)/libpod/bolt_state.db", "\(root)/libpod/db.sql", "\(root)/libpod/db.sql-wal"]
                    + PodmanStorage.containerFiles(in: root)
                for file in files {
                    guard let st = try? Files.status(file) else { continue }
                    parts.append("\(file):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
                    newest = max(newest, Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
                }
            }
        }
        return (parts.joined(separator: "\n"), Date().timeIntervalSince1970 - newest > 0.25)
    }

    /// The stored containers for `key`, if fresh.
    func load(key: String) -> [PodmanContainer]? {
        guard let bytes = PrivateFile.read(path), bytes.starts(with: Self.header) else { return nil }
        var rest = bytes[Self.header.count...]
        func line() -> String? {
            guard let end = rest.firstIndex(of: 0x0A) else { return nil }
            defer { rest = rest[(end + 1)...] }
            return String(decoding: rest[..<end], as: UTF8.self)
        }
        guard let writtenAt = line().flatMap(Double.init), let length = line().flatMap(Int.init), length >= 0, length < rest.count else { return nil }
        let storedKey = rest.prefix(length)
        rest = rest.dropFirst(length)
        let age = Date().timeIntervalSince1970 - writtenAt
        guard storedKey.elementsEqual(key.utf8), rest.first == 0x0A, age >= 0, age < maxAge else { return nil }
        let json = rest.dropFirst()
        if json.elementsEqual("[]".utf8) { return [] }
        return try? JSONDecoder().decode([PodmanContainer].self, from: Data(json))
    }

    /// Stores the containers for `key` (best effort: a failure only means no cache).
    func store(key: String, containers: [PodmanContainer]) {
        guard let json = try? JSONEncoder().encode(containers) else { return }
        var bytes = Self.header
        bytes += "\(Date().timeIntervalSince1970)\n\(key.utf8.count)\n\(key)\n".utf8
        bytes += json
        PrivateFile.write(bytes, to: path)
    }
}
