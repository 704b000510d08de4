import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// What a user puts in a path, a command line or a log to take over root's terminal: ESC and a
/// colour sequence, the C1 CSI (U+009B), and a right-to-left override (U+202E).
private let hostile = "\u{1B}[31m\u{9B}\u{202E}"
/// The same, as slirpmon shows it on a terminal.
private let hostileShown = #"\x1B[31m\u{9B}\u{202E}"#

@Suite("Text from a user reaches root's terminal only as visible escapes", .enabled(if: isRoot, "needs root for ip netns and another user's process"))
struct TerminalTextTests {
    @Test("a user's slirp4netns with escape sequences in its socket, namespace and log cannot write them to root's terminal through list, show, log or fwd")
    func realInstanceWithHostilePaths() throws {
        // A real slirp4netns whose namespace name, API socket directory and log name carry the sequences.
        let tag = "smt-tt\(hostile)-\(getpid())-\(UInt32.random(in: 0..<100000))"
        let lab = try SlirpLab(prefix: tag)
        defer { lab.tearDown() }
        let instance = try lab.start(.init(name: "a"))
        let socket = try #require(instance.apiSocket)
        let pid = String(instance.pid)
        #expect(socket.contains(hostile) && instance.netnsPath.contains(hostile), "the paths hold the sequences")

        // The API echoes every request into the log: one carrying an OSC retitle, BEL, C1, U+202E and a
        // lone 0x9B (not UTF-8), sent raw (not JSON-escaped) as a user could.
        let request = Array(#"{"execute":""#.utf8) + [0x1B] + Array("]0;pwned".utf8) + [0x07] + Array(hostile.utf8) + [0x9B] + Array("\"}\n".utf8)
        let connection = try UnixStreamSocket.connect(to: socket, deadline: .after(seconds: 5))
        try connection.writeAll(request, deadline: .after(seconds: 5))
        try connection.shutdownWrite()
        _ = try connection.readToEnd(deadline: .after(seconds: 5), limit: 1 << 16)
        #expect(eventually { logBytes(instance.pid).contains(request.dropLast()) }, "slirp4netns logged the request as it came")

        let list = try runSlirpmon(["list", "--no-cache", "--no-forwards"])
        expectSafe(list, "list")
        #expect(String(decoding: list.stdout, as: UTF8.self).contains(pid))

        let listJSON = try runSlirpmon(["list", "--json", "--no-cache", "--no-forwards"])
        expectSafe(listJSON, "list --json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listJSON.stdout)) as? [[String: Any]])
        let row = try #require(rows.first { $0["pid"] as? Int == Int(instance.pid) })
        #expect(row["api_socket"] as? String == socket, "--json reads back to the exact path")
        #expect(row["netns"] as? String == instance.netnsPath)

        let show = try runSlirpmon(["show", pid])
        expectSafe(show, "show")
        let shown = String(decoding: show.stdout, as: UTF8.self)
        #expect(shown.contains("netns:     /run/netns/smt-tt\(hostileShown)-"), "the namespace path, escaped")
        #expect(shown.contains("--api-socket /tmp/smt-tt\(hostileShown)-"), "the command line, escaped")
        #expect(shown.contains("API socket: /tmp/smt-tt\(hostileShown)-"))
        #expect(shown.contains("log: /tmp/smt-tt\(hostileShown)-"), "the log's path, escaped")

        let showJSON = try runSlirpmon(["show", pid, "--json"])
        expectSafe(showJSON, "show --json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(showJSON.stdout)) as? [String: Any])
        #expect((report["arguments"] as? [String])?.contains(socket) == true, "the exact argument")
        let logReport = report["log"] as? [String: Any]
        #expect(logReport?["original_path"] as? String == instance.logPath)

        // The log: escaped on a pipe as on a terminal; the lone byte by its value.
        let log = try runSlirpmon(["log", pid])
        expectSafe(log, "log")
        #expect(String(decoding: log.stdout, as: UTF8.self).contains(#"{"execute":"\x1B]0;pwned\x07"# + hostileShown + #"\x9B"}"#))

        // --raw gives the exact bytes to a pipe...
        let raw = try runSlirpmon(["log", pid, "--raw"])
        #expect(raw.status == 0, "\(String(decoding: raw.stderr, as: UTF8.self))")
        #expect(raw.stdout.contains(request.dropLast()), "the request's bytes as slirp4netns wrote them")
        #expect(logBytes(instance.pid).starts(with: raw.stdout), "exactly the log's bytes")
        // ...and nothing to a terminal.
        let onTerminal = try runSlirpmon(["log", pid, "--raw"], stdoutIsTerminal: true)
        #expect(onTerminal.status == 2)
        #expect(String(decoding: onTerminal.stderr, as: UTF8.self).contains("--raw writes the log's bytes as they are"))
        #expect(!onTerminal.stdout.contains(Array("api_handler".utf8)), "no log byte reached the terminal")
        // The header `log` writes for a terminal names the log's path: escaped.
        let header = try runSlirpmon(["log", pid], stdoutIsTerminal: true)
        expectSafe(header, "log on a terminal")
        #expect(String(decoding: header.stderr, as: UTF8.self).contains("== /tmp/smt-tt\(hostileShown)-"))

        // fwd: an error naming the socket path...
        let moved = socket + ".away"
        #expect(rename(socket, moved) == 0)
        let missing = try runSlirpmon(["fwd", "list", pid])
        #expect(rename(moved, socket) == 0)
        #expect(missing.status == 1)
        expectSafe(missing, "fwd list, socket missing")
        #expect(String(decoding: missing.stderr, as: UTF8.self).contains("API socket /tmp/smt-tt\(hostileShown)-"))

        // ...and a conflict naming the port's holder, a program named with the sequences.
        let holderDirectory = "/tmp/\(tag)-holder"
        mkdir(holderDirectory, 0o755)
        let holderBinary = "\(holderDirectory)/\(hostile)x" // comm keeps 15 bytes: all of it
        defer { unlink(holderBinary); rmdir(holderDirectory) }
        let socat = try #require(Executables.find("socat"), "socat is needed (apt-get install socat)")
        #expect(sh("cp", [socat, holderBinary]).status == 0)
        let port = Int(try DemoFleet.freeTCPPort().value)
        guard case .success(let holder) = Executables.spawn(holderBinary, ["TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr", "-"]) else {
            Issue.record("cannot start the port holder")
            return
        }
        defer { kill(holder, SIGKILL); Executables.waitFor(holder) }
        #expect(eventually { tcpListening(port: port) }, "the holder listens")
        let conflict = try runSlirpmon(["fwd", "add", pid, "127.0.0.1:\(port):80"])
        #expect(conflict.status == 1)
        expectSafe(conflict, "fwd add, port held")
        #expect(String(decoding: conflict.stderr, as: UTF8.self).contains("by pid \(holder) (\(hostileShown)x, user root)"), "the holder's name, escaped")
    }

    @Test("a user's program named slirp4netns with escape sequences in its command line is listed and shown with them escaped, and --json keeps them exactly")
    func userFakeWithHostileCommandLine() throws {
        let directory = "/tmp/smt-ttfake-\(getpid())-\(UInt32.random(in: 0..<100000))"
        mkdir(directory, 0o755)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fake = try compileSleeper(named: "slirp4netns", in: directory)
        let cidr = "10.0.2.0/24\(hostile)"
        let socket = "\(directory)/\(hostile).sock"
        let netns = "/run/netns/\(hostile)"
        let tap = "tap\(hostile)"
        let setpriv = try #require(Executables.find("setpriv"), "setpriv (util-linux) is needed to run as a user")
        // As `nobody`: the program and every argument are the user's.
        guard case .success(let pid) = Executables.spawn(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", fake,
                                                                   "--configure", "--mtu=65520", "--cidr=\(cidr)", "--api-socket", socket,
                                                                   "--netns-type=path", netns, tap]) else {
            Issue.record("cannot start the user's program")
            return
        }
        defer { kill(pid, SIGKILL); Executables.waitFor(pid) }
        #expect(eventually { (try? Files.readText("/proc/\(pid)/comm"))?.hasPrefix("slirp4netns") == true && ProcessScanner().process(pid: pid) != nil },
                "the program runs under the name slirp4netns")
        #expect(ProcessScanner().process(pid: pid)?.uid == 65534, "it is the user's")

        let list = try runSlirpmon(["list", "--no-cache", "--no-podman", "--no-forwards"])
        expectSafe(list, "list")
        let listed = String(decoding: list.stdout, as: UTF8.self)
        let line = try #require(listed.split(separator: "\n").first { $0.hasPrefix("\(pid) ") }, "the user's program is listed:\n\(listed)")
        #expect(line.contains("10.0.2.0/24\(hostileShown)"), "the CIDR column, escaped: \(line)")

        let json = try runSlirpmon(["list", "--json", "--no-cache", "--no-podman", "--no-forwards"])
        expectSafe(json, "list --json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        let row = try #require(rows.first { $0["pid"] as? Int == Int(pid) })
        #expect(row["cidr"] as? String == cidr, "--json reads back to the exact text")
        #expect(row["netns"] as? String == netns)
        #expect(row["tap"] as? String == tap)
        #expect(row["api_socket"] as? String == socket)

        let show = try runSlirpmon(["show", String(pid)])
        expectSafe(show, "show")
        let shown = String(decoding: show.stdout, as: UTF8.self)
        #expect(shown.contains("--cidr=10.0.2.0/24\(hostileShown) --api-socket \(directory)/\(hostileShown).sock"), "the command line, escaped")
        #expect(shown.contains("netns:     /run/netns/\(hostileShown)  tap: tap\(hostileShown)"))
        let showJSON = try runSlirpmon(["show", String(pid), "--json"])
        expectSafe(showJSON, "show --json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(showJSON.stdout)) as? [String: Any])
        #expect(report["arguments"] as? [String] == [fake, "--configure", "--mtu=65520", "--cidr=\(cidr)", "--api-socket", socket,
                                                     "--netns-type=path", netns, tap])
    }

    @Test("a container Podman accepted with an escape sequence in outbound_addr is listed and examined by the doctor with it escaped")
    func podmanOutboundAddress() throws {
        guard PodmanFixture.available else {
            Issue.record("podman and busybox-static are needed (apt-get install podman busybox-static)")
            return
        }
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("ttoa")
        let options = "outbound_addr=10.0.2.15\(hostile)"
        let create = PodmanFixture.podman(["create", "--name", name, "--network", "slirp4netns:\(options)", PodmanFixture.image, "sleep", "600"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try #require(create.status == 0, "Podman 4.3 accepts any outbound_addr at create time: \(create.stderr)")

        let list = try runSlirpmon(["list", "--no-cache", "--no-forwards"])
        expectSafe(list, "list")
        let listed = String(decoding: list.stdout, as: UTF8.self)
        let line = try #require(listed.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "the container is listed:\n\(listed)")
        #expect(line.contains("outbound_addr=10.0.2.15\(hostileShown)"), "NETWORK OPTIONS, escaped: \(line)")

        let json = try runSlirpmon(["list", "--json", "--no-cache", "--no-forwards"])
        expectSafe(json, "list --json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        let row = try #require(rows.first { ($0["container"] as? [String: Any])?["name"] as? String == name })
        #expect((row["container"] as? [String: Any])?["network_options"] as? [String] == [options], "--json keeps the exact option")

        // The doctor examines the container's options: its header and steps quote them.
        let doctor = try runSlirpmon(["doctor", name, "--no-trial"])
        expectSafe(doctor, "doctor")
        #expect(String(decoding: doctor.stdout, as: UTF8.self).contains("--network slirp4netns:outbound_addr=10.0.2.15\(hostileShown)"))
        let doctorJSON = try runSlirpmon(["doctor", name, "--no-trial", "--json"])
        expectSafe(doctorJSON, "doctor --json")
        #expect(try JSONSerialization.jsonObject(with: Data(doctorJSON.stdout)) is [String: Any])
    }
}

// MARK: - Running slirpmon and reading what it wrote, byte for byte

/// What a run of slirpmon wrote, as bytes (a String would turn a lone 0x9B into U+FFFD).
struct ByteOutput {
    let status: Int32
    let stdout: [UInt8]
    let stderr: [UInt8]
}

/// Runs the slirpmon binary with stdout to a file, or to a pseudo-terminal (whose other end
/// collects what reached the "terminal"), and stderr to a file.
func runSlirpmon(_ args: [String], stdoutIsTerminal: Bool = false, environment: [String: String] = [:], timeout: Double = 60) throws -> ByteOutput {
    let base = "/tmp/smt-ttout-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
    let err = open(base + ".err", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    var out: Int32 = -1
    var master: Int32 = -1
    if stdoutIsTerminal {
        // posix_openpt and friends are not in Swift's Glibc module: /dev/ptmx and its two ioctls
        // (TIOCSPTLCK = _IOW('T', 0x31, int), TIOCGPTN = _IOR('T', 0x30, unsigned int)).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw LabSetupError("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        out = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var flags = fcntl(master, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(master, F_SETFL, flags)
    } else {
        out = open(base + ".out", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    }
    unlink(base + ".err"); unlink(base + ".out")
    defer { close(err); close(out); if master >= 0 { close(master) } }
    guard err >= 0, out >= 0 else { throw LabSetupError("cannot create the output files at \(base)") }
    let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0.key)=\($0.value)" }
    guard case .success(let pid) = Executables.spawn(slirpmonBinary, args, descriptors: [1: out, 2: err], environment: env) else {
        throw LabSetupError("cannot run \(slirpmonBinary)")
    }
    var terminal: [UInt8] = []
    func drainTerminal() {
        guard master >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(master, &buffer, buffer.count)
            if n <= 0 { break }
            terminal += buffer[0..<n]
        }
    }
    let deadline = Deadline.after(seconds: timeout)
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        drainTerminal()
        if deadline.hasPassed { kill(pid, SIGKILL); waitpid(pid, &status, 0); throw LabSetupError("slirpmon \(args) did not finish in \(timeout) s") }
        usleep(5_000)
    }
    drainTerminal()
    func contents(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = pread(fd, &buffer, buffer.count, offset)
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        return bytes
    }
    return ByteOutput(status: Executables.exitCode(status), stdout: stdoutIsTerminal ? terminal : contents(out), stderr: contents(err))
}

/// What in `bytes` a terminal would obey or not show: bytes that are not UTF-8, C0 controls
/// other than newline and tab (a terminal turns the newline it gets into CR LF: allowed too),
/// DEL, C1, bidi controls and other format characters. Empty when the bytes are safe.
/// (Written apart from `TerminalText`, so the test does not take the product's word for it.)
func terminalHazards(_ bytes: [UInt8]) -> [String] {
    guard let text = String(validating: bytes, as: UTF8.self) else {
        return ["bytes that are not UTF-8: " + bytes.filter { $0 >= 0x80 }.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")]
    }
    let bidi: Set<UInt32> = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
    var found: [String] = []
    for scalar in text.unicodeScalars {
        let v = scalar.value
        let control = (v < 0x20 && v != 0x0A && v != 0x09 && v != 0x0D) || (0x7F...0x9F).contains(v)
        if control || bidi.contains(v) || scalar.properties.generalCategory == .format {
            found.append(String(format: "U+%04X", v))
        }
    }
    return found
}

/// Expects every byte slirpmon wrote, on stdout and stderr, to be safe for a terminal.
func expectSafe(_ output: ByteOutput, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let out = terminalHazards(output.stdout)
    let err = terminalHazards(output.stderr)
    #expect(out.isEmpty, "\(what): stdout holds \(out.prefix(10))", sourceLocation: sourceLocation)
    #expect(err.isEmpty, "\(what): stderr holds \(err.prefix(10))", sourceLocation: sourceLocation)
}

/// The whole log of `pid` as bytes.
private func logBytes(_ pid: Int32) -> [UInt8] {
    guard let log = try? UnlinkedLog(pid: pid), let chunk = try? log.read(from: 0, maxBytes: 16 << 20) else { return [] }
    return chunk.bytes
}

/// True when something listens on 127.0.0.1:port (TCP).
private func tcpListening(port: Int) -> Bool {
    let table = (try? Files.readText("/proc/net/tcp")) ?? ""
    return table.contains(String(format: "0100007F:%04X 00000000:0000 0A", port))
}

/// A program that only sleeps, compiled as `name` in `directory` (mode 0755, so a user can run
/// it): a process any user could start under that name.
private func compileSleeper(named name: String, in directory: String) throws -> String {
    let compiler = try #require(["cc", "gcc", "clang"].lazy.compactMap { Executables.find($0) }.first, "a C compiler is needed (apt-get install gcc)")
    let source = "\(directory)/sleeper.c"
    try Files.write("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n", to: source)
    let binary = "\(directory)/\(name)"
    let built = sh(compiler, ["-O1", "-o", binary, source], timeout: 60)
    guard built.status == 0 else { throw LabSetupError("cannot compile the sleeper: \(built.combined)") }
    chmod(directory, 0o755)
    return binary
}
