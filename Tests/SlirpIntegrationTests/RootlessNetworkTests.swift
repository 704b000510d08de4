import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// A rootless user's Podman networks and user namespaces, on real rootless Podman (4.3 here).
///
/// The user is this suite's own (`slirpmon-rn`): a user's rootless network namespace and its one
/// slirp4netns are shared by all that user's containers on Podman networks, so another suite's
/// containers of the shared fixture user would join it and change what these tests count. Serialized:
/// two rootless `podman run`s of one user at once, one with `--uidmap`, failed here (runc: mounting the
/// image copy, permission denied).
@Suite("A rootless user's shared Podman network and user-namespaced containers", .serialized,
       .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"))
struct RootlessNetworkTests {
    static func user() throws -> (name: String, uid: UInt32) {
        try PodmanFixture.prepareRootlessUser("slirpmon-rn", subordinateStart: 430000)
    }

    func json(_ args: [String]) throws -> Any {
        let out = slirpmon(args)
        #expect(out.status == 0, "slirpmon \(args.joined(separator: " ")): \(out.stderr)")
        return try JSONSerialization.jsonObject(with: Data(out.stdout.utf8))
    }

    /// The PID `ss` names as holding the TCP listener on `port` (what an operator checks by hand).
    func listenerPID(port: Int) -> Int? {
        let out = sh("ss", ["-ltnpH", "sport = :\(port)"])
        guard let range = out.stdout.range(of: "pid=") else { return nil }
        return Int(out.stdout[range.upperBound...].prefix { $0.isNumber })
    }

    /// Starts busybox httpd as `user` in a container named `name` with `options` (its network) and
    /// `-p 127.0.0.1:PORT:80`, and checks that the port round-trips to it.
    func startWeb(_ name: String, port: Int, options: [String], user: (name: String, uid: UInt32)) throws {
        let run = PodmanFixture.podman(["run", "-d", "--name", name] + options + ["-p", "127.0.0.1:\(port):80", PodmanFixture.image,
                                        "httpd", "-f", "-p", "80", "-h", "/www"], user: user)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(PodmanFixture.httpGet(port: port)?.contains("slirpmon-fixture") == true, "the port round-trips to \(name)")
    }

    @Test("a rootless user's containers on a Podman network are listed under that user's rootless network, each with its bridge address, port and rootlessport, and `show CONTAINER` finds it")
    func sharedRootlessNetwork() throws {
        let user = try Self.user()
        let network = PodmanFixture.name("net")
        let names = [PodmanFixture.name("bra"), PodmanFixture.name("brb")]
        let ports = [Int(try DemoFleet.freeTCPPort().value), Int(try DemoFleet.freeTCPPort().value)]
        let created = PodmanFixture.podman(["network", "create", network], user: user)
        defer { PodmanFixture.podman(["network", "rm", "-f", network], user: user) }
        #expect(created.status == 0, "\(created.stderr)")
        defer { for name in names { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) } }
        for (name, port) in zip(names, ports) { try startWeb(name, port: port, options: ["--network", network], user: user) }
        // What Podman says of the network and the containers, to compare with.
        let inspected = PodmanFixture.podman(["network", "inspect", network, "--format", "{{.NetworkInterface}} {{range .Subnets}}{{.Gateway}} {{.Subnet}}{{end}}"], user: user)
        let fields = inspected.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(fields.count == 3, "podman network inspect: \(inspected.stdout) \(inspected.stderr)")
        let (bridge, prefix) = (fields[0], fields[2].split(separator: "/").last.map(String.init) ?? "")
        let gateway = "\(fields[1])/\(prefix)"
        let addresses = names.map { name in
            PodmanFixture.podman(["inspect", name, "--format", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}"], user: user)
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/\(prefix)"
        }

        // list: one row, named as the user's rootless network, with both containers.
        let rows = try #require(try json(["list", "--json"]) as? [[String: Any]])
        let mine = rows.filter { ($0["rootless_network"] as? [String: Any])?["owner"] as? String == user.name }
        try #require(mine.count == 1, "one rootless network row for \(user.name): \(rows.filter { $0["user"] as? String == user.name })")
        let row = mine[0]
        let net = try #require(row["rootless_network"] as? [String: Any])
        #expect((row["netns"] as? String)?.contains("/netns/rootless-netns-") == true)
        #expect(net["layout"] as? String == "podman4")
        let members = try #require(net["containers"] as? [[String: Any]])
        #expect(Set(members.compactMap { $0["name"] as? String }).isSuperset(of: names), "every container on it")
        for (i, name) in names.enumerated() {
            let member = try #require(members.first { $0["name"] as? String == name })
            let attachment = (member["networks"] as? [[String: Any]])?.first { $0["network"] as? String == network }
            #expect(attachment?["address"] as? String == addresses[i], "\(name)'s bridge address as Podman inspects it")
            #expect(((member["ports"] as? [[String: Any]])?.first?["host_port"] as? Int) == ports[i])
            let carriers = member["rootlessport_pids"] as? [Int] ?? []
            let holder = try #require(listenerPID(port: ports[i]), "ss names the process holding \(ports[i])")
            #expect(carriers.contains(holder), "\(name): rootlessport \(holder) holds its port (ss); slirpmon said \(carriers)")
            #expect(((row["rootlessport_pids"] as? [Int]) ?? []).contains(holder))
        }
        let listed = (net["bridges"] as? [[String: Any]])?.first { $0["network"] as? String == network }
        #expect(listed?["address"] as? String == gateway)
        let list = slirpmon(["list"]).stdout
        #expect(list.contains("rootless-netns:\(user.name)"), "named in list, not manual:\n\(list)")

        // show CONTAINER: the rootless network, with the bridge interface seen inside the namespace.
        let show = slirpmon(["show", names[1]])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("rootless network of \(user.name)"), "\(show.stdout)")
        #expect(show.stdout.contains("\(network) \(bridge) \(gateway)"), "bridge \(bridge) \(gateway) seen in the namespace:\n\(show.stdout)")
        for (i, name) in names.enumerated() {
            #expect(show.stdout.contains("\(name) ("), "member \(name) listed")
            #expect(show.stdout.contains(addresses[i]))
        }
        #expect(!show.stdout.contains("started by hand"))
        // Another user's process named slirp4netns that claims the same namespace path is that user's
        // "rootless network", with none of this user's containers; CONTAINER still names the real one.
        let netns = try #require(row["netns"] as? String)
        let fake = try UserFakeSlirp(["--netns-type=path", netns, "tap0"])
        defer { fake.stop() }
        let again = try #require(try json(["list", "--json"]) as? [[String: Any]])
        let claimed = (again.first { $0["pid"] as? Int == Int(fake.pid) })?["rootless_network"] as? [String: Any]
        #expect(claimed?["owner"] as? String == "nobody", "\(again.filter { $0["pid"] as? Int == Int(fake.pid) })")
        #expect((claimed?["containers"] as? [Any])?.isEmpty == true)
        #expect(again.filter { ($0["rootless_network"] as? [String: Any])?["owner"] as? String == user.name }.map { $0["pid"] as? Int } == [row["pid"] as? Int])
        #expect((try json(["show", names[1], "--json"]) as? [String: Any])?["pid"] as? Int == row["pid"] as? Int)

        // A live forward cannot be added: said as what it is, not as a hand-started instance's.
        let add = slirpmon(["fwd", "add", names[0], "127.0.0.1:\(ports[0] + 1):80"])
        #expect(add.status != 0 && add.stderr.contains("rootless network"), "\(add.stderr)")

        // The doctor (as the owner) says where the container's network is instead of "nothing to examine".
        let doctor = slirpmon(["doctor", names[0]])
        #expect(doctor.stderr.contains("rootless network") && doctor.stderr.contains("slirpmon show \(names[0])"), "\(doctor.stderr)")
        let detail = try #require(try json(["show", names[0], "--json"]) as? [String: Any])
        #expect(detail["pid"] as? Int == row["pid"] as? Int)
        // Both shapes, with rootless_network filled in, match the written schema.
        let validator = try SchemaValidator()
        try validator.expectValid(slirpmon(["list", "--json"]), as: "list", "list --json with a rootless network")
        try validator.expectValid(slirpmon(["show", names[0], "--json"]), as: "show", "show --json of a rootless network's container")
        let bridges = (detail["rootless_network"] as? [String: Any])?["bridges"] as? [[String: Any]]
        #expect(bridges?.first { $0["network"] as? String == network }?["interface"] as? String == bridge)
    }

    @Test("a --uidmap container's slirp4netns targets a PID, and the rootlessport carrying its port is still found")
    func userNamespacedContainerRootlessport() throws {
        let user = try Self.user()
        let name = PodmanFixture.name("uidmap")
        let port = Int(try DemoFleet.freeTCPPort().value)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try startWeb(name, port: port, options: ["--uidmap", "0:1:1000", "--network", "slirp4netns"], user: user)
        let holder = try #require(listenerPID(port: port), "ss names the process holding \(port)")

        let detail = try #require(try json(["show", name, "--json"]) as? [String: Any])
        let arguments = detail["arguments"] as? [String] ?? []
        #expect(arguments.suffix(2).first.map { Int($0) != nil } == true, "slirp4netns targets a PID here: \(arguments)")
        #expect((detail["rootlessport_pids"] as? [Int] ?? []).contains(holder), "rootlessport \(holder) holds the port (ss): \(detail["rootlessport_pids"] ?? "")")
        let show = slirpmon(["show", name]).stdout
        #expect(show.contains("carried by rootlessport pid \(holder)"), "\(show)")
        #expect(!show.contains("no rootlessport process found"))
    }
}
