import Foundation
import Glibc
import SlirpCore

/// True when the tests may create network namespaces (they need root).
public let isRoot = geteuid() == 0

/// A lab with names unique to one test, torn down when the test ends.
public final class TestLab {
    public let lab: SlirpLab
    public let tag: String

    public init(_ name: String) throws {
        tag = "smt-\(name)-\(getpid())-\(UInt32.random(in: 0..<UInt32.max) % 100000)"
        lab = try SlirpLab(prefix: tag)
    }

    deinit {
        lab.tearDown()
        rmdir(lab.directory)
    }

    public func start(_ spec: SlirpLab.Spec) throws -> SlirpLab.Instance { try lab.start(spec) }
}

/// The slirpmon binary built next to the test runner.
public var slirpmonBinary: String {
    let exe = (try? Files.readLink("/proc/self/exe")) ?? ""
    var dir = (exe as NSString).deletingLastPathComponent
    // The runner may sit inside a .xctest bundle directory.
    while !dir.isEmpty && dir != "/" && !Files.exists(dir + "/slirpmon") { dir = (dir as NSString).deletingLastPathComponent }
    return dir + "/slirpmon"
}

/// Runs the slirpmon binary and returns its exit status and output.
/// Lets other users run `binary`: it and every directory above it become readable and searchable by others.
public func openToOtherUsers(_ binary: String) {
    chmod(binary, 0o755)
    var dir = (binary as NSString).deletingLastPathComponent
    while dir != "/" && !dir.isEmpty {
        chmod(dir, (try? Files.status(dir).st_mode).map { $0 | 0o005 } ?? 0o755)
        dir = (dir as NSString).deletingLastPathComponent
    }
}

public func slirpmon(_ args: [String], timeout: Double = 60) -> Executables.Output {
    switch Executables.run(slirpmonBinary, args, timeout: timeout) {
    case .success(let output): return output
    case .failure(let error): return Executables.Output(status: -1, stdout: "", stderr: "could not run slirpmon: \(error)")
    }
}

/// Runs a program and returns its output (for `ip`, `socat`).
@discardableResult
public func sh(_ program: String, _ args: [String], timeout: Double = 20) -> Executables.Output {
    let path = Executables.find(program) ?? program
    switch Executables.run(path, args, timeout: timeout) {
    case .success(let output): return output
    case .failure(let error): return Executables.Output(status: -1, stdout: "", stderr: "\(error)")
    }
}

/// A TCP server inside a namespace that answers every connection with `reply`, until stopped.
public final class NamespaceServer {
    public let pid: pid_t
    /// `udp`: answers each datagram with `reply` (to its sender) instead of each TCP connection.
    public init(netns: String, port: Int, reply: String, udp: Bool = false) throws {
        guard let ip = Executables.find("ip") else { throw LabSetupError("ip not installed") }
        guard Executables.find("socat") != nil else { throw LabSetupError("socat not installed (apt-get install socat)") }
        let listen = udp ? "UDP-RECVFROM:\(port),reuseaddr,fork" : "TCP-LISTEN:\(port),reuseaddr,fork"
        let result = Executables.spawn(ip, ["netns", "exec", netns, "socat", listen, "SYSTEM:echo \(reply)"])
        guard case .success(let pid) = result else { throw LabSetupError("cannot start socat in \(netns)") }
        self.pid = pid
        // Wait until it listens (TCP: state 0A) or is bound (UDP: state 07) inside the namespace.
        let (table, state) = udp ? ("/proc/net/udp", "07") : ("/proc/net/tcp", "0A")
        let deadline = Deadline.after(seconds: 5)
        while !deadline.hasPassed {
            let out = sh("ip", ["netns", "exec", netns, "cat", table]).stdout
            if out.contains(String(format: ":%04X 00000000:0000 ", port) + state) { break }
            usleep(20_000)
        }
    }
    deinit {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
    }
}

public struct LabSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ text: String) { description = text }
}

/// An IPv4 socket address.
public func socketAddress(_ address: IPv4Address, port: Int) -> sockaddr_in {
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_addr.s_addr = address.value.bigEndian
    socketAddress.sin_port = UInt16(port).bigEndian
    return socketAddress
}

/// Connects to 127.0.0.1:port and reads until EOF; nil when the connection is refused or fails.
public func tcpRoundTrip(port: Int, timeout: Double = 3) -> String? {
    tcpExchange(port: port, send: nil, timeout: timeout)
}

