import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSlirpSystem

/// Starts real slirp4netns instances in network namespaces it creates, the way Podman
/// does (exit and ready pipes, a log file unlinked at once), and removes them again.
///
/// Used by `slirpmon demo`, by the tests and by the benchmarks. As root each
/// instance gets an `ip netns` namespace; as a user, an `unshare --user --net`
/// process whose PID is the target. Every instance holds the write end of its
/// exit pipe in this process: if this process dies, slirp4netns exits by itself.
public final class SlirpLab: @unchecked Sendable {
    /// What to start.
    public struct Spec: Sendable {
        public var name: String
        public var cidr: String?
        public var ipv6 = false
        public var mtu: Int? = 65520
        public var apiSocket = true
        public var disableHostLoopback = true
        public var forwards: [ForwardRequest] = []
        /// Extra arguments placed before the target (e.g. a bad `--mtu` to make it fail).
        public var extraArguments: [String] = []
        /// A program run inside the namespace for the instance's lifetime, e.g. a server behind its forwards.
        public var server: Server?

        public init(name: String, cidr: String? = nil, ipv6: Bool = false, apiSocket: Bool = true, forwards: [ForwardRequest] = []) {
            self.name = name
            self.cidr = cidr
            self.ipv6 = ipv6
            self.apiSocket = apiSocket
            self.forwards = forwards
        }
    }

    /// A program run inside an instance's namespace: as root through `ip netns exec`, as a user it
    /// holds the namespace. The instance is started once something listens on each of `ports` there.
    public struct Server: Sendable {
        public var command: [String]
        public var ports: [Int]
        public init(command: [String], ports: [Int]) {
            self.command = command
            self.ports = ports
        }
    }

    /// A started instance.
    public struct Instance: Sendable {
        public let name: String
        public let pid: Int32
        /// `ip netns` name (root mode) or nil (user mode).
        public let netnsName: String?
        /// The namespace: `/run/netns/NAME`, or `/proc/PID/ns/net` of the holder process.
        public let netnsPath: String
        /// The `unshare` process holding the namespace in user mode (the server, when there is one).
        public let holderPID: Int32?
        /// The spec's server, as root (in user mode it is the holder).
        public let serverPID: Int32?
        public let apiSocket: String?
        /// The forwards added when it started.
        public let forwards: [ForwardRequest]
        public let logPath: String
        public let arguments: [String]
        fileprivate let exitWriteFD: Int32
    }

    public enum LabError: Error, Sendable, CustomStringConvertible {
        case missingTool(String)
        case setup(String)
        /// slirp4netns exited before it was ready; `log` is what it printed.
        case startFailed(status: Int32, log: String)
        case notReady(log: String)

        public var description: String {
            switch self {
            case .missingTool(let tool): "\(tool) is not installed: apt-get install \(tool == "ip" ? "iproute2" : tool)"
            case .setup(let why): why
            case .startFailed(let status, let log): "slirp4netns exited with status \(status) before it was ready: \(log.trimmingSpaces)"
            case .notReady(let log): "slirp4netns did not report ready in time: \(log.trimmingSpaces)"
            }
        }
    }

    public let prefix: String
    public let directory: String
    public let slirpPath: String
    public let usesIPNetns: Bool
    private let instances = Mutex<[Instance]>([])

    /// `prefix` names the namespaces (`PREFIX-NAME`); sockets and logs go in `directory`, a new
    /// private directory `PARENT/PREFIX.XXXXXX` (mode 0700, made by `mkdtemp`). Never a
    /// predictable name nor one that exists: as root in /tmp, a user who made it first would own
    /// the sockets and could put a link at a log's name.
    public init(prefix: String, parent: String = "/tmp") throws(LabError) {
        guard let slirp = Executables.find("slirp4netns") else { throw .missingTool("slirp4netns") }
        self.prefix = prefix
        slirpPath = slirp
        usesIPNetns = geteuid() == 0
        if usesIPNetns && Executables.find("ip") == nil { throw .missingTool("ip") }
        if !usesIPNetns && Executables.find("unshare") == nil { throw .missingTool("unshare") }
        do { directory = try SafeFiles.makePrivateDirectory(in: parent, prefix: prefix) } catch {
            throw .setup("cannot create a private directory in \(parent): \(error.reason)")
        }
    }

    deinit { tearDown() }

    /// The instances started and not yet stopped.
    public var running: [Instance] { instances.withLock { $0 } }

