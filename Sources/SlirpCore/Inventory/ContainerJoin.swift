#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether a slirp4netns process serves a Podman container: proven by its owner and its
/// network namespace, never by a name.
///
/// The container ID slirpmon finds in a process's API socket or log file name is a claim
/// anyone can make: any user can run a program named `slirp4netns` with
/// `--api-socket /tmp/x/<root's container ID>.net`. A process is joined to a container only
/// when it runs as the container's owner (the uid whose Podman reported it) and the network
/// namespace it targets is the container's: the same nsfs file (device and inode) as the
/// container's process's `/proc/PID/ns/net`, or, for a container without a process, its
/// `SandboxKey` from `podman inspect`.
public enum ContainerJoin {
    /// The answer for one process and one container.
    public enum Verdict: Sendable, Equatable {
        case joined
        /// Not joined, and why, in words.
        case refused(String)
    }

    /// Checks that `process` serves `container`.
    public static func check(_ process: SlirpProcess, serves container: PodmanContainer, procRoot: String = "/proc") -> Verdict {
        let claim = "its file names claim container \(container.shortID) of \(owner(container.ownerUID, container.ownerName))"
        guard let uid = process.uid else { return .refused("\(claim), but its owner could not be read: not joined") }
        guard uid == container.ownerUID else {
            return .refused("\(claim), but it runs as \(owner(uid, process.user)): not joined (a process is joined to a container only when its owner and network namespace are the container's)")
        }
        guard let mine = namespace(of: process, procRoot: procRoot) else {
            return .refused("\(claim), but its network namespace could not be read: not joined")
        }
        if container.pid > 0 {
            guard let theirs = identity("\(procRoot)/\(container.pid)/ns/net") else {
                return .refused("\(claim), but the network namespace of the container's process \(container.pid) could not be read: not joined")
            }
            return theirs == mine.identity ? .joined
                : .refused("\(claim), but its network namespace is not the container's (process \(container.pid)): not joined")
        }
        // No process (starting, stopping): the namespace file Podman made for it.
        guard let key = container.sandboxKey, !key.isEmpty, key == mine.path || identity(key).map({ $0 == mine.identity }) == true else {
            return .refused("\(claim), but the container has no process and its network namespace is not the one this process targets: not joined")
        }
        return .joined
    }

    /// The first container in `containers` with `id` that `process` is proven to serve.
    public static func container(_ id: String, in containers: [PodmanContainer], servedBy process: SlirpProcess,
                                 procRoot: String = "/proc") -> (container: PodmanContainer?, refusal: String?) {
        var refusal: String?
        for container in containers where container.id == id {
            switch check(process, serves: container, procRoot: procRoot) {
            case .joined: return (container, nil)
            case .refused(let why): refusal = refusal ?? why
            }
        }
        return (nil, refusal)
    }

    /// A file's device and inode.
    struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    /// `stat` of a path: a namespace link under /proc or a namespace file (never opened).
    static func identity(_ path: String) -> FileIdentity? {
        guard let st = try? Files.status(path) else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// The network namespace the process targets, with the path it gave: the target PID's
    /// `ns/net`, or its `--netns-type=path` file (as slirp4netns sees it, through
    /// `/proc/PID/root`, where a rootless Podman's bind mount is the real nsfs file; else as
    /// the host sees it).
    static func namespace(of process: SlirpProcess, procRoot: String) -> (path: String, identity: FileIdentity)? {
        let config = process.configuration
        if let target = config.targetPID {
            return identity("\(procRoot)/\(target)/ns/net").map { ("/proc/\(target)/ns/net", $0) }
        }
        guard let path = config.netnsPath, path.hasPrefix("/") else { return nil }
        for seen in ["\(procRoot)/\(process.pid)/root\(path)", path] where NamespaceReader.isNamespaceFile(seen) {
            if let found = identity(seen) { return (path, found) }
        }
        return nil
    }

    private static func owner(_ uid: UInt32, _ name: String?) -> String {
        "\(name ?? UserNames.name(of: uid) ?? "uid \(uid)") (uid \(uid))"
    }
}
