import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

@Suite("The API socket, for real", .enabled(if: isRoot, "needs root for ip netns"))
struct APITests {
    @Test("adding a forward makes the host port reach the namespace; removing it closes the port")
    func forwardRoundTrip() throws {
        let lab = try TestLab("fwd")
        let instance = try lab.start(.init(name: "f"))
        let server = try NamespaceServer(netns: try #require(instance.netnsName), port: 80, reply: "pong-\(instance.pid)")
        _ = server
        let port = try DemoFleet.freeTCPPort()
        let client = APIClient(socketPath: try #require(instance.apiSocket), expectedPID: instance.pid)
        #expect(tcpRoundTrip(port: Int(port.value)) == nil, "nothing listens before the forward")

        let id = try client.add(ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!))
        #expect(id == 1)
        #expect(tcpRoundTrip(port: Int(port.value))?.trimmingCharacters(in: .newlines) == "pong-\(instance.pid)")

        let listed = try client.list()
        #expect(listed == [HostForward(id: id, proto: .tcp, hostAddr: "127.0.0.1", hostPort: Int(port.value), guestAddr: "10.0.2.100", guestPort: 80)])

        try client.remove(id: id)
        #expect(try client.list().isEmpty)
        #expect(tcpRoundTrip(port: Int(port.value)) == nil, "the port is closed after removal")
    }

    @Test("a list of 1000 forwards (over 100 KB) is read whole, unlike Podman's 2 KiB buffer")
    func thousandForwardsReadWhole() throws {
        let lab = try TestLab("k")
        let instance = try lab.start(.init(name: "k"))
        let client = APIClient(socketPath: try #require(instance.apiSocket), expectedPID: instance.pid)
        let mapping = try PortMapping.parse("127.0.0.1:21000-21999:21000-21999")
        for request in mapping.requests() { try client.add(request) }
        let raw = try client.exchangeRaw(APIMessage.listRequest())
        #expect(raw.count > 100_000)
        let forwards = try client.list()
        #expect(forwards.count == 1000)
        #expect(Set(forwards.map(\.hostPort)) == Set(21000...21999))
        #expect(forwards.map(\.id) == Array(1...1000))
    }

    @Test("a socket path replaced by another listener is refused and receives nothing")
    func replacedSocketIsRefused() throws {
        let lab = try TestLab("repl")
        let instance = try lab.start(.init(name: "r"))
        let path = try #require(instance.apiSocket)
        let process = try #require(ProcessScanner().process(pid: instance.pid))
        #expect(SocketOwnership.check(path: path, process: process) == .held)

        #expect(rename(path, path + ".orig") == 0)
        let impostor = try FakePeer(path: path, behaviour: .recordOnly)
        let refreshed = try #require(ProcessScanner().process(pid: instance.pid))
        #expect(SocketOwnership.check(path: path, process: refreshed) == .notHeld)

        #expect(throws: APIError.wrongPeer(path: path, expected: instance.pid, actual: getpid())) {
            try APIClient(socketPath: path, expectedPID: instance.pid).list()
        }
        #expect(impostor.receivedBytes == 0, "not one byte reached the impostor")
        let requestsBefore = apiRequests(pid: instance.pid).count
        #expect(requestsBefore == 0)
        impostor.close()
        rename(path + ".orig", path)
    }

    @Test("a peer that never answers fails at the deadline with a clear error")
    func hungPeerTimesOut() throws {
        let path = "/tmp/slirpmon-hung-\(getpid()).sock"
        let peer = try FakePeer(path: path, behaviour: .neverAnswer)
        defer { peer.close() }
        let start = Deadline.now
        #expect(throws: APIError.timedOut(path: path, phase: "reply", seconds: 0.5)) {
            try APIClient(socketPath: path, timeout: 0.5).list()
        }
        let elapsed = Deadline.now.seconds(since: start)
        #expect(elapsed >= 0.45 && elapsed < 3)
        #expect(APIError.timedOut(path: path, phase: "reply", seconds: 0.5).description.contains("did not answer within"))
    }

    @Test("a missing socket and a dead listener are told apart")
    func connectFailuresExplained() throws {
        let missing = "/tmp/slirpmon-none-\(getpid()).sock"
        do {
            _ = try APIClient(socketPath: missing).list()
            Issue.record("expected a failure")
        } catch {
            #expect(error.description.contains("no API socket at \(missing)"))
        }
        let lab = try TestLab("dead")
        let instance = try lab.start(.init(name: "d"))
        let path = try #require(instance.apiSocket)
        lab.lab.signal(instance, SIGKILL)
        _ = eventually { ProcessScanner().process(pid: instance.pid)?.isZombie == true }
        do {
            _ = try APIClient(socketPath: path).list()
            Issue.record("expected a failure")
        } catch {
            #expect(error.description.contains("nothing listens"))
        }
    }
}

/// A unix socket listener that is not slirp4netns: for a replaced path or a hung peer.
final class FakePeer: @unchecked Sendable {
    enum Behaviour { case recordOnly, neverAnswer }
    let path: String
    private let fd: Int32
    private var accepted: [Int32] = []
    private(set) var receivedBytes = 0

    init(path: String, behaviour: Behaviour) throws {
        self.path = path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 16) == 0 else { throw LabSetupError("cannot listen on \(path)") }
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                accepted.append(client)
                if behaviour == .recordOnly {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    let n = recv(client, &buffer, buffer.count, 0)
                    if n > 0 { receivedBytes += n }
                }
            }
        }
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        for c in accepted { Glibc.close(c) }
        unlink(path)
    }
}
