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
            }
        }
    }

    /// Reads through the `/proc/<pid>` of a process inside the namespace. The nameservers are
    /// not read: `readNameservers` chooses the process for them.
    public static func read(viaProcess pid: Int32, interface: String, procRoot: String = "/proc") throws(Failure) -> ObservedAddresses {
        try readNetFiles(directory: "\(procRoot)/\(pid)/net", interface: interface)
    }

    /// Reads by joining the namespace at `path` on a throwaway thread (needs CAP_SYS_ADMIN over it).
    public static func read(netnsPath path: String, interface: String) throws(Failure) -> ObservedAddresses {
        guard Files.exists(path) else { throw .namespaceGone(path: path) }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Self.enterAndRead(path: path, interface: interface)
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
        switch box.result {
        case .success(let observed): return observed
        case .failure(let failure): throw failure
        case nil: throw .unreadable(SystemError("setns", path, errno: .ioError))
        }
    }

    /// Starts reading many namespaces on one throwaway thread that joins each in turn (a refresh
    /// of 100 instances otherwise starts 100 threads: most of its CPU time), and returns at once:
    /// the caller does other work (API requests) meanwhile and collects `results()`.
    public static func start(netnsPaths jobs: [(path: String, interface: String)]) -> PendingReads {
        let pending = PendingReads(jobs: jobs.map(\.path))
        guard !jobs.isEmpty else {
            pending.finish([])
            return pending
        }
        let thread = Thread {
            pending.finish(jobs.map { job in
                Files.exists(job.path) ? Self.enterAndRead(path: job.path, interface: job.interface) : .failure(.namespaceGone(path: job.path))
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

    /// A process whose network namespace is the one at `netnsPath` (compares nsfs device and inode).
    public static func processInside(netnsPath: String, procRoot: String = "/proc") -> Int32? {
        processesInside(netnsPath: netnsPath, procRoot: procRoot, limit: 1).first
    }

    private final class ResultBox: @unchecked Sendable {
        var result: Result<ObservedAddresses, Failure>?
    }

    /// Runs on its own thread; the thread ends right after, so it never needs to return to the host namespace.
    /// (A batch thread joins the next namespace from the previous one: only the path is looked up, in the mount namespace.)
    private static func enterAndRead(path: String, interface: String) -> Result<ObservedAddresses, Failure> {
        // Non-blocking and proven nsfs on the descriptor: a FIFO at a fake's --netns-type=path
        // would hang a blocking open forever.
        let fd: FileDescriptor
        do { fd = try SafeFiles.openForReading(path, kind: .networkNamespace) } catch {
            return .failure(error.isGone ? .namespaceGone(path: path) : .cannotEnter(path: path, error))
        }
        defer { fd.close() }
        if cslirp_enter_netns(fd.rawValue) != 0 { return .failure(.cannotEnter(path: path, SystemError("setns", path))) }
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
        return ObservedAddresses.parse(
            interface: interface,
            route: try text("route"),
            fibTrie: try text("fib_trie"),
            ifInet6: try text("if_inet6", optional: true),
            ipv6Route: try text("ipv6_route", optional: true)
        )
    }
}
