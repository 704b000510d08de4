import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// What Podman writes into its containers' resolv.conf, as `show` observes it.
@Suite("Podman's resolv.conf, observed", .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"))
struct PodmanNameserverTests {
    func dnsRows(_ target: String) throws -> (text: String, rows: [String: [String: Any]]) {
        let text = slirpmon(["show", target])
        #expect(text.status == 0, "\(text.stderr)")
        let json = slirpmon(["show", target, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        let addresses = try #require(object["addresses"] as? [[String: Any]])
        return (text.stdout, Dictionary(addresses.map { ($0["role"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// PIDs and names of the processes in a container's network namespace.
    func processes(inNamespaceOf pid: Int32) -> [Int32: String] {
        guard let wanted = try? Files.readLink("/proc/\(pid)/ns/net"), let pids = try? Files.processIDs() else { return [:] }
        var found: [Int32: String] = [:]
        for p in pids where (try? Files.readLink("/proc/\(p)/ns/net")) == wanted {
            found[p] = (try? Files.readText("/proc/\(p)/comm"))?.trimmingSpaces
        }
        return found
    }

    /// Runs `podman run -d --name NAME ARGUMENTS IMAGE sleep 600` and returns the container's PID.
    func run(_ name: String, _ arguments: [String]) throws -> Int32 {
        let run = PodmanFixture.podman(["run", "-d", "--name", name] + arguments + [PodmanFixture.image, "sleep", "600"])
        try #require(run.status == 0, "\(run.stderr)")
        let pidText = PodmanFixture.podman(["inspect", "-f", "{{.State.Pid}}", name]).stdout.trimmingSpaces
        return try #require(Int32(pidText), "no pid for \(name): \(pidText)")
    }

    /// `-p 127.0.0.1:PORT:80` on a free port.
    func publish() throws -> [String] { ["-p", "127.0.0.1:\(try DemoFleet.freeTCPPort().value):80"] }

    /// Runs `body` with a container started with `arguments` and a published port (its name and PID), then removes it.
    func withContainer(_ base: String, _ arguments: [String], _ body: (String, Int32) throws -> Void) throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name(base)
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try body(name, try run(name, arguments + (try publish())))
    }

    @Test("a rootful pod with IPv6: dns matches Podman's nameserver 10.0.2.3 in the resolv.conf of a named process of the pod; dns6 is not configured")
    func podDNSObserved() throws {
        try PodmanFixture.prepare()
        let pod = PodmanFixture.name("dnspod")
        let create = PodmanFixture.podman(["pod", "create", "--name", pod, "--network", "slirp4netns:port_handler=slirp4netns,enable_ipv6=true"] + (try publish()))
        defer { PodmanFixture.podman(["pod", "rm", "-f", "-t", "0", pod]) }
        try #require(create.status == 0, "\(create.stderr)")
        let member = try run("\(pod)-a", ["--pod", pod])
        _ = try run("\(pod)-b", ["--pod", pod])
        let inside = processes(inNamespaceOf: member)
        #expect(inside.count >= 3, "catatonit and two members: \(inside)")
        // Podman writes the same resolv.conf for each: nameserver 10.0.2.3, then the host's IPv4 servers.
        #expect((try? String(contentsOfFile: "/proc/\(member)/root/etc/resolv.conf", encoding: .utf8))?.contains("nameserver 10.0.2.3") == true)

        let (text, rows) = try dnsRows("\(pod)-a")
        #expect(rows["dns"]?["status"] as? String == "match", "\(text)")
        let note = rows["dns"]?["note"] as? String ?? ""
        let named = inside.contains { pid, command in note.hasPrefix("resolv.conf of PID \(pid) (\(command))") }
        #expect(named, "the note names a process of the pod \(inside): \(note)")
        #expect(rows["dns6"]?["status"] as? String == "not-configured", "\(text)")
        #expect((rows["dns6"]?["note"] as? String)?.hasSuffix("names no IPv6 nameserver") == true, "\(text)")
    }

    @Test("a container whose ports rootlessport carries: its own resolv.conf is read, not that of rootlessport's child (the host's, in the same namespace)")
    func rootlessportChildIsNotTheSource() throws {
        try withContainer("dnsrlk", ["--network", "slirp4netns"]) { name, container in
            // rootlessport's child joins the container's namespace earlier, with the host's root.
            let inside = processes(inNamespaceOf: container)
            let child = try #require(inside.keys.filter { $0 != container }.min(), "no rootlessport child beside the container: \(inside)")
            #expect(child < container, "the child started first: \(inside)")
            try #require(!((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "").contains("nameserver 10.0.2.3"),
                         "the host's resolv.conf names 10.0.2.3: it cannot tell the two apart")

            let (text, rows) = try dnsRows(name)
            #expect(rows["dns"]?["status"] as? String == "match", "\(text)")
            #expect((rows["dns"]?["note"] as? String)?.hasPrefix("resolv.conf of PID \(container) (sleep)") == true, "\(text)")
        }
    }

    @Test("a container with --uidmap and cidr=10.9.x.0/24 gets 'nameserver 10.0.2.3' from Podman 4.3: flagged, with why it cannot reach it")
    func uidmapContainerWrongNameserver() throws {
        let third = UInt8.random(in: 10...250)
        try withContainer("dnsum", ["--uidmap", "0:400000:65536", "--network", "slirp4netns:cidr=10.9.\(third).0/24,port_handler=slirp4netns"]) { name, _ in
            let (text, rows) = try dnsRows(name)
            #expect(rows["dns"]?["expected"] as? String == "10.9.\(third).3")
            #expect(rows["dns"]?["status"] as? String == "mismatch", "\(text)")
            #expect((rows["dns"]?["observed"] as? String)?.hasPrefix("10.0.2.3") == true, "\(text)")
            let note = rows["dns"]?["note"] as? String ?? ""
            #expect(note.contains("the container cannot reach it at 10.0.2.3"), "\(note)")
            #expect(note.hasPrefix("resolv.conf of PID "), "\(note)")
            // A PID target is read through that process: its MTU is unknown, and said so.
            #expect(rows["mtu"]?["status"] as? String == "not-observed", "\(text)")
        }
    }
}
