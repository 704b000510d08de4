import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// What root reads for a namespace's DNS and bridges is the instance's own, read once per
/// process, and never kept past the selection that read it.
@Suite("Nameservers and namespace files: read once, kept honestly, the user's own", .serialized, .enabled(if: isRoot, "needs root for ip netns"))
struct NameserverTrustTests {
    /// The dns row of `pid` among `instances`.
    func dns(_ instances: [SlirpInstance], _ pid: Int32) throws -> AddressCheck {
        try #require(instances.first { $0.pid == pid }?.addressChecks.first { $0.role == "dns" })
    }

    @Test("the monitor's next refresh re-reads only the process its resolv.conf came from: a better-ranked process started since is not looked for until that one exits")
    func refreshRereadsOnlyTheSourceProcess() throws {
        let lab = try TestLab("dnsonce")
        let (a, sleeper, etc) = try lab.startWithResolvConf("a", resolvConf: "nameserver 10.0.2.3\n", ipv6: false)
        defer { try? FileManager.default.removeItem(atPath: etc) }
        let selected = try #require(ProcessScanner().process(pid: a.pid)).identity
        let inventory = Inventory(options: Inventory.Options(purpose: .monitor(cache: InventoryCache(), selected: selected)))
        #expect(try dns(inventory.collect(), a.pid).note == "resolv.conf of PID \(sleeper) (sleep)")

        // A process with a root of its own (a container's, ranked first by a pass over /proc) joins the namespace.
        let root = try SafeFiles.makePrivateDirectory(prefix: "slirpmon-dnsonce-root")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/etc", withIntermediateDirectories: true)
        try SafeFiles.writeNew(Array("nameserver 10.0.2.3\n".utf8), to: "\(root)/etc/resolv.conf", mode: 0o644)
        try FileManager.default.copyItem(atPath: try #require(Executables.find("busybox"), "busybox-static is not installed"), toPath: "\(root)/busybox")
        let ip = try #require(Executables.find("ip"))
        let netns = try #require(a.netnsName)
        guard case .success(let chrooted) = Executables.spawn(ip, ["netns", "exec", netns, "chroot", root, "/busybox", "sleep", "600"]) else {
            throw LabSetupError("cannot start a chrooted sleep in \(netns)")
        }
        defer { kill(chrooted, SIGKILL); Executables.waitFor(chrooted) }
        try #require(eventually(10) { ContainerJoin.identity("/proc/\(chrooted)/root") == ContainerJoin.identity(root)
            && (try? Files.readText("/proc/\(chrooted)/comm")) == "busybox\n" }, "the chrooted busybox sleep did not start in \(netns)")

