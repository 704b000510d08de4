import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// A TCP listener of this test process on `address:port` (IPv4), closed on `close()`.
final class HeldPort {
    let fd: Int32
    let port: Int

    init(_ port: Int, address: UInt32 = 0) throws {
        self.port = port
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = UInt16(port).bigEndian
        sin.sin_addr.s_addr = address.bigEndian
        let bound = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(fd, 4) == 0, "cannot hold port \(port): \(SystemError("bind").reason)")
    }

    func close() { Glibc.close(fd) }
}

/// Sockets bound to `port` on the host (TCP listeners or UDP), from /proc/net.
func hostSocketsOn(_ port: Int) -> [String] {
    let hex = String(format: "%04X", port)
    var found: [String] = []
    for file in ["tcp", "tcp6", "udp", "udp6"] {
        for line in ((try? Files.readText("/proc/net/\(file)")) ?? "").split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, fields[1].hasSuffix(":\(hex)") else { continue }
            if file.hasPrefix("tcp") && fields[3] != "0A" { continue }
            found.append("\(file) \(line)")
        }
    }
    return found
}

@Suite("doctor CONTAINER: the container's -p mappings set up as Podman sets them up, on the scratch instance",
       .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"), .serialized)
struct DoctorPortTests {
    func create(_ name: String, network: String, publish: String) throws {
        let created = PodmanFixture.podman(["create", "--name", name, "--network", network, "-p", publish,
                                            PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        try #require(created.status == 0, "\(created.stderr)")
    }

    @Test("a host port someone holds: Podman cannot start the container, and the doctor names the holder's PID, exit 1, with either port handler",
          arguments: [("slirp4netns:port_handler=slirp4netns", "from slirp4netns while setting up port redirection: map[desc:bad request: add_hostfwd: slirp_add_hostfwd failed]"),
                      ("slirp4netns", "rootlessport listen tcp 0.0.0.0:")])
    func busyPort(network: String, podmanSays: String) throws {
        try PodmanFixture.prepare()
        let port = Int(try DemoFleet.freeTCPPort().value)
        let held = try HeldPort(port)
        defer { held.close() }
        let name = PodmanFixture.name("busy")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try create(name, network: network, publish: "\(port):80")
        let start = PodmanFixture.podman(["start", name])
        #expect(start.status != 0 && start.stderr.contains(podmanSays), "\(start.stderr)")

        let (status, json, text) = doctorOnContainer(name)
        let v = DoctorVerdict(json: json)
        #expect(status == 1, "\(text)")
        #expect(json["healthy"] as? Bool == false)
        #expect(v.step == "trial")
        #expect(v.kind == "host-port-in-use", "\(v.verdict ?? [:])")
        let cause = v.cause?["cause"] as? String ?? ""
        #expect(cause.contains("by pid \(getpid())"), "\(cause)")
        // Podman's own words, as the same start printed them.
        let evidence = v.cause?["evidence"] as? String ?? "-"
        #expect(evidence.hasPrefix(podmanSays) && start.stderr.contains(evidence), "podman: \(start.stderr) doctor: \(evidence)")
        #expect(text.contains("VERDICT: the trial step fails: host-port-in-use"), "\(text)")
        let raw = slirpmon(["doctor", name, "--json"], timeout: 120).stdout
        #expect(try SchemaValidator().problems(raw, as: "doctor").isEmpty, "the new cause kind is in the schema")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("-p '[::1]:P:80' with port_handler=slirp4netns: the doctor says the API refuses IPv6 host addresses, and the fix")
    func ipv6HostAddress() throws {
        try PodmanFixture.prepare()
        let port = Int(try DemoFleet.freeTCPPort().value)
        let name = PodmanFixture.name("v6")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try create(name, network: "slirp4netns:port_handler=slirp4netns", publish: "[::1]:\(port):80")
        let start = PodmanFixture.podman(["start", name])
        #expect(start.status != 0 && start.stderr.contains("bad arguments.host_addr"), "\(start.stderr)")

        let (status, json, text) = doctorOnContainer(name)
        let v = DoctorVerdict(json: json)
        #expect(status == 1, "\(text)")
        #expect(v.kind == "host-address-ipv6", "\(v.verdict ?? [:])")
        #expect((v.cause?["cause"] as? String ?? "").contains("the slirp4netns API takes IPv4 host addresses only"))
        #expect(v.fix.contains("port_handler=rootlesskit") && v.fix.contains("IPv4 host address"), "\(v.fix)")
        #expect(start.stderr.contains(v.cause?["evidence"] as? String ?? "-"), "Podman's words: \(start.stderr) \(v.cause ?? [:])")
        #expect(try SchemaValidator().problems(slirpmon(["doctor", name, "--json"], timeout: 120).stdout, as: "doctor").isEmpty)
        // fwd add gives the same explanation.
        let fwd = slirpmon(["fwd", "add", "1", "[::1]:\(port):80"])
        #expect(fwd.status == 2 && fwd.stderr.contains("the slirp4netns API takes IPv4 host addresses only"), "\(fwd.stderr)")
    }

    @Test("healthy containers with ports, created and running, both port handlers: still healthy, and no host port is left taken")
    func healthyWithPorts() throws {
        try PodmanFixture.prepare()
        let apiPort = Int(try DemoFleet.freeTCPPort().value), rlPort = Int(try DemoFleet.freeTCPPort().value)
        let udpPort = Int(try DemoFleet.freeUDPPort().value)
        let api = PodmanFixture.name("okapi"), rl = PodmanFixture.name("okrl")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", api, rl]) }
        try create(api, network: "slirp4netns:port_handler=slirp4netns", publish: "127.0.0.1:\(apiPort):80")
        let rlCreated = PodmanFixture.podman(["create", "--name", rl, "--network", "slirp4netns", "-p", "\(rlPort):80", "-p", "\(udpPort):53/udp",
                                              PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        try #require(rlCreated.status == 0, "\(rlCreated.stderr)")

        for (name, port, how) in [(api, apiPort, "add_hostfwd answered id"), (rl, rlPort, "can be bound")] {
            let (status, json, text) = doctorOnContainer(name)
            let v = DoctorVerdict(json: json)
            #expect(status == 0, "\(name): \(text)")
            #expect(v.details("trial").contains { $0.contains(":\(port) -> 80") && $0.contains(how) }, "\(v.details("trial"))")
            #expect(hostSocketsOn(port).isEmpty, "the doctor left port \(port) taken: \(hostSocketsOn(port))")
        }
        #expect(hostSocketsOn(udpPort).isEmpty, "the doctor left udp port \(udpPort) taken: \(hostSocketsOn(udpPort))")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")

        // The ports were free: Podman starts both. Running, their own slirp4netns and rootlessport hold them: still healthy.
        for name in [api, rl] {
            let started = PodmanFixture.podman(["start", name])
            #expect(started.status == 0, "\(name): \(started.stderr)")
        }
        for (name, port) in [(api, apiPort), (rl, rlPort)] {
            let (status, json, text) = doctorOnContainer(name)
            let v = DoctorVerdict(json: json)
            #expect(status == 0, "\(name): \(text)")
            #expect(v.details("trial").contains { $0.contains(":\(port) -> 80") && $0.contains("the container's own") }, "\(v.details("trial"))")
        }
        #expect(PodmanFixture.httpGet(port: apiPort)?.contains("slirpmon-fixture") == true, "the running container still serves its port")
        #expect(PodmanFixture.httpGet(port: rlPort)?.contains("slirpmon-fixture") == true, "the running container still serves its port")
    }

    @Test("a rootless user's container publishing a port below ip_unprivileged_port_start: root's doctor, run as the user, says so with the sysctl, for both port handlers")
    func privilegedPortRootless() throws {
        let user = try PodmanFixture.prepareRootlessUser()
        openToOtherUsers(slirpmonBinary)
        let start = try #require(Int((try Files.readText("/proc/sys/net/ipv4/ip_unprivileged_port_start")).trimmingCharacters(in: .whitespacesAndNewlines)))
        let port = try #require((max(1, start - 200)..<start).shuffled().first { hostSocketsOn($0).isEmpty }, "no free port below \(start)")
        let api = PodmanFixture.name("privapi"), rl = PodmanFixture.name("privrl")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", api, rl], user: user) }
        for (name, network) in [(api, "slirp4netns:port_handler=slirp4netns"), (rl, "slirp4netns")] {
            let created = PodmanFixture.podman(["create", "--name", name, "--network", network, "-p", "\(port):80",
                                                PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"], user: user)
            try #require(created.status == 0, "\(created.stderr)")
            let started = PodmanFixture.podman(["start", name], user: user)
            #expect(started.status != 0, "\(name): \(started.stdout)")

            let (status, json, text) = doctorOnContainer(name)
            let v = DoctorVerdict(json: json)
            #expect(status == 1, "\(text)")
            #expect((json["subject"] as? [String: Any])?["mode"] as? String == "rootless")
            #expect(v.kind == "host-port-privileged", "\(name): \(v.verdict ?? [:])")
            #expect((v.cause?["cause"] as? String ?? "").contains("below net.ipv4.ip_unprivileged_port_start (\(start))"), "\(v.verdict ?? [:])")
            #expect(v.fix.contains("sysctl net.ipv4.ip_unprivileged_port_start=\(port)"), "\(v.fix)")
            #expect(started.stderr.contains(v.cause?["evidence"] as? String ?? "-"), "Podman's words: \(started.stderr) doctor: \(v.cause ?? [:])")
        }
    }
}
