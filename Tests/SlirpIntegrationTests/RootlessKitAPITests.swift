import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A real `rootlesskit --net=slirp4netns` run by the rootless test user, for the API client's tests.
///
/// Started through `setpriv` (which execs), so the PID is the rootlesskit parent's, the process
/// that listens on `$STATE/api.sock`. Stopped with SIGTERM (rootlesskit then removes its state
/// directory), SIGKILL after 5 s.
final class RootlessKitRun {
    let pid: pid_t
    let stateDir: String
    let childPID: Int32
    var socketPath: String { "\(stateDir)/api.sock" }

    init(portDriver: String, tag: String) throws {
        guard let rootlesskit = Executables.find("rootlesskit") else { throw LabSetupError("rootlesskit not installed (assets/setup.sh installs it)") }
        guard let setpriv = Executables.find("setpriv") else { throw LabSetupError("setpriv not installed (util-linux)") }
        let user = try PodmanFixture.prepareRootlessUser()
        stateDir = "/tmp/smt-rk-\(tag)-\(getpid())-\(UInt32.random(in: 0..<100000))"
        let args = ["--reuid=\(user.uid)", "--regid=\(user.uid)", "--init-groups", "--", "/usr/bin/env", "-i",
                    "HOME=/home/\(user.name)", "USER=\(user.name)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                    rootlesskit, "--net=slirp4netns", "--port-driver=\(portDriver)", "--state-dir=\(stateDir)", "--copy-up=/etc",
                    "--disable-host-loopback", "sleep", "600"]
        // env execs too: the PID stays the rootlesskit parent's.
        guard case .success(let pid) = Executables.spawn(setpriv, args) else { throw LabSetupError("cannot start rootlesskit") }
        self.pid = pid
        let childFile = "\(stateDir)/child_pid"
        let apiSocket = "\(stateDir)/api.sock"
        guard eventually(15, { Files.exists(apiSocket) && ((try? Files.readText(childFile)) ?? "").isEmpty == false }),
              let child = Int32(((try? Files.readText(childFile)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
            throw LabSetupError("rootlesskit (\(portDriver)) did not create \(apiSocket) within 15 s")
        }
        childPID = child
    }

    deinit {
        kill(pid, SIGTERM)
        if !eventually(5, { kill(pid, 0) != 0 || ((try? Files.readText("/proc/\(pid)/stat")) ?? "").contains(") Z ") }) { kill(pid, SIGKILL) }
        Executables.waitFor(pid)
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    /// The client as slirpmon makes it: the endpoint proven held by the rootlesskit parent.
    func client(timeout: Double = 5) throws -> RootlessKitAPI {
        let endpoint = RootlessKitEndpoint.of(parentPID: pid, stateDir: stateDir)
        guard let client = endpoint.client(timeout: timeout) else {
            throw LabSetupError("no client: \(endpoint.blocker() ?? "?")")
        }
        return client
    }
}

/// A TCP server inside the rootlesskit child's namespaces (`nsenter -U -n`) answering every connection with `reply`.
final class ChildNamespaceServer {
    let pid: pid_t

    init(childPID: Int32, port: Int, reply: String) throws {
        guard let nsenter = Executables.find("nsenter"), Executables.find("socat") != nil else { throw LabSetupError("nsenter or socat not installed") }
        let args = ["-t", "\(childPID)", "-U", "-n", "--preserve-credentials", "socat", "TCP-LISTEN:\(port),reuseaddr,fork", "SYSTEM:echo \(reply)"]
        guard case .success(let pid) = Executables.spawn(nsenter, args) else { throw LabSetupError("cannot start socat in the child namespace") }
        self.pid = pid
        let listening = String(format: ":%04X 00000000:0000 0A", port)
        guard eventually(5, { ((try? Files.readText("/proc/\(childPID)/net/tcp")) ?? "").contains(listening) }) else {
            throw LabSetupError("socat does not listen on \(port) in the namespace of \(childPID)")
        }
    }

    deinit {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
    }
}

/// A unix socket peer that is not RootlessKit: socat listening on a path, answering each
/// connection with what the shell `program` writes (`{dir}` in it: the peer's directory). SO_PEERCRED names socat's PID.
final class FakeRootlessKitPeer {
    let pid: pid_t
    let socketPath: String
    let directory: String

    init(tag: String, program: String, readsRequest: Bool = true) throws {
        guard let socat = Executables.find("socat") else { throw LabSetupError("socat not installed") }
        directory = "/tmp/smt-rkfake-\(tag)-\(getpid())-\(UInt32.random(in: 0..<100000))"
        mkdir(directory, 0o700)
        socketPath = "\(directory)/api.sock"
        // The program goes in a script file: socat would split a SYSTEM: command at its commas.
        let script = "\(directory)/peer.sh"
        // It reads the request's head first: a script that exits before socat hands it the request
        // makes socat fail on EPIPE and drop the answer (seen: "the connection closed with no reply").
        let readHead = readsRequest ? "while IFS= read -r line; do [ \"$line\" = \"$(printf '\\r')\" ] && break; done\n" : ""
        try Files.write(readHead + program.replacingOccurrences(of: "{dir}", with: directory) + "\n", to: script)
        guard case .success(let pid) = Executables.spawn(socat, ["UNIX-LISTEN:\(socketPath),fork", "EXEC:/bin/sh \(script)"]) else {
            throw LabSetupError("cannot start socat")
        }
        self.pid = pid
        let path = socketPath
        // Listening, not only bound: between socat's bind and listen a connect is refused (seen under load).
        guard eventually(5, { UnixSocketTable.parse((try? Files.readText("/proc/net/unix")) ?? "").contains { $0.isListening && $0.path == path } }) else {
            throw LabSetupError("socat does not listen on \(path)")
        }
    }

    deinit {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A free TCP port on the host's loopback, in a range of its own (other suites use 18xxx-19xxx).
private func freePort() -> Int {
    for _ in 0..<50 {
        let port = Int.random(in: 41000..<49000)
        if tcpRoundTrip(port: port, timeout: 1) == nil, !((try? Files.readText("/proc/net/tcp")) ?? "").contains(String(format: ":%04X ", port)) { return port }
    }
    return Int.random(in: 41000..<49000)
}

@Suite("RootlessKit's REST API, through slirpmon's client", .serialized, .enabled(if: isRoot, "needs root (starts rootlesskit as the test user, checks sockets through sock_diag)"))
struct RootlessKitAPITests {
    @Test("a port added through slirpmon's client reaches a server in the rootlesskit child, and removing it closes it", arguments: ["builtin", "slirp4netns"])
    func addReachesRemoveCloses(portDriver: String) throws {
        let rk = try RootlessKitRun(portDriver: portDriver, tag: "rt")
        let api = try rk.client()
        let info = try api.info()
        #expect(info.apiVersion == "1.1.1", "\(info)")
        #expect(info.portDriver == portDriver)
        #expect(info.networkDriver == "slirp4netns")
        #expect(info.childPID == rk.childPID)
        #expect(info.stateDir == rk.stateDir)
        #expect(info.childIP == "10.0.2.100")
        #expect(info.disallowsLoopbackChildIP == (portDriver == "slirp4netns"))
        #expect(info.protocols.contains("tcp4"))

        // RootlessKit answers `null` for no ports: that is an empty list, not a bad reply.
        #expect(try api.ports() == [])

        let server = try ChildNamespaceServer(childPID: rk.childPID, port: 8080, reply: "hello-from-rk-\(portDriver)")
        let port = freePort()
        let added = try api.add(RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: port, childPort: 8080))
        #expect(added.spec == RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: port, childPort: 8080))
        #expect(try api.ports() == [added])
        #expect(eventually(5) { tcpRoundTrip(port: port)?.contains("hello-from-rk-\(portDriver)") == true }, "no round trip through 127.0.0.1:\(port)")

        try api.remove(id: added.id)
        #expect(try api.ports() == [])
        #expect(eventually(5) { tcpRoundTrip(port: port, timeout: 1) == nil }, "127.0.0.1:\(port) still answers after the port was removed")
        _ = server
    }

    @Test("RootlessKit's own errors reach the operator: conflict with ID N, unknown id, a privileged port with its sysctl")
    func rootlesskitErrors() throws {
        let rk = try RootlessKitRun(portDriver: "builtin", tag: "err")
        let api = try rk.client()
        let port = freePort()
        let spec = RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: port, childPort: 8080)
        let first = try api.add(spec)
        #expect(throws: RootlessKitAPIError.rootlesskit(status: 400, message: "conflict with ID \(first.id)")) { try api.add(spec) }
        do { try api.add(spec); Issue.record("a duplicate was accepted") } catch {
            #expect(error.hint?.contains("id \(first.id)") == true, "\(error.hint ?? "no hint")")
        }
        #expect(throws: RootlessKitAPIError.rootlesskit(status: 400, message: "unknown id: 99999")) { try api.remove(id: 99999) }
        try api.remove(id: first.id)
        #expect(throws: RootlessKitAPIError.rootlesskit(status: 400, message: "unknown id: \(first.id)")) { try api.remove(id: first.id) }

        let unprivileged = (try? Files.readText("/proc/sys/net/ipv4/ip_unprivileged_port_start")).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        try #require(unprivileged > 80, "this host lets users bind port 80 (ip_unprivileged_port_start = \(unprivileged)): the privileged-port case cannot be seen here")
        do {
            try api.add(RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 80, childPort: 80))
            Issue.record("port 80 was accepted")
        } catch {
            guard case .rootlesskit(400, let message) = error else { Issue.record("\(error)"); return }
            #expect(message.hasPrefix("cannot expose privileged port 80"), "\(message)")
            #expect(message.contains("net.ipv4.ip_unprivileged_port_start"), "\(message)")
            #expect(error.hint?.contains("sysctl") == true)
        }
        // Not sent: RootlessKit would answer with a Go error about JSON or the protocol.
        #expect(throws: RootlessKitAPIError.invalidRequest("unknown protocol \"sctp\": RootlessKit knows tcp, tcp4, tcp6, udp, udp4, udp6")) {
            try api.add(RootlessKitPortSpec(proto: "sctp", parentPort: port, childPort: 80))
        }
    }

    @Test("ports come back sorted by id, whatever order RootlessKit lists them in")
    func portsSortedByID() throws {
        let rk = try RootlessKitRun(portDriver: "builtin", tag: "sort")
        let api = try rk.client()
        let base = freePort()
        var ids: [Int] = []
        for k in 0..<12 { ids.append(try api.add(RootlessKitPortSpec(proto: k % 2 == 0 ? "tcp" : "udp4", parentIP: "127.0.0.1", parentPort: base + k, childPort: 8000 + k)).id) }
        // Removing a few leaves holes; Go's map order is random per listing.
        for id in [ids[1], ids[4]] { try api.remove(id: id) }
        for _ in 0..<5 {
            let listed = try api.ports().map(\.id)
            #expect(listed == ids.filter { $0 != ids[1] && $0 != ids[4] }, "\(listed)")
        }
    }

    @Test("a stopped rootlesskit (SIGSTOP) costs the deadline, not a hang, and answers again once continued")
    func stoppedRootlessKit() throws {
        let rk = try RootlessKitRun(portDriver: "builtin", tag: "stop")
        var api = try rk.client()
        api.transport.timeout = 1
        kill(rk.pid, SIGSTOP)
        defer { kill(rk.pid, SIGCONT) }
        // A stop reaches each of Go's threads when it next leaves the kernel: until all are stopped,
        // one may still serve the request (seen under a full parallel run).
        let stopped = eventually {
            let tasks = (try? Files.directoryEntries("/proc/\(rk.pid)/task")) ?? []
            return !tasks.isEmpty && tasks.allSatisfy { task in
                let stat = (try? Files.readBytes("/proc/\(rk.pid)/task/\(task)/stat")).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return stat.range(of: ") T ") != nil
            }
        }
        try #require(stopped, "SIGSTOP takes effect on every thread of rootlesskit")
        let start = Deadline.now
        #expect(throws: RootlessKitAPIError.transport(.timedOut(path: rk.socketPath, phase: "reply", seconds: 1))) { try api.ports() }
        #expect(Deadline.now.seconds(since: start) < 5)
        kill(rk.pid, SIGCONT)
        api.transport.timeout = 5
        #expect(try api.ports() == [])
    }

    @Test("the slirp4netns port driver: tcp6 and a loopback childIP are refused before sending, with the reason")
    func slirp4netnsDriverRules() throws {
        let rk = try RootlessKitRun(portDriver: "slirp4netns", tag: "rules")
        let api = try rk.client()
        let info = try api.info()
        let server = try ChildNamespaceServer(childPID: rk.childPID, port: 8081, reply: "loopback-rk")
        let port = freePort()
        let loopback = RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: port, childIP: "127.0.0.1", childPort: 8081)
        // What RootlessKit alone does: it accepts the port, and nothing gets through.
        let accepted = try api.add(loopback)
        #expect(tcpRoundTrip(port: port, timeout: 2)?.contains("loopback-rk") != true)
        try api.remove(id: accepted.id)
        // slirpmon refuses it, and says what works instead.
        do {
            try api.add(loopback, on: info)
            Issue.record("a loopback childIP was sent to the slirp4netns driver")
        } catch {
            #expect(error.description.contains("cannot reach the child's loopback") && error.description.contains("10.0.2.100"), "\(error)")
        }
        #expect(throws: RootlessKitAPIError.invalidRequest("the slirp4netns port driver does not take tcp6 (it takes tcp, tcp4, udp, udp4)")) {
            try api.add(RootlessKitPortSpec(proto: "tcp6", parentPort: port, childPort: 8081), on: info)
        }
        #expect(try api.ports() == [])
        _ = server
    }

    @Test("only the socket rootlesskit's own parent process holds gets a request")
    func ownership() throws {
        let rk = try RootlessKitRun(portDriver: "builtin", tag: "own")
        #expect(RootlessKitEndpoint.of(parentPID: rk.pid, stateDir: rk.stateDir).ownership == .held)
        // The child (`/proc/self/exe`) does not listen on api.sock: not proven, no client.
        let child = RootlessKitEndpoint.of(parentPID: rk.childPID, stateDir: rk.stateDir)
        #expect(child.ownership == .notHeld)
        #expect(child.client() == nil)
        #expect(child.blocker()?.contains("not held by this process") == true, "\(child.blocker() ?? "nil")")
        // Asked to expect another PID at connection time, the client writes nothing.
        let wrong = RootlessKitAPI(socketPath: rk.socketPath, expectedPID: rk.childPID, timeout: 2)
        #expect(throws: RootlessKitAPIError.transport(.wrongPeer(path: rk.socketPath, expected: rk.childPID, actual: rk.pid))) { try wrong.ports() }
    }
}

