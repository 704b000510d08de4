import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// Docker rootless on this machine, as an operator runs it: Debian's dockerd-rootless.sh as the
/// test user `slirpmon-dk`, a busybox httpd container published with `-p`, and the proxies and
/// container names slirpmon reads from it. Serialized: the user has one daemon socket.
@Suite("Docker rootless: published ports joined to their containers", .serialized)
struct DockerRootlessTests {
    static let proxyLine = ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80"]

    /// The rootlesskit child (`/proc/self/exe`, comm `exe`) under the rootlesskit parent: dockerd runs under it.
    static func rootlessKitChild(of parent: Int32) -> Int32? {
        guard let pids = try? Files.processIDs() else { return nil }
        return pids.first { pid in
            guard let bytes = try? Files.readProcessFile("/proc/\(pid)/stat", limit: 4096), let stat = ProcessStat(bytes: bytes) else { return false }
            return stat.parentPID == parent && stat.command == "exe"
        }
    }


    /// Starts the daemon, runs busybox httpd as `name` published on 127.0.0.1:`port`, and waits
    /// for its page there; returns the rootlesskit child (dockerd's ancestor).
    static func serve(_ fixture: DockerRootlessFixture, name: String, port: Int) throws -> Int32 {
        let seconds = try fixture.start()
        print("Docker rootless (\(fixture.portDriver) port driver) answered docker info after \(String(format: "%.2f", seconds)) s")
        #expect(seconds < 30, "the daemon took \(seconds) s to answer")
        try fixture.run(name: name, publish: ["127.0.0.1:\(port):80"], command: DockerRootlessFixture.httpd)
        var page: String?
        let deadline = Deadline.after(seconds: 10)
        while page == nil && !deadline.hasPassed {
            page = PodmanFixture.httpGet(port: port)
            if page == nil { usleep(100_000) }
        }
        #expect(page?.contains("slirpmon-docker-fixture") == true, "no page on 127.0.0.1:\(port): \(page ?? "nothing")")
        let parent = try #require(fixture.rootlessKitPID)
        return try #require(rootlessKitChild(of: parent), "no rootlesskit child under \(parent)")
    }


