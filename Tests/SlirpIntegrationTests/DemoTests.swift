import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `slirpmon demo` as a newcomer meets it: every forward it shows answers through slirp4netns.
@Suite("The demo", .enabled(if: isRoot, "needs root for ip netns and to run the demo as another user"))
struct DemoTests {
    /// Who runs the demo: root (ip netns) or an unprivileged user (unshare --user --net).
    enum Runner: String, CaseIterable, CustomTestStringConvertible {
        case root, user
        var testDescription: String { rawValue }
    }

    @Test("every forward the demo shows answers an HTTP request from the host through slirp4netns, and the demo says which to try", arguments: Runner.allCases)
    func everyDemoForwardAnswers(_ runner: Runner) throws {
        let output = "/tmp/slirpmon-demo-test-\(getpid())-\(runner.rawValue).out"
        unlink(output)
        let fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try #require(fd >= 0, "cannot create \(output)")
        defer { unlink(output) }
        var program = slirpmonBinary
        var arguments = ["demo", "--hold"]
        if runner == .user {
            // /dev/net/tun as distributions ship it: slirp4netns as a user needs it.
            chmod("/dev/net/tun", 0o666)
            program = try #require(Executables.find("setpriv"), "setpriv is not installed (util-linux)")
            arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", slirpmonBinary] + arguments
        }
        guard case .success(let demo) = Executables.spawn(program, arguments, descriptors: [1: fd, 2: fd]) else {
            close(fd)
            Issue.record("cannot start the demo")
            return
        }
        close(fd)
        var stopped = false
        defer { if !stopped { kill(demo, SIGTERM); Executables.waitFor(demo) } }

        var text = ""
        let started = eventually(30) {
            text = (try? Files.readText(output)) ?? ""
            return text.contains("try curl")
        }
        try #require(started, "the demo did not start: \(text)")
        // "try curl 127.0.0.1:P1 (every forward answers: P1 -> web:80, P2 -> web:8080, P3 -> custom:80)"
        let forwards = text.split(separator: "\n").first { $0.hasPrefix("try curl") }.map { line in
            line.matches(of: /(\d+) -> (\w+):(\d+)/).map { (hostPort: Int($0.1) ?? 0, name: String($0.2), guestPort: Int($0.3) ?? 0) }
        } ?? []
        #expect(forwards.count == 3, "the demo's forwards: \(text)")
        for forward in forwards {
            var reply: String?
            let answered = eventually(10) {
                reply = tcpExchange(port: forward.hostPort, send: "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return reply != nil
            }
            #expect(answered, "127.0.0.1:\(forward.hostPort) does not answer")
            #expect(reply?.hasPrefix("HTTP/1.0 200 OK") == true, "\(reply ?? "")")
            #expect(reply?.contains(DemoServer.page(name: forward.name, port: forward.guestPort)) == true,
                    "127.0.0.1:\(forward.hostPort) did not reach port \(forward.guestPort) of \(forward.name): \(reply ?? "")")
        }

        // A server in each namespace, the demo's own children (ip netns exec and unshare exec it);
        // everything it started goes with it.
        let pids = try Files.directoryEntries("/proc").compactMap { Int32($0) }
        let servers = pids.filter { pid in
            (try? Files.readBytes("/proc/\(pid)/cmdline")).map { String(decoding: $0, as: UTF8.self).contains("demo-server") } == true
                && (try? Files.readText("/proc/\(pid)/stat"))?.split(separator: " ").dropFirst(3).first == Substring(String(demo))
        }
        #expect(servers.count == 3, "demo servers under the demo: \(servers)")
        kill(demo, SIGINT)
        let status = Executables.waitFor(demo)
        stopped = true
        #expect(status == 130, "stopped by SIGINT: 128 + 2, as a shell reports it, after removing everything")
        for forward in forwards {
            #expect(tcpExchange(port: forward.hostPort, send: "GET / HTTP/1.0\r\n\r\n", timeout: 1) == nil, "port \(forward.hostPort) still answers")
        }
        for server in servers { #expect(kill(server, 0) != 0, "demo server \(server) outlived the demo") }
    }
}
