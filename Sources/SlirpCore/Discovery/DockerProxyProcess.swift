/// A userland proxy of Docker rootless: `rootlesskit-docker-proxy` (a child of dockerd, which
/// registers the port with RootlessKit) or its child `docker-proxy` (which listens inside the
/// namespace). Their command lines are the only place where a published port's container
/// address and port appear (RootlessKit's API knows only `childIP` 127.0.0.1 and the host port):
///
///     /usr/bin/rootlesskit-docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18700 -container-ip 172.17.0.2 -container-port 80
///     docker-proxy -container-ip 172.17.0.2 -container-port 80 -host-ip 127.0.0.1 -host-port 18700 -proto tcp
///
/// Any user can run a process with such a name and command line, so a process counts only
/// when its executable is one of the installed proxies (`/proc/PID/exe`, never the name) and it
/// descends from the rootlesskit child it is asked about; its command line is read bounded and
/// taken only in the exact form dockerd writes.
public struct DockerProxyProcess: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// `rootlesskit-docker-proxy`: its host address and port are RootlessKit's parent side.
        case rootlessKitProxy = "rootlesskit-docker-proxy"
        /// `docker-proxy`: its host address and port are RootlessKit's child side (`childIP`, `childPort`).
        case dockerProxy = "docker-proxy"
    }

    /// What a proxy forwards: from `hostIP:hostPort` to `containerIP:containerPort`.
    public struct Mapping: Sendable, Hashable, Codable {
        /// `tcp`, `udp` or `sctp` (dockerd's words).
        public let proto: String
        public let hostIP: String
        public let hostPort: Int
        public let containerIP: String
        public let containerPort: Int

        /// True when the host address is IPv6 (RootlessKit's `tcp6`/`udp6`).
        public var isIPv6: Bool { IPv4Address(hostIP) == nil }
    }

    public let pid: Int32
    public let parentPID: Int32
    public let uid: UInt32?
    public let kind: Kind
    public let mapping: Mapping

    /// The installed proxies (Debian's docker.io and rootlesskit, and Docker's own packages).
    /// A proxy's `exe` is read in its own mount namespace, which RootlessKit copies from the host's.
    public static let executables: [String: Kind] = [
        "/usr/bin/rootlesskit-docker-proxy": .rootlessKitProxy,
        "/usr/sbin/docker-proxy": .dockerProxy,
        "/usr/bin/docker-proxy": .dockerProxy,
        "/usr/libexec/docker/docker-proxy": .dockerProxy,
    ]

    /// The most of a command line read: dockerd's longest (IPv6 addresses) is under 250 bytes.
    public static let commandLineLimit = 512

    /// The five flags dockerd passes, each once, each as `-flag value`.
    static let flags: Set<String> = ["-proto", "-host-ip", "-host-port", "-container-ip", "-container-port"]

    /// Decodes a proxy's arguments (after argv[0]). Only dockerd's exact form: the five flags,
    /// each once with a separate value (Go's `--flag` and `-flag=value` spellings are refused:
    /// dockerd never writes them), a known protocol, strict IPv4/IPv6 addresses, ports 1-65535.
    public static func parse(arguments: [String]) -> Result<Mapping, DockerError> {
        guard arguments.count == 2 * flags.count else {
            return .failure(DockerError("proxy command line", "\(arguments.count) arguments, not the \(2 * flags.count) dockerd writes"))
        }
        var values: [String: String] = [:]
        for index in stride(from: 0, to: arguments.count, by: 2) {
            let flag = arguments[index]
            // The flag is not repeated in the message: it is the user's text (escape sequences).
            guard flags.contains(flag) else { return .failure(DockerError("proxy command line", "argument \(index + 1) is not one of dockerd's flags")) }
            guard values[flag] == nil else { return .failure(DockerError("proxy command line", "\(flag) given twice")) }
            values[flag] = arguments[index + 1]
        }
        guard let proto = values["-proto"], ["tcp", "udp", "sctp"].contains(proto) else {
            return .failure(DockerError("proxy command line", "-proto is not tcp, udp or sctp"))
        }
        guard let hostIP = values["-host-ip"].flatMap(address) else { return .failure(DockerError("proxy command line", "-host-ip is not an IP address")) }
        guard let containerIP = values["-container-ip"].flatMap(address) else { return .failure(DockerError("proxy command line", "-container-ip is not an IP address")) }
        guard let hostPort = values["-host-port"].flatMap(port) else { return .failure(DockerError("proxy command line", "-host-port is not a port (1-65535)")) }
        guard let containerPort = values["-container-port"].flatMap(port) else { return .failure(DockerError("proxy command line", "-container-port is not a port (1-65535)")) }
        return .success(Mapping(proto: proto, hostIP: hostIP, hostPort: hostPort, containerIP: containerIP, containerPort: containerPort))
    }

    /// The address in its canonical text (IPv4 dotted quad, IPv6 as `IPv6Address` prints it), or nil.
    static func address(_ text: String) -> String? {
        guard text.utf8.count <= 45 else { return nil }
        if let v4 = IPv4Address(text) { return v4.description }
        return IPv6Address(text)?.description
    }

    /// Decimal 1-65535 without sign or leading zero.
    static func port(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard (1...5).contains(bytes.count), bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes[0] != 48,
              let value = Int(text), (1...65535).contains(value) else { return nil }
        return value
    }

    /// Reads process `pid` if its executable is an installed proxy: nil when it is not one
    /// (the usual case, decided by one readlink); a failure when it is one but its command line
    /// is not dockerd's form.
    public static func read(pid: Int32, procRoot: String = "/proc") -> Result<DockerProxyProcess, DockerError>? {
        let base = "\(procRoot)/\(pid)"
        guard let exe = try? Files.readLink("\(base)/exe"), let kind = executables[exe] else { return nil }
        let context = "\(kind.rawValue) (PID \(pid))"
        guard let statBytes = try? Files.readProcessFile("\(base)/stat", limit: 4096), let stat = ProcessStat(bytes: statBytes) else {
            return .failure(DockerError(context, "its /proc/\(pid)/stat cannot be read (gone?)"))
        }
        guard let bytes = try? Files.readProcessFile("\(base)/cmdline", limit: commandLineLimit + 1) else {
            return .failure(DockerError(context, "its command line cannot be read (gone?)"))
        }
        guard bytes.count <= commandLineLimit else { return .failure(DockerError(context, "command line longer than \(commandLineLimit) bytes")) }
        var fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if fields.last == "" { fields.removeLast() }
        guard !fields.isEmpty else { return .failure(DockerError(context, "empty command line")) }
        switch parse(arguments: Array(fields.dropFirst())) {
        case .failure(let error): return .failure(DockerError(context, error.reason))
        case .success(let mapping):
            let uid = (try? Files.status(base)).map { $0.st_uid }
            return .success(DockerProxyProcess(pid: pid, parentPID: stat.parentPID, uid: uid, kind: kind, mapping: mapping))
        }
    }

    /// The proxies among the descendants of `ancestor` (the rootlesskit child, under which
    /// dockerd runs), and one failure per proxy whose command line was refused. One pass over
    /// `/proc` for the parent links; only descendants have their `exe` read.
    public static func scan(under ancestor: Int32, procRoot: String = "/proc") -> (proxies: [DockerProxyProcess], refused: [DockerError]) {
        guard let pids = try? Files.processIDs(procRoot: procRoot) else { return ([], []) }
        var children: [Int32: [Int32]] = [:]
        for pid in pids {
            guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/stat", limit: 4096), let stat = ProcessStat(bytes: bytes) else { continue }
            children[stat.parentPID, default: []].append(pid)
        }
        var proxies: [DockerProxyProcess] = [], refused: [DockerError] = []
        var queue = children[ancestor] ?? [], seen: Set<Int32> = [ancestor]
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted else { continue }
            queue += children[pid] ?? []
            switch read(pid: pid, procRoot: procRoot) {
            case .success(let proxy): proxies.append(proxy)
            case .failure(let error): refused.append(error)
            case nil: break
            }
        }
        return (proxies.sorted { $0.pid < $1.pid }, refused)
    }
}
