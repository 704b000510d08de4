#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem
import Foundation

/// Reads the addresses a network namespace really has, without running `ip`.
///
/// Preferred: the `/proc/<pid>/net` files of a process inside the namespace (any
/// user can read them). Otherwise, as root: a short-lived thread joins the
/// namespace with `setns` and reads `/proc/thread-self/net`, then exits, so no
/// other thread ever changes namespace.
public enum NamespaceReader {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case namespaceGone(path: String)
        case cannotEnter(path: String, SystemError)
        case unreadable(SystemError)
        /// A user's process names a namespace no user namespace of theirs owns (root's, another tenant's).
        case notOwned(path: String, uid: UInt32)
        /// A user's process names a path that does not resolve inside its own root to a namespace file
        /// without `/proc`'s magic links (`/proc/1/ns/net`): not followed.
        case notFollowed(path: String, SystemError)

        public var description: String {
            switch self {
            case .namespaceGone(let path):
                "network namespace \(path) no longer exists (deleted under the running slirp4netns?)"
            case .cannotEnter(let path, let error):
                error.isPermissionDenied
                    ? "cannot enter network namespace \(path): permission denied (run as root, or the namespace's owner with a process in it)"
                    : "cannot enter network namespace \(path): \(error)"
            case .unreadable(let error):
                "cannot read the namespace's addresses: \(error)"
            case .notFollowed(let path, let error):
                "not entered: network namespace \(path) does not resolve inside the process's root to a namespace file without /proc's magic links (a link to /proc/PID/ns/net?): \(error)"
            case .notOwned(let path, let uid):
                "not entered: network namespace \(path) is not owned by uid \(uid), the process's user (a link to someone else's namespace?)"
            }
        }
    }

    /// Reads through the `/proc/<pid>` of a process inside the namespace. The nameservers are
    /// not read: `readNameservers` chooses the process for them.
    public static func read(viaProcess pid: Int32, interface: String, procRoot: String = "/proc") throws(Failure) -> ObservedAddresses {
        try readNetFiles(directory: "\(procRoot)/\(pid)/net", interface: interface)
    }

    /// Reads by joining the namespace at `path` on a throwaway thread (needs CAP_SYS_ADMIN over it);
    /// with `owner`, only a namespace that user owns (checked on the descriptor joined, see `enter`).
    public static func read(netnsPath path: String, interface: String, owner: UInt32? = nil) throws(Failure) -> ObservedAddresses {
        try runInside(path, owner: owner) { readInside(path: path, interface: interface) }.get()
    }

    /// Runs `body` on a throwaway thread that has joined the network namespace at `path` (needs
    /// CAP_SYS_ADMIN over it) and ends right after, so no other thread ever changes namespace and
    /// none needs to return to the host's.
    static func runInside<T>(_ path: String, owner: UInt32? = nil, _ body: @escaping @Sendable () -> Result<T, Failure>) -> Result<T, Failure> {
        guard Files.exists(path) else { return .failure(.namespaceGone(path: path)) }
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = enter(path, owner: owner).flatMap { body() }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
        return box.result ?? .failure(.unreadable(SystemError("setns", path, errno: .ioError)))
    }

    /// Starts reading many namespaces on one throwaway thread that joins each in turn (a refresh
    /// of 100 instances otherwise starts 100 threads: most of its CPU time), and returns at once:
    /// the caller does other work (API requests) meanwhile and collects `results()`.
    public static func start(netnsPaths jobs: [(path: String, interface: String, owner: UInt32?)]) -> PendingReads {
        let pending = PendingReads(jobs: jobs.map(\.path))
        guard !jobs.isEmpty else {
            pending.finish([])
            return pending
        }
        let thread = Thread {
            pending.finish(jobs.map { job in
                Files.exists(job.path) ? enter(job.path, owner: job.owner).flatMap { readInside(path: job.path, interface: job.interface) }
                    : .failure(.namespaceGone(path: job.path))
            })
        }
        thread.stackSize = 256 << 10
        thread.start()
        return pending
    }

    /// Namespace reads under way on their own thread.
    public final class PendingReads: @unchecked Sendable {
        private let paths: [String]
        private let done = DispatchSemaphore(value: 0)
        private var answers: [Result<ObservedAddresses, Failure>] = []

        init(jobs paths: [String]) { self.paths = paths }

        func finish(_ results: [Result<ObservedAddresses, Failure>]) {
            answers = results
            done.signal()
        }

        /// Waits for the reads; one result per job, in order.
        public func results() -> [Result<ObservedAddresses, Failure>] {
            done.wait()
            done.signal() // a second call returns at once
            guard answers.count == paths.count else { return paths.map { .failure(.unreadable(SystemError("setns", $0, errno: .ioError))) } }
            return answers
        }
    }

    /// True when `path` is a network namespace file (nsfs), not a plain file left behind.
    public static func isNamespaceFile(_ path: String) -> Bool {
        cslirp_is_netns_file(path) == 1
    }

    /// The namespace file `path` (slirp4netns `pid`'s `--netns-type=path`) as that process sees it,
    /// `/proc/PID/root` + `path`, for root to join: every link on the way resolved inside the
    /// process's root and none through `/proc`'s magic links (`openat2` `RESOLVE_IN_ROOT`: a link to
    /// `/proc/1/ns/net` is refused), and an nsfs file. For a user's process (`uid` not 0) the join
    /// then enters it only when that user owns it (`enter`'s `owner`, checked on the descriptor
    /// joined): a link to another tenant's namespace is refused, not shown under their instance.
    /// Root's own process may name a file only the host sees (then `path` as it is).
    public static func namespaceFile(_ path: String, of pid: Int32, uid: UInt32?, procRoot: String = "/proc") -> Result<String, Failure> {
        let root = "\(procRoot)/\(pid)/root"
        let seen = root + path
        let pathFD: FileDescriptor
        do {
            pathFD = try FileDescriptor.open(path, inRoot: root, options: .pathOnly)
        } catch {
            if uid == 0 && isNamespaceFile(path) { return .success(path) }
            return .failure(error.isGone ? .namespaceGone(path: path) : .notFollowed(path: path, error))
        }
        defer { pathFD.close() }
        do { try SafeFiles.require(.networkNamespace, fd: pathFD, path: path) } catch {
            if uid == 0 && isNamespaceFile(path) { return .success(path) }
            return .failure(.cannotEnter(path: path, error))
        }
        guard uid != nil else {
            return .failure(.cannotEnter(path: path, SystemError("open", seen, errno: .permissionDenied, detail: "the process's owner is unknown (not entered)")))
        }
        return .success(seen)
    }

    /// A process whose network namespace is the one at `netnsPath` (compares nsfs device and inode).
    public static func processInside(netnsPath: String, procRoot: String = "/proc") -> Int32? {
        processesInside(netnsPath: netnsPath, procRoot: procRoot, limit: 1).first
    }

    /// One answer handed from a throwaway thread.
    private final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, Failure>?
    }

    /// Joins the namespace at `path` on the calling thread, which must end without running anything
    /// else (a batch thread joins the next namespace from the previous one: only the path is looked
    /// up, in the mount namespace). With `owner`, only a namespace whose user namespace that user
    /// created (or one above it): checked on the very descriptor joined, so a link swapped since
    /// `namespaceFile` proved the path is caught here.
    static func enter(_ path: String, owner: UInt32?) -> Result<Void, Failure> {
        // Non-blocking and proven nsfs on the descriptor: a FIFO at a fake's --netns-type=path
        // would hang a blocking open forever.
        let fd: FileDescriptor
        do { fd = try SafeFiles.openForReading(path, kind: .networkNamespace) } catch {
            return .failure(error.isGone ? .namespaceGone(path: path) : .cannotEnter(path: path, error))
        }
        defer { fd.close() }
        if let owner {
            switch cslirp_namespace_owned_by(fd.rawValue, owner) {
            case 1: break
            case 0: return .failure(.notOwned(path: path, uid: owner))
            default: return .failure(.cannotEnter(path: path, SystemError("ioctl NS_GET_USERNS", path)))
            }
        }
        if cslirp_enter_netns(fd.rawValue) != 0 { return .failure(.cannotEnter(path: path, SystemError("setns", path))) }
        return .success(())
    }

    /// The tap's addresses and MTU, read on a thread inside the namespace (`enter`).
    private static func readInside(path: String, interface: String) -> Result<ObservedAddresses, Failure> {
        do {
            var observed = try readNetFiles(directory: "/proc/thread-self/net", interface: interface)
            let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if sock >= 0 {
                var mtu: Int32 = 0
                if cslirp_interface_mtu(sock, interface, &mtu) == 0 { observed.mtu = Int(mtu) }
                close(sock)
            }
            return .success(observed)
        } catch {
            return .failure(error)
        }
    }

    private static func readNetFiles(directory: String, interface: String) throws(Failure) -> ObservedAddresses {
        func text(_ name: String, optional: Bool = false) throws(Failure) -> String {
            do { return try Files.readText("\(directory)/\(name)") } catch {
                if optional && error.isGone { return "" } // no IPv6 in this kernel
                throw .unreadable(error)
            }
        }
        var observed = ObservedAddresses.parse(
            interface: interface,
            route: try text("route"),
            fibTrie: try text("fib_trie"),
            ifInet6: try text("if_inet6", optional: true),
            ipv6Route: try text("ipv6_route", optional: true)
        )
        // One small file more per read, at the addresses' cadence: the tap's traffic counters.
        observed.counters = InterfaceCounters.parse(netDev: try text("dev", optional: true), interface: interface)
        return observed
    }
}
