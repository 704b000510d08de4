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

    private struct Entry: Codable {
        let key: String
        let writtenAt: Double
        let containers: [PodmanContainer]
    }

    /// The cache of this user, or nil when there is no private runtime directory.
    static func forCurrentUser(maxAge: Double) -> PodmanDiskCache? {
        let directory: String
        if geteuid() == 0 {
            directory = "/run/slirpmon"
        } else if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            directory = "\(runtime)/slirpmon"
        } else {
            return nil
        }
        return PodmanDiskCache(path: "\(directory)/podman-\(geteuid()).json", maxAge: maxAge)
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
            let home = uid == 0 ? nil : homeDirectory(of: uid)
            parts.append("uid \(uid)")
            for root in PodmanStorage.graphRoots(home: home, environment: environment) ?? [] {
                var files = ["\(root)/libpod/bolt_state.db", "\(root)/libpod/db.sql", "\(root)/libpod/db.sql-wal"]
                for name in (try? Files.directoryEntries(root)) ?? [] where name.hasSuffix("-containers") {
                    files.append("\(root)/\(name)/containers.json")
                }
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
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o077 == 0, st.st_size < 64 << 20 else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        guard let data = try? handle.readToEnd(), let entry = try? JSONDecoder().decode(Entry.self, from: data) else { return nil }
        let age = Date().timeIntervalSince1970 - entry.writtenAt
        guard entry.key == key, age >= 0, age < maxAge else { return nil }
        return entry.containers
    }

    /// Stores the containers for `key` (best effort: a failure only means no cache).
    func store(key: String, containers: [PodmanContainer]) {
        let directory = (path as NSString).deletingLastPathComponent
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { return }
        var st = stat()
        guard lstat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else { return }
        guard let data = try? JSONEncoder().encode(Entry(key: key, writtenAt: Date().timeIntervalSince1970, containers: containers)) else { return }
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written == data.count { rename(temporary, path) } else { unlink(temporary) }
    }
}