    /// Starts one instance and waits until slirp4netns reports ready (and its forwards are added).
    @discardableResult
    public func start(_ spec: Spec, readyTimeout: Double = 10) throws(LabError) -> Instance {
        let netnsName = "\(prefix)-\(spec.name)"
        var netnsPath: String
        var holder: Int32?
        var server: Int32?
        if usesIPNetns {
            try run("ip", ["netns", "add", netnsName])
            netnsPath = "/run/netns/\(netnsName)"
            if let command = spec.server?.command {
                guard let ip = Executables.find("ip") else { throw .missingTool("ip") }
                switch Executables.spawn(ip, ["netns", "exec", netnsName] + command) {
                case .success(let pid): server = pid
                case .failure(let e):
                    _ = try? run("ip", ["netns", "delete", netnsName])
                    throw .setup("cannot start \(command.first ?? "the server") in \(netnsName): \(e)")
                }
            }
        } else {
            guard let unshare = Executables.find("unshare") else { throw .missingTool("unshare") }
            let holderPID: Int32
            switch Executables.spawn(unshare, ["--user", "--map-root-user", "--net"] + (spec.server?.command ?? ["sleep", "infinity"])) {
            case .success(let pid): holderPID = pid
            case .failure(let e): throw .setup("cannot start unshare: \(e)")
            }
            holder = holderPID
            netnsPath = "/proc/\(holderPID)/ns/net"
            // Wait until the holder is in its own namespace.
            let deadline = Deadline.after(seconds: 5)
            while (try? Files.readLink(netnsPath)) == (try? Files.readLink("/proc/self/ns/net")) && !deadline.hasPassed { usleep(5_000) }
        }
        let cleanupNetns = { [self] in
            if let server { Glibc.kill(server, SIGKILL); Executables.waitFor(server) }
            if let holder { Glibc.kill(holder, SIGKILL); Executables.waitFor(holder) } else { _ = try? run("ip", ["netns", "delete", netnsName]) }
        }

        if let ports = spec.server?.ports, let listener = server ?? holder {
            let deadline = Deadline.after(seconds: 10)
            let any = IPv4Address(0, 0, 0, 0)
            while !ports.allSatisfy({ !PortConflict.holders(of: $0, proto: .tcp, address: any, seenFrom: listener).isEmpty }) {
                if deadline.hasPassed || kill(listener, 0) != 0 {
                    cleanupNetns()
                    throw .setup("\(spec.server?.command.first ?? "the server") did not listen on \(ports) in \(netnsName)")
                }
                usleep(10_000)
            }
        }
        let socketPath = spec.apiSocket ? "\(directory)/\(netnsName).sock" : nil
        if let socketPath { unlink(socketPath) }
        var args: [String] = ["--configure"]
        if let mtu = spec.mtu { args.append("--mtu=\(mtu)") }
        if spec.disableHostLoopback { args.append("--disable-host-loopback") }
        if spec.ipv6 { args.append("--enable-ipv6") }
        if let cidr = spec.cidr { args.append("--cidr=\(cidr)") }
        args += ["-e", "3", "-r", "4"]
        if let socketPath { args += ["--api-socket", socketPath] }
        args += spec.extraArguments
        if let holder { args += [String(holder), "tap0"] } else { args += ["--netns-type=path", netnsPath, "tap0"] }

        // The log, created and unlinked at once as Podman does; we keep a read handle for failures.
        let logPath = "\(directory)/slirp4netns-\(netnsName).log"
        // A new file (never a link or a file someone left), read back through the same descriptor.
        let logFD: FileDescriptor
        do { logFD = try SafeFiles.createExclusive(logPath, readable: true) } catch {
            cleanupNetns()
            throw .setup("cannot create the log \(logPath): \(error.reason)")
        }
        unlink(logPath)
        var exitPipe: [Int32] = [0, 0], readyPipe: [Int32] = [0, 0]
        guard cslirp_pipe_cloexec(&exitPipe) == 0, cslirp_pipe_cloexec(&readyPipe) == 0 else {
            logFD.close()
            cleanupNetns()
            throw .setup("cannot create pipes: \(SystemError("pipe2").reason)")
        }
        defer { logFD.close(); close(readyPipe[0]) }
        let spawned = Executables.spawn(slirpPath, args, descriptors: [1: logFD.rawValue, 2: logFD.rawValue, 3: exitPipe[0], 4: readyPipe[1]])
        close(exitPipe[0])
        close(readyPipe[1])
        guard case .success(let pid) = spawned else {
            close(exitPipe[1]); cleanupNetns()
            throw .setup("cannot start \(slirpPath)")
        }
        // Wait for ready: a byte on the ready pipe, or EOF when slirp4netns exits.
        var pfd = pollfd(fd: readyPipe[0], events: Int16(POLLIN), revents: 0)
        let deadline = Deadline.after(seconds: readyTimeout)
        var ready = false
        if FileDescriptor.poll(&pfd, until: deadline) > 0 {
            var byte: UInt8 = 0
            ready = withUnsafeMutableBytes(of: &byte) { (try? FileDescriptor(rawValue: readyPipe[0]).read(into: $0)) == 1 }
        }
        let log = { () -> String in
            String(decoding: (try? logFD.read(fromAbsoluteOffset: 0, count: 65536)) ?? [], as: UTF8.self)
        }
        if !ready {
            close(exitPipe[1])
            var status: Int32 = 0
            let exited = waitpid(pid, &status, WNOHANG) == pid
            if !exited { Glibc.kill(pid, SIGKILL); waitpid(pid, &status, 0) }
            cleanupNetns()
            if exited { throw .startFailed(status: Executables.exitCode(status), log: log()) }
            throw .notReady(log: log())
        }
        if let socketPath {
            let socketDeadline = Deadline.after(seconds: 5)
            while !Files.exists(socketPath) && !socketDeadline.hasPassed { usleep(5_000) }
        }
        let instance = Instance(name: spec.name, pid: pid, netnsName: usesIPNetns ? netnsName : nil, netnsPath: netnsPath,
                                holderPID: holder, serverPID: server, apiSocket: socketPath, forwards: spec.forwards, logPath: logPath, arguments: [slirpPath] + args,
                                exitWriteFD: exitPipe[1])
        instances.withLock { $0.append(instance) }
        if let socketPath {
            let client = APIClient(socketPath: socketPath, expectedPID: pid)
            for forward in spec.forwards {
                do { try client.add(forward) } catch {
                    stop(instance)
                    throw .setup("adding \(forward.summary) failed: \(error)")
                }
            }
        }
        return instance
    }