@Suite("A fake RootlessKit API peer", .serialized)
struct FakeRootlessKitPeerTests {
    /// Runs `ports()` against a peer answering with `program`; the error, and how long it took.
    func failure(_ program: String, tag: String, limit: Int = 1 << 20, expectPID: Bool = true) throws -> (RootlessKitAPIError, Double, FakeRootlessKitPeer) {
        let peer = try FakeRootlessKitPeer(tag: tag, program: program)
        let api = RootlessKitAPI(socketPath: peer.socketPath, expectedPID: expectPID ? peer.pid : nil, timeout: 1, maximumReplyBytes: limit)
        let start = Deadline.now
        do {
            let ports = try api.ports()
            throw LabSetupError("expected a failure, got \(ports)")
        } catch let error as RootlessKitAPIError {
            return (error, Deadline.now.seconds(since: start), peer)
        }
    }

    @Test("a peer that never answers is given up within the deadline")
    func neverAnswers() throws {
        let (error, elapsed, _) = try failure("sleep 30", tag: "silent")
        #expect(error == .transport(.timedOut(path: error.pathForTest, phase: "reply", seconds: 1)), "\(error)")
        #expect(error.description.contains("did not answer within 1 s"))
        #expect(elapsed < 5, "took \(elapsed) s")
    }