        // Kept: only the sleep's files were read, so the new process is not found (a pass over /proc would name it).
        #expect(try dns(inventory.collect(), a.pid).note == "resolv.conf of PID \(sleeper) (sleep)")
        // Once the sleep exits, a pass finds the better one.
        kill(sleeper, SIGKILL)
        try #require(eventually(5) { !Files.exists("/proc/\(sleeper)/ns/net") })
        #expect(try dns(inventory.collect(), a.pid).note == "resolv.conf of PID \(chrooted) (busybox)")
    }

    @Test("a namespace found empty is not searched again every refresh: a process started in it is found once the addresses are read again")
    func emptyNamespaceIsNotSearchedEveryRefresh() throws {
        let lab = try TestLab("dnsnone")
        let a = try lab.start(.init(name: "a"))
        let netns = try #require(a.netnsName)
        let selected = try #require(ProcessScanner().process(pid: a.pid)).identity
        let inventory = Inventory(options: Inventory.Options(purpose: .monitor(cache: InventoryCache(addressMaxAge: 3), selected: selected)))
        #expect(try dns(inventory.collect(), a.pid).note?.contains(NamespaceReader.nobodyInside) == true)

        let ip = try #require(Executables.find("ip"))
        guard case .success(let sleeper) = Executables.spawn(ip, ["netns", "exec", netns, "sleep", "600"]) else {
            throw LabSetupError("cannot start a sleep in \(netns)")
        }
        defer { kill(sleeper, SIGKILL); Executables.waitFor(sleeper) }
        try #require(eventually(10) { ContainerJoin.identity("/proc/\(sleeper)/ns/net") == ContainerJoin.identity("/run/netns/\(netns)")
            && (try? Files.readText("/proc/\(sleeper)/comm")) == "sleep\n" }, "the sleep did not start in \(netns)")
        // Kept: no pass over /proc looked for it (one would name it).
        #expect(try dns(inventory.collect(), a.pid).note?.contains(NamespaceReader.nobodyInside) == true)
        // Once the namespace's reads are due again, a pass finds it.
        #expect(eventually(10) { (try? dns(inventory.collect(), a.pid).note)?.contains("PID \(sleeper) (sleep)") == true },
                "the sleep started in the namespace is never found")
    }

    @Test("after the monitor's selection moves, the row it left no longer shows DNS read for it as current")
    func nameserversDoNotOutliveTheSelection() throws {
        let lab = try TestLab("dnsmove")
        let (a, _, etcA) = try lab.startWithResolvConf("a", resolvConf: "nameserver 10.0.2.3\n", ipv6: false)
        defer { try? FileManager.default.removeItem(atPath: etcA) }
        let (b, sleeperB, etcB) = try lab.startWithResolvConf("b", resolvConf: "nameserver 10.0.2.3\n", ipv6: false)
        defer { try? FileManager.default.removeItem(atPath: etcB) }
        let cache = InventoryCache()
        let scanner = ProcessScanner()
        let first = Inventory(options: Inventory.Options(purpose: .monitor(cache: cache, selected: try #require(scanner.process(pid: a.pid)).identity)))
        #expect(try dns(first.collect(), a.pid).status == .match)
        let second = Inventory(options: Inventory.Options(purpose: .monitor(cache: cache, selected: try #require(scanner.process(pid: b.pid)).identity)))
        let instances = try second.collect()
        let left = try dns(instances, a.pid)
        #expect(left.status == .notObserved && left.note?.contains("selected instance read it") == true, "\(left)")
        #expect(try dns(instances, b.pid).note == "resolv.conf of PID \(sleeperB) (sleep)")
    }

    @Test("a user's slirp4netns whose namespace path links to root's namespace is not shown root's addresses: the namespace is not theirs")
    func userLinkToAnotherNamespaceIsRefused() throws {
        let lab = try TestLab("nslink")
        let victim = try lab.start(SlirpLab.Spec(name: "v", ipv6: false, apiSocket: false))
        let directory = try SafeFiles.makePrivateDirectory(prefix: "slirpmon-nslink")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #require(chmod(directory, 0o755) == 0)
        let link = "\(directory)/netns"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim.netnsPath)
        let fake = try UserFakeSlirp(["--configure", "--netns-type=path", link, "tap0"])
        defer { fake.stop() }

        let json = slirpmon(["show", String(fake.pid), "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        #expect(object["observed"] is NSNull, "root's namespace shown under nobody's instance: \(object["observed"] ?? "")")
        #expect((object["observe_error"] as? String)?.contains("is not owned by uid 65534, the process's user") == true, "\(json.stdout)")

        // The same for a link to PID 1's namespace (the host's): a magic link is never followed.
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/1/ns/net")
        let host = slirpmon(["show", String(fake.pid), "--json"])
        let hostObject = try #require(try JSONSerialization.jsonObject(with: Data(host.stdout.utf8)) as? [String: Any], "\(host.stderr)")
        #expect(hostObject["observed"] is NSNull, "the host's namespace shown under nobody's instance: \(hostObject["observed"] ?? "")")
        #expect((hostObject["observe_error"] as? String)?.contains("not entered") == true, "\(host.stdout)")
    }

    @Test("the join itself checks the owner on the descriptor it enters: a link swapped after the path was proven still reaches no namespace of root's")
    func joinChecksTheOwnerOnTheDescriptorJoined() throws {
        let lab = try TestLab("nsjoin")
        let victim = try lab.start(SlirpLab.Spec(name: "v", ipv6: false, apiSocket: false))
        #expect(throws: NamespaceReader.Failure.self) { try NamespaceReader.read(netnsPath: victim.netnsPath, interface: "tap0", owner: 65534) }
        do {
            _ = try NamespaceReader.read(netnsPath: victim.netnsPath, interface: "tap0", owner: 65534)
        } catch {
            #expect(error.description.contains("is not owned by uid 65534"), "\(error)")
        }
        // Root's own instance: no owner to check, read as before.
        #expect(try NamespaceReader.read(netnsPath: victim.netnsPath, interface: "tap0").ipv4 == ["10.0.2.100/24"])
        let interfaces = NamespaceInterfaces.read(netnsPath: victim.netnsPath, excluding: "tap0", owner: 65534)
        guard case .failure(.notOwned) = interfaces else { Issue.record("bridges read in a namespace nobody does not own: \(interfaces)"); return }
    }

    @Test("a root process at a rootless-netns-looking path is not a rootless network: root has none, so no containers are shown under it")
    func rootProcessClaimsNoRootlessNetwork() throws {
        let binary = try UserFakeSlirp.binary.get()
        guard case .success(let pid) = Executables.spawn(binary, ["--netns-type=path", "/run/user/1007/netns/rootless-netns-0123456789abcdef0123", "tap0"]) else {
            throw LabSetupError("cannot start root's fake slirp4netns")
        }
        defer { kill(pid, SIGKILL); Executables.waitFor(pid) }
        try #require(eventually(5) { (try? Files.readText("/proc/\(pid)/comm")) == "slirp4netns\n" })
        let json = slirpmon(["show", String(pid), "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        #expect(object.keys.contains("rootless_network") && object["rootless_network"] is NSNull, "\(json.stdout)")
    }
}