    /// Stops one instance: closes its exit pipe (slirp4netns exits), reaps it, removes its namespace and socket.
    public func stop(_ instance: Instance) {
        let known = instances.withLock { instances -> Bool in
            guard let i = instances.firstIndex(where: { $0.pid == instance.pid }) else { return false }
            instances.remove(at: i)
            return true
        }
        guard known else { return }
        close(instance.exitWriteFD)
        var status: Int32 = 0
        let deadline = Deadline.after(seconds: 2)
        while waitpid(instance.pid, &status, WNOHANG) == 0 {
            if deadline.hasPassed { Glibc.kill(instance.pid, SIGKILL); waitpid(instance.pid, &status, 0); break }
            usleep(2_000)
        }
        if let holder = instance.holderPID { Glibc.kill(holder, SIGKILL); Executables.waitFor(holder) }
        if let server = instance.serverPID { Glibc.kill(server, SIGKILL); Executables.waitFor(server) }
        if let name = instance.netnsName { _ = try? run("ip", ["netns", "delete", name]) }
        if let socket = instance.apiSocket { unlink(socket) }
    }

    /// Kills an instance abruptly (SIGKILL) without cleaning up: for tests of vanished processes.
    public func signal(_ instance: Instance, _ signal: Int32 = SIGKILL) {
        Glibc.kill(instance.pid, signal)
    }

    /// Stops every instance.
    public func tearDown() {
        for instance in running { stop(instance) }
        rmdir(directory) // only when empty: sockets and logs are gone with their instances
    }

    @discardableResult
    private func run(_ tool: String, _ args: [String]) throws(LabError) -> String {
        guard let path = Executables.find(tool) else { throw .missingTool(tool) }
        switch Executables.run(path, args, timeout: 10) {
        case .success(let out) where out.status == 0: return out.stdout
        case .success(let out): throw .setup("\(tool) \(args.joined(separator: " ")) failed: \(out.combined.trimmingSpaces)")
        case .failure(let e): throw .setup("\(tool) \(args.joined(separator: " ")) failed: \(e)")
        }
    }
}