    @Test("a peer that sends headers and then holds the connection open is given up within the deadline")
    func headersThenSilence() throws {
        let (error, elapsed, _) = try failure("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 4\\r\\n\\r\\n'; sleep 30", tag: "half")
        guard case .transport(.timedOut(_, "reply", _)) = error else { Issue.record("\(error)"); return }
        #expect(elapsed < 5, "took \(elapsed) s")
    }

    @Test("garbage is a bad reply, named with the socket, with no control characters")
    func garbage() throws {
        let (error, _, peer) = try failure("printf 'SSH-2.0-OpenSSH\\033[2J\\r\\n\\r\\n'", tag: "garbage")
        guard case .badReply(let path, nil, let reason) = error else { Issue.record("\(error)"); return }
        #expect(path == peer.socketPath)
        #expect(reason.contains("not an HTTP/1.1 status line"), "\(reason)")
        #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(error.description.debugDescription)")
    }

    @Test("a huge body is cut at the cap, not read into memory whole")
    func hugeBody() throws {
        let (error, elapsed, peer) = try failure("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 50000000\\r\\n\\r\\n['; head -c 50000000 /dev/zero", tag: "huge")
        #expect(error == .transport(.replyTooLarge(path: peer.socketPath, limit: 1 << 20)), "\(error)")
        #expect(error.description.contains("exceeds 1 MiB"))
        #expect(elapsed < 5)
    }

