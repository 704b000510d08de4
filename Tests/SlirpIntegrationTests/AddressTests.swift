import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

@Suite("Computed addresses against what the namespace really has", .enabled(if: isRoot, "needs root for ip netns"))
struct AddressTests {
    func checks(_ pid: Int32) throws -> [String: AddressCheck] {
        let process = try #require(ProcessScanner().process(pid: pid))
        let options = Inventory.Options(purpose: .scriptedList(forwards: false, cache: nil))
        let instance = Inventory(options: options).inspect(process)
        return Dictionary(instance.addressChecks.map { ($0.role, $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("default network: guest 10.0.2.100/24 and gateway 10.0.2.2 are really there")
    func defaultNetworkMatches() throws {
        let lab = try TestLab("addr")
        let instance = try lab.start(.init(name: "d", apiSocket: false))
        let rows = try checks(instance.pid)
        #expect(rows["guest"]?.status == .match)
        #expect(rows["guest"]?.observed == "10.0.2.100/24")
        #expect(rows["gateway"]?.observed == "10.0.2.2")
        #expect(rows["gateway"]?.status == .match)
        #expect(rows["mtu"]?.observed == "65520")
        #expect(rows["dns"]?.expected == "10.0.2.3")
        #expect(rows["guest6"] == nil, "IPv6 is off")
    }

    @Test("custom cidr with IPv6: 10.99.128.100/17, gateway .2, SLAAC address in fd00::/64")
    func customNetworkAndIPv6Match() throws {
        let lab = try TestLab("addr6")
        let instance = try lab.start(.init(name: "c", cidr: "10.99.128.0/17", ipv6: true, apiSocket: false))
        let rows = try checks(instance.pid)
        #expect(rows["guest"]?.observed == "10.99.128.100/17")
        #expect(rows["guest"]?.status == .match)
        #expect(rows["gateway"]?.observed == "10.99.128.2")
        // SLAAC needs a router advertisement: give it a moment.
        let slaac = eventually(10) { (try? checks(instance.pid))?["guest6"]?.status == .match }
        #expect(slaac)
        let later = try checks(instance.pid)
        #expect(later["guest6"]?.observed?.hasPrefix("fd00::") == true)
        #expect(later["gateway6"]?.status == .match)
    }

    @Test("an address changed inside the namespace is flagged as a mismatch")
    func changedAddressIsMismatch() throws {
        let lab = try TestLab("mism")
        let instance = try lab.start(.init(name: "m", apiSocket: false))
        let ns = try #require(instance.netnsName)
        // Deleting the primary address also drops the default route: both must show.
        #expect(sh("ip", ["netns", "exec", ns, "ip", "addr", "del", "10.0.2.100/24", "dev", "tap0"]).status == 0)
        #expect(sh("ip", ["netns", "exec", ns, "ip", "addr", "add", "10.0.2.99/24", "dev", "tap0"]).status == 0)
        let rows = try checks(instance.pid)
        #expect(rows["guest"]?.status == .mismatch)
        #expect(rows["guest"]?.observed == "10.0.2.99/24")
        #expect(rows["gateway"]?.status == .mismatch)
        #expect(rows["gateway"]?.observed == nil)
    }

    @Test("reading through a process inside the namespace agrees with joining the namespace")
    func readingViaProcessAgreesWithSetns() throws {
        let lab = try TestLab("via")
        let instance = try lab.start(.init(name: "v", apiSocket: false))
        let ns = try #require(instance.netnsName)
        guard case .success(let sleeper) = Executables.spawn(try #require(Executables.find("ip")), ["netns", "exec", ns, "sleep", "30"]) else {
            Issue.record("cannot start a process in the namespace"); return
        }
        defer { kill(sleeper, SIGKILL); Executables.waitFor(sleeper) }
        let inside = eventually { NamespaceReader.processInside(netnsPath: instance.netnsPath) != nil }
        #expect(inside)
        let pid = try #require(NamespaceReader.processInside(netnsPath: instance.netnsPath))
        let viaProcess = try NamespaceReader.read(viaProcess: pid, interface: "tap0")
        let viaSetns = try NamespaceReader.read(netnsPath: instance.netnsPath, interface: "tap0")
        #expect(viaProcess.ipv4 == ["10.0.2.100/24"])
        #expect(viaProcess.ipv4 == viaSetns.ipv4)
        #expect(viaProcess.ipv4Gateway == viaSetns.ipv4Gateway)
    }

    @Test("a namespace deleted under a running instance is reported, not fatal")
    func deletedNamespaceIsReported() throws {
        let lab = try TestLab("gone")
        let instance = try lab.start(.init(name: "g", apiSocket: false))
        let ns = try #require(instance.netnsName)
        #expect(sh("ip", ["netns", "delete", ns]).status == 0)
        let process = try #require(ProcessScanner().process(pid: instance.pid))
        let inspected = Inventory(options: .init(purpose: .show)).inspect(process)
        #expect(inspected.observed == nil)
        #expect(inspected.observeError?.contains("no longer exists") == true)
        #expect(inspected.addressChecks.first { $0.role == "guest" }?.status == .notObserved)
    }
}