/// Connects to 127.0.0.1:port, sends `request` (if any), and reads until EOF; nil when the
/// connection is refused or nothing comes back.
public func tcpExchange(port: Int, send request: String?, timeout: Double = 3) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = socketAddress(IPv4Address(127, 0, 0, 1), port: port)
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { return nil }
    if let request { _ = request.withCString { send(fd, $0, strlen($0), 0) } }
    let data = receiveAll(fd)
    return data.isEmpty ? nil : String(decoding: data, as: UTF8.self)
}

/// Everything a connected socket receives until the peer closes it, an error, or its receive timeout.
public func receiveAll(_ fd: Int32) -> [UInt8] {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        data += buffer[0..<n]
    }
    return data
}

/// This host's own IPv4 address on its default route (what it would send from), or nil
/// without one. Nothing is sent: a UDP socket is only connected.
public func hostNonLoopbackIPv4() -> String? {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = socketAddress(IPv4Address(8, 8, 8, 8), port: 53) // any address off this host
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    let source = IPv4Address(UInt32(bigEndian: address.sin_addr.s_addr))
    if ok && !source.isLoopback && !source.isUnspecified { return source.description }
    // No route off the host: any address of an interface that is up and not the loopback.
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return nil }
    defer { freeifaddrs(list) }
    for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
        guard let raw = entry.pointee.ifa_addr, raw.pointee.sa_family == sa_family_t(AF_INET),
              entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
        let found = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { IPv4Address(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)) }
        if !found.isLoopback && !found.isUnspecified { return found.description }
    }
    return nil
}

/// Sends a datagram to host:port (IPv4) and waits for one back; nil when none comes in time.
/// `sends` > 1 sends again from the same socket after each `timeout` without an answer, so an
/// answer to any of them counts: a loaded host may take seconds to fork the namespace's
/// responder, and an answer that comes late is not lost to a closed socket.
public func udpExchange(host: String = "127.0.0.1", port: Int, send request: String, timeout: Double = 3, sends: Int = 1) -> String? {
    guard let target = IPv4Address(host) else { return nil }
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = socketAddress(target, port: port)
    var buffer = [UInt8](repeating: 0, count: 4096)
    for _ in 0..<max(1, sends) {
        let sent = request.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard sent > 0 else { return nil }
        let n = recv(fd, &buffer, buffer.count, 0)
        if n > 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
    }
    return nil
}

/// The `api_handler: got request` lines of an instance's log so far.
public func apiRequests(pid: Int32) -> [String] {
    guard let log = try? UnlinkedLog(pid: pid), let chunk = try? log.read(from: 0, maxBytes: 16 << 20) else { return [] }
    return chunk.lines.filter { $0.contains("api_handler: got request") }.map(String.init)
}

/// Waits until `condition` holds or `seconds` pass.
public func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: seconds)
    while !deadline.hasPassed {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A bare lab with a unique prefix, for tests that stop it themselves (`tearDown()`) and remove `directory`.
public func makeLab(_ name: String) throws -> SlirpLab {
    let unique = "stui-\(getpid())-\(UInt32.random(in: 0..<UInt32.max) % 1_000_000)-\(name)"
    return try SlirpLab(prefix: unique)
}

/// Waits, up to `within` seconds, for `seconds` in a row in which `requests` (API requests taken,
/// per instance) does not change. A monitor or `list` of a test running beside may ask an instance
/// once when it first sees it; a process that keeps asking never leaves such a window.
public func quietWindow(seconds: Double, within: Double, _ requests: () -> [Int]) -> Bool {
    let deadline = Deadline.after(seconds: within)
    var last = requests()
    var since = Deadline.now
    while !deadline.hasPassed {
        usleep(200_000)
        let now = requests()
        if now != last { (last, since) = (now, Deadline.now); continue }
        if Deadline.now.seconds(since: since) >= seconds { return true }
    }
    return false
}

/// `command` run with `state` bound over /run/slirpmon in a mount namespace of its own: its kept
/// facts, Podman answer and remembered failures are its own, and other suites' runs in parallel
/// neither see nor change them. The arguments for `unshare` (found by the caller, util-linux).
/// `binding`: more files bound over others in that namespace alone (paths without `'`).
public func privateSlirpmonState(_ state: String, _ command: [String], binding: [(source: String, target: String)] = []) -> [String] {
    mkdir("/run/slirpmon", 0o700) // the mount point; slirpmon makes it so itself
    let more = binding.map { "mount --bind '\($0.source)' '\($0.target)' && " }.joined()
    return ["--mount", "--propagation", "private", "sh", "-c", more + "mount --bind \"$0\" /run/slirpmon && exec \"$@\"", state] + command
}