    @Test("a body cut short of its Content-Length is an error, not a shorter list")
    func truncated() throws {
        let (error, _, _) = try failure("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 100\\r\\n\\r\\n[{\"id\":1}]'", tag: "short")
        guard case .badReply(_, _, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("cut short: 10 of 100 bytes"), "\(reason)")
    }

    @Test("an error status without RootlessKit's message is a bad reply that shows the body")
    func errorWithoutMessage() throws {
        let (error, _, _) = try failure("printf 'HTTP/1.1 500 Internal Server Error\\r\\nContent-Length: 5\\r\\n\\r\\noops!'", tag: "500")
        #expect(error.description.contains("HTTP 500") && error.description.contains("oops!"), "\(error)")
    }

    @Test("a batch goes over one connection, as rootlessctl sends it; a request that asks the peer to close gets one of its own")
    func batchOnOneConnection() throws {
        // Each connection is counted; requests are answered until the client closes, or right after one that says Connection: close.
        let peer = try FakeRootlessKitPeer(tag: "keep", program: """
            echo connection >> {dir}/connections
            cr=$(printf '\\r'); n=0
            while :; do
              length=0; close=0; started=0
              while IFS= read -r line; do
                started=1; [ "$line" = "$cr" ] && break
                case "$line" in Content-Length:*) length=$(echo "$line" | tr -dc 0-9);; "Connection: close"*) close=1;; esac
              done
              [ $started = 1 ] || exit 0
              [ $length -gt 0 ] && head -c $length > /dev/null
              n=$((n+1)); body='{"id":'$n',"spec":{"proto":"tcp","parentPort":1,"childPort":80}}'
              printf 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' ${#body} "$body"
              [ $close = 1 ] && exit 0
            done
            """, readsRequest: false)
        let api = RootlessKitAPI(socketPath: peer.socketPath, expectedPID: peer.pid, timeout: 2)
        let connection = api.transport.keptConnection()
        var ids: [Int] = []
        for port in 18700..<18705 {
            ids.append(try api.add(RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: port, childPort: 80), over: connection).id)
        }
        connection.close()
        #expect(ids == [1, 2, 3, 4, 5])
        #expect(try Files.readText("\(peer.directory)/connections") == "connection\n", "five adds over one connection")
        _ = try api.add(RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18706, childPort: 80))
        #expect(try Files.readText("\(peer.directory)/connections") == "connection\nconnection\n", "a request alone: a connection of its own, closed by the peer")
    }

    @Test("a chunked reply is read whole")
    func chunked() throws {
        let peer = try FakeRootlessKitPeer(tag: "chunked", program:
            "printf 'HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n6\\r\\n[{\"id\"\\r\\n54\\r\\n:7,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":18600,\"childPort\":80}}]\\r\\n0\\r\\n\\r\\n'")
        let ports = try RootlessKitAPI(socketPath: peer.socketPath, expectedPID: peer.pid, timeout: 2).ports()
        #expect(ports.map(\.id) == [7])
        #expect(ports.first?.spec == RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18600, childPort: 80))
    }

    @Test("a lying peer's port with a line break or escape in its address, or a made-up protocol, is a bad reply; its echo of an added port is not taken")
    func lyingPeer() throws {
        let forged = #"[{"id":5,"spec":{"proto":"tcp","parentIP":"127.0.0.1\nslirpmon: removed all ports of bob","parentPort":8080,"childPort":80}}]"#
        let (error, _, _) = try failure("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: \(forged.utf8.count)\\r\\n\\r\\n%s' '\(forged)'", tag: "lying")
        guard case .badReply(_, _, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("a port is not"), "\(reason)")
        #expect(!error.description.contains("\n"), "\(error.description.debugDescription)")
        let escape = #"[{"id":5,"spec":{"proto":"tcp\u001b[2J","parentPort":8080,"childPort":80}}]"#
        let (second, _, _) = try failure("printf 'HTTP/1.1 200 OK\\r\\nContent-Length: \(escape.utf8.count)\\r\\n\\r\\n%s' '\(escape)'", tag: "lyingproto")
        guard case .badReply = second else { Issue.record("\(second)"); return }
        // The reply to an add names another spec: what was added is what was sent, with the peer's id.
        let echo = #"{"id":9,"spec":{"proto":"udp","parentIP":"10.9.9.9","parentPort":1,"childPort":1}}"#
        let peer = try FakeRootlessKitPeer(tag: "echo", program: "printf 'HTTP/1.1 201 Created\\r\\nContent-Length: \(echo.utf8.count)\\r\\n\\r\\n%s' '\(echo)'")
        let sent = RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18600, childPort: 80)
        let added = try RootlessKitAPI(socketPath: peer.socketPath, expectedPID: peer.pid, timeout: 2).add(sent)
        #expect(added.id == 9 && added.spec == sent, "\(added)")
    }

    @Test("a socket held by another process than the expected rootlesskit gets no request")
    func wrongPeer() throws {
        let peer = try FakeRootlessKitPeer(tag: "wrongpid", program: "cat > {dir}/got", readsRequest: false)
        let expected = getppid()
        let api = RootlessKitAPI(socketPath: peer.socketPath, expectedPID: expected, timeout: 1)
        #expect(throws: RootlessKitAPIError.transport(.wrongPeer(path: peer.socketPath, expected: expected, actual: peer.pid))) { try api.ports() }
        let got = "\(peer.directory)/got"
        // socat's child wrote what it received once the client hung up: nothing.
        #expect(eventually(3) { Files.exists(got) }, "the peer's record was not written")
        #expect(((try? Files.readText(got)) ?? "?").isEmpty, "the request reached the wrong peer: \((try? Files.readText(got)) ?? "")")
    }
}

extension RootlessKitAPIError {
    /// The socket path an error names (for comparing whole errors).
    var pathForTest: String {
        switch self {
        case .transport(.timedOut(let p, _, _)), .badReply(let p, _, _): p
        default: ""
        }
    }
}
