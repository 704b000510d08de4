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

    /// The file (`KeptFile`'s format): this header, then the time written, the key, and the
    /// containers. The key and age are checked before any container is read (most runs need no
    /// answer).
    static let header = Array("slirpmon-podman 4\n".utf8)

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
        return bytes.withUnsafeBufferPointer { buffer -> [PodmanContainer]? in
            var fields = KeptFile.Reader(buffer, from: Self.header.count)
            guard let writtenAt = fields.text().flatMap(Double.init), let storedKey = fields.next() else { return nil }
            let kept = Kept((), key: Array(storedKey), readAt: writtenAt)
            guard kept.value(provenBy: Array(key.utf8), now: Date().timeIntervalSince1970, maxAge: maxAge) != nil else { return nil }
            return Self.containers(&fields)
        }
    }

    /// Stores the containers for `key` (best effort: a failure only means no cache).
    func store(key: String, containers: [PodmanContainer]) {
        var out = KeptFile.Writer(Self.header)
        out.text(String(Date().timeIntervalSince1970))
        out.text(key)
        out.number(UInt64(containers.count))
        for c in containers {
            out.text(c.id)
            out.text(c.name)
            out.text(c.image)
            out.text(c.state)
            out.signed(Int64(c.pid))
            out.optional(c.podID)
            out.optional(c.podName)
            out.number(c.isInfra ? 1 : 0)
            out.number(UInt64(c.ports.count))
            for p in c.ports {
                out.text(p.hostIP)
                out.signed(Int64(p.hostPort))
                out.signed(Int64(p.containerPort))
                out.signed(Int64(p.range))
                out.text(p.proto)
            }
            out.number(UInt64(c.createCommand.count))
            c.createCommand.forEach { out.text($0) }
            out.text(c.networkMode)
            out.number(UInt64(c.ownerUID))
            out.optional(c.ownerName)
            out.optional(c.sandboxKey)
            out.number(UInt64(c.networks.count))
            for n in c.networks {
                out.text(n.network)
                out.optional(n.address)
                out.optional(n.gateway)
            }
        }
        guard !out.refused else { return }
        PrivateFile.write(out.bytes, to: path)
    }

    /// The containers `store` wrote, or nil unless every one is whole and nothing follows.
    private static func containers(_ fields: inout KeptFile.Reader) -> [PodmanContainer]? {
        guard let count = fields.number(Int.self), count <= fields.buffer.count else { return nil } // a field is a byte at least
        var containers: [PodmanContainer] = []
        containers.reserveCapacity(count)
        for _ in 0..<count {
            guard let id = fields.text(), let name = fields.text(), let image = fields.text(), let state = fields.text(),
                  let pid = fields.signed(Int32.self), let podID = fields.optional(), let podName = fields.optional(),
                  let infra = fields.number(UInt8.self), infra <= 1,
                  let portCount = fields.number(Int.self), portCount <= fields.buffer.count else { return nil }
            var ports: [PodmanPort] = []
            for _ in 0..<portCount {
                guard let hostIP = fields.text(), let hostPort = fields.signed(Int.self), let containerPort = fields.signed(Int.self),
                      let range = fields.signed(Int.self), let proto = fields.text() else { return nil }
                ports.append(PodmanPort(hostIP: hostIP, hostPort: hostPort, containerPort: containerPort, range: range, proto: proto))
            }
            guard let wordCount = fields.number(Int.self), wordCount <= fields.buffer.count else { return nil }
            var command: [String] = []
            for _ in 0..<wordCount {
                guard let word = fields.text() else { return nil }
                command.append(word)
            }
            guard let networkMode = fields.text(), let ownerUID = fields.number(UInt32.self),
                  let ownerName = fields.optional(), let sandboxKey = fields.optional(),
                  let networkCount = fields.number(Int.self), networkCount <= fields.buffer.count else { return nil }
            var networks: [PodmanNetworkAttachment] = []
            for _ in 0..<networkCount {
                guard let network = fields.text(), let address = fields.optional(), let gateway = fields.optional() else { return nil }
                networks.append(PodmanNetworkAttachment(network: network, address: address, gateway: gateway))
            }
            containers.append(PodmanContainer(id: id, name: name, image: image, state: state, pid: pid, podID: podID, podName: podName,
                                              isInfra: infra == 1, ports: ports, createCommand: command, networkMode: networkMode,
                                              ownerUID: ownerUID, ownerName: ownerName, sandboxKey: sandboxKey, networks: networks))
        }
        return fields.atEnd ? containers : nil
    }
}
