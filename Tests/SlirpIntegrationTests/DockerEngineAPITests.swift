import Foundation
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// Naming Docker rootless's containers is one request to the daemon's own socket, under the rule
/// every socket slirpmon talks to keeps: proven held by that daemon first, then a deadline, a
/// size cap, and the answer taken as hostile. The daemons here are fakes (socat) because what
/// they do (listen where dockerd should, lie, flood) is what a real dockerd does not.
@Suite("Docker rootless's own API socket, through slirpmon's client", .serialized, .enabled(if: isRoot, "needs root"))
struct DockerEngineAPITests {
    @Test("a docker.sock that the named dockerd does not hold gets no request: a user's socket at the path is not asked")
    func socketNotHeldByDockerdGetsNothing() throws {
        let peer = try FakeRootlessKitPeer(tag: "dknotheld", program: "cat > {dir}/got", readsRequest: false)
        // dockerd is "this test process", which holds no socket bound there.
        let result = DockerContainerAddress.ask(dockerdPID: getpid(), socket: peer.socketPath, timeout: 1)
        guard case .failure(let error) = result else { Issue.record("asked: \(result)"); return }
        #expect(error.reason.contains("dockerd holds no listening socket bound to it, so nothing was sent"), "\(error)")
        usleep(300_000)
        #expect(!Files.exists("\(peer.directory)/got"), "the socket was connected to")
    }

    @Test("the daemon that holds the socket is asked GET /v1.41/containers/json with a Host header and answers its containers")
    func provenDaemonIsAsked() throws {
        let id = String(repeating: "d", count: 64)
        let body = #"[{"Id":"\#(id)","Names":["/web1"],"NetworkSettings":{"Networks":{"bridge":{"IPAddress":"172.17.0.2"}}}}]"#
        let peer = try FakeRootlessKitPeer(tag: "dkok", program: """
            printf 'HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: \(body.utf8.count)\\r\\n\\r\\n%s' '\(body)'
            """)
        let containers = try DockerContainerAddress.ask(dockerdPID: peer.pid, socket: peer.socketPath, timeout: 2).get()
        #expect(containers == [DockerContainerAddress(id: id, name: "web1", addresses: ["172.17.0.2"])])
        let request = HTTPReply.request(method: "GET", target: "/\(DockerEngineAPI.apiVersion)/containers/json", host: "docker")
        #expect(String(decoding: request, as: UTF8.self).hasPrefix("GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\n"))
    }

    @Test("a daemon that lies (an escape in a name), hangs, or floods is refused within the deadline and the cap, and no error carries its bytes")
    func hostileDaemonIsRefused() throws {
        let id = String(repeating: "e", count: 64)
        let lie = #"[{"Id":"\#(id)","Names":["/we\u001b[2Jb"],"NetworkSettings":null}]"#
        let liar = try FakeRootlessKitPeer(tag: "dklie", program: "printf 'HTTP/1.1 200 OK\\r\\n\\r\\n%s' '\(lie)'")
        guard case .failure(let lied) = DockerContainerAddress.ask(dockerdPID: liar.pid, socket: liar.socketPath, timeout: 2) else {
            Issue.record("a lying daemon was believed"); return
        }
        #expect(lied.reason.contains("not a Docker container name") && !lied.description.unicodeScalars.contains { $0.value == 0x1B }, "\(lied)")

        let hung = try FakeRootlessKitPeer(tag: "dkhang", program: "sleep 30")
        let start = Deadline.now
        guard case .failure(let silent) = DockerContainerAddress.ask(dockerdPID: hung.pid, socket: hung.socketPath, timeout: 1) else {
            Issue.record("a silent daemon answered"); return
        }
        #expect(Deadline.now.seconds(since: start) < 3 && silent.reason.contains("did not answer within 1 s"), "\(silent)")

        let flood = try FakeRootlessKitPeer(tag: "dkflood", program: "printf 'HTTP/1.1 200 OK\\r\\n\\r\\n['; head -c 50000000 /dev/zero")
        guard case .failure(let flooded) = DockerContainerAddress.ask(dockerdPID: flood.pid, socket: flood.socketPath, timeout: 5) else {
            Issue.record("a flood was read"); return
        }
        #expect(flooded.reason.contains("exceeds 8 MiB"), "\(flooded)")
    }
}
