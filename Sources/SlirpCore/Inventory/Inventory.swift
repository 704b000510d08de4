#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch

/// Collects `SlirpInstance`s: discovery, addresses, API socket, forwards and log, per instance.
public struct Inventory: Sendable {
    public struct Options: Sendable {
        /// Read the namespaces' real addresses.
        public var readAddresses = true
        /// Ask each API socket for its forwards (each request lands in the instance's log).
        public var listForwards = true
        public var apiTimeout = 2.0
        public var procRoot = "/proc"
        public init() {}
    }

    public let options: Options
    public let scanner: ProcessScanner

    public init(options: Options = Options()) {
        self.options = options
        scanner = ProcessScanner(procRoot: options.procRoot)
    }

    /// Every slirp4netns instance visible now, inspected in parallel.
    public func collect() throws(SystemError) -> [SlirpInstance] {
        let processes = try scanner.scan()
        return inspect(processes)
    }

    /// Inspects the given processes in parallel (API calls and namespace reads may each wait).
    public func inspect(_ processes: [SlirpProcess]) -> [SlirpInstance] {
        let results = ResultSlots<SlirpInstance>(count: processes.count)
        DispatchQueue.concurrentPerform(iterations: processes.count) { i in
            results.set(i, inspect(processes[i]))
        }
        return results.values
    }

    /// Everything about one process.
    public func inspect(_ process: SlirpProcess) -> SlirpInstance {
        let config = process.configuration
        let expected = ExpectedAddresses(config)

        var observed: ObservedAddresses?
        var observeError: String?
        if options.readAddresses {
            if process.isZombie {
                observeError = "the process is defunct"
            } else {
                switch readNamespace(config) {
                case .success(let o): observed = o
                case .failure(let e): observeError = e.description
                }
            }
        }
        let checks = AddressCheck.compare(config, observed: observed, reason: observeError ?? (options.readAddresses ? nil : "not read"))

        var apiSocket = config.apiSocket
        if let path = apiSocket, !path.hasPrefix("/"),
           let cwd = try? Files.readLink("\(options.procRoot)/\(process.pid)/cwd") {
            apiSocket = cwd + "/" + path
        }
        let ownership = apiSocket.map { SocketOwnership.check(path: $0, process: process, procRoot: options.procRoot) }

        var forwards: [HostForward]?
        var forwardsError: String?
        if options.listForwards, let path = apiSocket, !process.isZombie {
            if let ownership, !ownership.isUsable, !ownership.isUnverified {
                forwardsError = "not asked: API socket \(ownership)"
            }
            if forwardsError == nil {
                do { forwards = try APIClient(socketPath: path, expectedPID: process.pid, timeout: options.apiTimeout).list() }
                catch { forwardsError = error.description }
            }
        }

        var log: SlirpInstance.LogInfo?
        var logError: String?
        if !process.isZombie {
            do {
                let reader = try UnlinkedLog(pid: process.pid, procRoot: options.procRoot)
                log = SlirpInstance.LogInfo(fd: reader.fd, originalPath: reader.originalPath, deleted: reader.isDeleted,
                                            sizeBytes: (try? reader.size()) ?? 0)
            } catch { logError = error.description }
        } else {
            logError = "the process is defunct: its log closed with it"
        }

        return SlirpInstance(process: process, expected: expected, observed: observed, observeError: observeError,
                             addressChecks: checks, apiSocket: apiSocket, socketOwnership: ownership,
                             forwards: forwards, forwardsError: forwardsError, log: log, logError: logError)
    }

    /// Reads the namespace: through the target PID, or by joining the namespace file as root.
    func readNamespace(_ config: SlirpConfiguration) -> Result<ObservedAddresses, NamespaceReader.Failure> {
        let tap = config.effectiveTapName
        if let pid = config.targetPID {
            return Result { () throws(NamespaceReader.Failure) in try NamespaceReader.read(viaProcess: pid, interface: tap, procRoot: options.procRoot) }
        }
        guard let path = config.netnsPath else {
            return .failure(.unreadable(SystemError("netns", "no target on the command line", code: ENOENT)))
        }
        if geteuid() != 0, let inside = NamespaceReader.processInside(netnsPath: path, procRoot: options.procRoot) {
            return Result { () throws(NamespaceReader.Failure) in try NamespaceReader.read(viaProcess: inside, interface: tap, procRoot: options.procRoot) }
        }
        return Result { () throws(NamespaceReader.Failure) in try NamespaceReader.read(netnsPath: path, interface: tap) }
    }
}

/// Fixed slots written from concurrent iterations, one slot per index.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLockLite()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.locked { slots[i] = value } }
    var values: [T] { lock.locked { slots.compactMap { $0 } } }
}

/// A pthread mutex, for the few places that need one without Foundation.
final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