    /// What RootlessKit's API lists (`GET /v1/ports` on the state dir's api.sock, by curl as root).
    static func registeredPorts(_ fixture: DockerRootlessFixture) throws -> [RootlessKitPortSpec] {
        let state = try #require(fixture.stateDirectories().first, "no RootlessKit state dir")
        let out = sh("curl", ["-s", "--max-time", "5", "--unix-socket", "\(state)/api.sock", "http://rootlesskit/v1/ports"])
        let list = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8), options: .fragmentsAllowed) as? [[String: Any]] ?? []
        return list.compactMap { entry in
            guard let spec = entry["spec"] as? [String: Any], let proto = spec["proto"] as? String,
                  let parentPort = spec["parentPort"] as? Int, let childPort = spec["childPort"] as? Int else { return nil }
            return RootlessKitPortSpec(proto: proto, parentIP: spec["parentIP"] as? String, parentPort: parentPort,
                                       childIP: spec["childIP"] as? String, childPort: childPort)
        }
    }


    /// `POST /v1/ports` with `spec` (JSON) by curl as root; returns the HTTP status and body.
    static func addPort(_ fixture: DockerRootlessFixture, _ spec: String) throws -> String {
        let state = try #require(fixture.stateDirectories().first, "no RootlessKit state dir")
        return sh("curl", ["-s", "--max-time", "5", "-w", " HTTP %{http_code}", "--unix-socket", "\(state)/api.sock",
                           "-X", "POST", "-d", spec, "http://rootlesskit/v1/ports"]).stdout
    }

    @Test("a container published with docker run -p 127.0.0.1:P:80 serves P, its proxies read as (tcp, 127.0.0.1, P, 172.17.0.x, 80), its port is joined to its name, a port added live for its bridge address is told apart, and stopping leaves nothing")
    func publishedPortIsJoinedToItsContainer() throws {
        let fixture = try DockerRootlessFixture(portDriver: "builtin")
        var stopped = false
        defer { if !stopped { _ = try? fixture.stop() } }
        let port = 18_780 + Int(getpid() % 15)
        let name = "smt-dkweb-\(getpid())"
        let child = try Self.serve(fixture, name: name, port: port)
        let parent = try #require(fixture.rootlessKitPID)
        let (proxies, refused) = DockerProxyProcess.scan(under: child)
        #expect(refused.isEmpty, "\(refused)")
        let outer = try #require(proxies.first { $0.kind == .rootlessKitProxy }, "no rootlesskit-docker-proxy under \(child): \(proxies)")
        #expect(outer.mapping.proto == "tcp" && outer.mapping.hostIP == "127.0.0.1" && outer.mapping.hostPort == port
                && outer.mapping.containerIP.hasPrefix("172.17.0.") && outer.mapping.containerPort == 80, "\(outer.mapping)")
        #expect(outer.uid == fixture.account.uid)
        let inner = try #require(proxies.first { $0.kind == .dockerProxy }, "no docker-proxy under \(child)")
        #expect(inner.parentPID == outer.pid && inner.mapping.hostIP == "127.0.0.1" && inner.mapping.hostPort == port)

        let containers = try DockerContainerAddress.ask(dockerdPID: try #require(fixture.dockerdPID), socket: fixture.socket).get()
        // What Docker registered with RootlessKit for this -p (builtin driver), as /v1/ports lists it.
        let registered = try #require(try Self.registeredPorts(fixture).first { $0.parentPort == port })
        #expect(registered == RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: port, childIP: "127.0.0.1", childPort: port))
        let owner = DockerPortJoin.owner(of: registered, proxies: proxies, containers: containers)
        #expect(owner?.containerName == name && owner?.containerPort == 80 && owner?.containerIP == outer.mapping.containerIP,
                "\(String(describing: owner)) from \(containers)")
        // A port added live for the container's bridge address (builtin: it works) is no Docker port, and points at the container.
        let added = try Self.addPort(fixture, #"{"proto":"tcp","parentIP":"127.0.0.1","parentPort":\#(port + 100),"childIP":"\#(outer.mapping.containerIP)","childPort":80}"#)
        #expect(added.hasSuffix("HTTP 201"), "\(added)")
        #expect(PodmanFixture.httpGet(port: port + 100)?.contains("slirpmon-docker-fixture") == true)
        let live = try #require(try Self.registeredPorts(fixture).first { $0.parentPort == port + 100 })
        #expect(DockerPortJoin.owner(of: live, proxies: proxies, containers: containers) == nil)
        #expect(DockerPortJoin.liveTarget(of: live, containers: containers)?.name == name)

        let left = try fixture.stop()
        stopped = true
        #expect(left.isEmpty, "left behind: \(left)")
        #expect(HostileUser.isAlive(outer.pid) == false && HostileUser.isAlive(parent) == false)
    }

    @Test("with the slirp4netns port driver, the port Docker registers (childIP 10.0.2.100) is joined to its container; a port for the container's bridge address is refused before sending (RootlessKit takes it and nothing gets through), slirp's own address serves")
    func slirpPortDriverPortIsJoined() throws {
        let fixture = try DockerRootlessFixture(portDriver: "slirp4netns")
        var stopped = false
        defer { if !stopped { _ = try? fixture.stop() } }
        let port = 18_800 + Int(getpid() % 15)
        let child = try Self.serve(fixture, name: "smt-dkslirp-\(getpid())", port: port)
        let (proxies, refused) = DockerProxyProcess.scan(under: child)
        #expect(refused.isEmpty, "\(refused)")
        let inner = try #require(proxies.first { $0.kind == .dockerProxy }, "no docker-proxy: \(proxies)")
        #expect(inner.mapping.hostIP == "10.0.2.100" && inner.mapping.hostPort == port, "\(inner.mapping)")
        let containers = try DockerContainerAddress.ask(dockerdPID: try #require(fixture.dockerdPID), socket: fixture.socket).get()
        let registered = try #require(try Self.registeredPorts(fixture).first { $0.parentPort == port })
        #expect(registered == RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: port, childIP: "10.0.2.100", childPort: port))
        #expect(DockerPortJoin.owner(of: registered, proxies: proxies, containers: containers)?.containerName == "smt-dkslirp-\(getpid())")

        // A port for the container's bridge address: RootlessKit takes it, slirp cannot reach it, the rule says so first.
        let bridge = inner.mapping.containerIP
        #expect(ChildAddressRule.refusal(childIP: bridge, portDriver: fixture.portDriver) != nil)
        let accepted = try Self.addPort(fixture, #"{"proto":"tcp","parentIP":"127.0.0.1","parentPort":\#(port + 50),"childIP":"\#(bridge)","childPort":80}"#)
        #expect(accepted.hasSuffix("HTTP 201"), "\(accepted)")
        #expect(tcpExchange(port: port + 50, send: "GET /index.html HTTP/1.0\r\n\r\n", timeout: 3)?.contains("slirpmon-docker-fixture") != true)
        // What the rule points to instead: no childIP (slirp's own address), to the port docker-proxy listens on there.
        #expect(ChildAddressRule.refusal(childIP: nil, portDriver: fixture.portDriver) == nil)
        let own = try Self.addPort(fixture, #"{"proto":"tcp","parentIP":"127.0.0.1","parentPort":\#(port + 60),"childPort":\#(port)}"#)
        #expect(own.hasSuffix("HTTP 201"), "\(own)")
        #expect(PodmanFixture.httpGet(port: port + 60)?.contains("slirpmon-docker-fixture") == true)
        let left = try fixture.stop()
        stopped = true
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("a user's process named rootlesskit-docker-proxy, with a real proxy's exact command line, is not taken for one")
    func impostorIsNotAProxy() throws {
        guard isRoot else { throw LabSetupError("needs root (runs the impostor as nobody)") }
        // clang comes with the Swift toolchain that builds these tests.
        guard let cc = Executables.find("clang") ?? Executables.find("cc") else { throw LabSetupError("no C compiler (clang of the Swift toolchain, or cc) for the impostor") }
        let directory = "/tmp/smt-dkfake-\(getpid())-\(UInt32.random(in: 0..<100000))"
        mkdir(directory, 0o755)
        defer { sh("rm", ["-rf", directory]) }
        // Re-executes itself (its own file, so comm stays its name) once with argv[0] set to the real proxy's path, then waits: its name
        // (comm) and whole command line are a real proxy's; only its executable is not.
        try Files.write("""
            #include <string.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                if (strcmp(argv[0], "/usr/bin/rootlesskit-docker-proxy") != 0) { 
                    char self[4096]; ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1); if (n <= 0) return 1; self[n] = 0;
                    argv[0] = "/usr/bin/rootlesskit-docker-proxy"; execv(self, argv); return 1;
                }
                for (;;) pause();
            }
            """, to: "\(directory)/fake.c")
        let fake = "\(directory)/rootlesskit-docker-proxy"
        let built = sh(cc, ["-O0", "-o", fake, "\(directory)/fake.c"], timeout: 60)
        guard built.status == 0 else { throw LabSetupError("cc failed: \(built.stderr)") }
        chmod(fake, 0o755)
        let spawned = Executables.spawn("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", fake] + Self.proxyLine)
        guard case .success(let pid) = spawned else { throw LabSetupError("cannot start the impostor: \(spawned)") }
        defer { kill(pid, SIGKILL); _ = Executables.waitFor(pid) }
        let deadline = Deadline.after(seconds: 5)
        var cmdline: [UInt8] = []
        while !deadline.hasPassed {
            cmdline = (try? Files.readProcessFile("/proc/\(pid)/cmdline")) ?? []
            if cmdline.starts(with: Array("/usr/bin/rootlesskit-docker-proxy".utf8)) { break }
            usleep(20_000)
        }
        let comm = (try? Files.readText("/proc/\(pid)/comm")) ?? ""
        #expect(comm == "rootlesskit-doc\n", "comm: \(comm)")
        #expect(cmdline == Array((["/usr/bin/rootlesskit-docker-proxy"] + Self.proxyLine).joined(separator: "\0").utf8) + [0])
        #expect(DockerProxyProcess.read(pid: pid) == nil, "the impostor was read as a proxy")
        let (proxies, refused) = DockerProxyProcess.scan(under: getpid())
        #expect(proxies.isEmpty && refused.isEmpty, "\(proxies) \(refused)")
    }
}
