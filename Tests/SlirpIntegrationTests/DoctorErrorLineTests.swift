import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

extension DoctorScratch {
    /// A program named `name` that answers --help and --version as the real slirp4netns, and otherwise runs `body` (sh).
    func standIn(_ name: String, then body: String) throws -> String {
        let real = try #require(Executables.find("slirp4netns"))
        return try script(name, "#!/bin/sh\ncase \"$1\" in --help|-h|--version|-v) exec \(real) \"$1\" ;; esac\n" + body + "\n")
    }
}

/// The doctor on a real Podman container, as JSON and as text.
func doctorOnContainer(_ name: String) -> (status: Int32, json: [String: Any], text: String) {
    let out = slirpmon(["doctor", name, "--json"], timeout: 120)
    let json = (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [String: Any] ?? [:]
    let text = slirpmon(["doctor", name], timeout: 120)
    return (out.status, json, text.stdout + text.stderr)
}

@Suite("doctor: the error line, never a warning; Podman's own words as Podman prints them",
       .enabled(if: isRoot, "needs root: ip netns"), .serialized)
struct DoctorErrorLineTests {
    /// An interface of this host other than the loopback.
    func interfaceName() throws -> String {
        try #require(((try? Files.directoryEntries("/sys/class/net")) ?? []).sorted().first { $0 != "lo" }, "no network interface besides lo")
    }

    @Test("outbound_addr6=<interface>: the cause is slirp4netns's error line, not the WARNING printed after it, and the fix names an address")
    func outboundAddr6ErrorLine() throws {
        let s = try DoctorScratch("o6")
        let name = try interfaceName()
        let (out, json) = s.doctor(["--options", "outbound_addr6=\(name)"])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1, "\(out.stdout) \(out.stderr)")
        #expect(v.log.contains("WARNING: Support for --outbound-addr6 is experimental"), "the real log has the warning: \(v.log)")
        #expect(v.step == "trial")
        #expect(v.kind == "outbound-address-invalid", "\(v.verdict ?? [:])")
        #expect(v.cause?["evidence"] as? String == "outbound-addr has to be valid ipv4 address or iterface name.")
        let cause = v.cause?["cause"] as? String ?? ""
        #expect(!cause.contains("WARNING"), "\(cause)")
        #expect(v.fix.contains("outbound_addr=\(name)"), "\(v.fix)")
        let text = slirpmonWithConf(s, ["doctor", "--options", "outbound_addr6=\(name)"])
        let causeLine = text.stdout.split(separator: "\n").first { $0.hasPrefix("  cause:") } ?? ""
        #expect(causeLine.contains("outbound_addr6=\(name)") && !causeLine.contains("WARNING"), "\(text.stdout)")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    @Test("a slirp4netns that prints only warnings and exits: the doctor says so instead of quoting a warning as the cause")
    func onlyWarnings() throws {
        let s = try DoctorScratch("warn")
        let stub = try s.standIn("slirp4netns-warnings", then: """
        echo "WARNING: Support for seccomp is experimental"
        echo "WARNING: Support for IPv6 is experimental"
        exit 1
        """)
        try s.writeConf(["network_cmd_path = \"\(stub)\""])
        let (out, json) = s.doctor([])
        let v = DoctorVerdict(json: json)
        #expect(out.status == 1)
        #expect(v.kind == "unknown")
        let cause = v.cause?["cause"] as? String ?? ""
        #expect(cause.contains("only warnings"), "\(cause)")
        #expect(v.cause?["evidence"] is NSNull, "no warning is the evidence: \(v.cause ?? [:])")
        #expect(doctorLeftovers().isEmpty, "\(doctorLeftovers())")
    }

    func slirpmonWithConf(_ s: DoctorScratch, _ args: [String]) -> Executables.Output {
        let env = ContainersConf.processEnvironment.merging(["CONTAINERS_CONF": s.conf]) { $1 }.map { "\($0.key)=\($0.value)" }
        return (try? Executables.run(slirpmonBinary, args, timeout: 60, environment: env).get())
            ?? Executables.Output(status: -1, stdout: "", stderr: "could not run")
    }
}

@Suite("doctor CONTAINER: Podman's own message quoted as Podman prints it",
       .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"), .serialized)
struct DoctorPodmanMessageTests {
    @Test("outbound_addr6=<interface> on a container: the doctor quotes Podman's message exactly as podman start prints it")
    func podmanMessageQuotedExactly() throws {
        try PodmanFixture.prepare()
        let iface = try #require(((try? Files.directoryEntries("/sys/class/net")) ?? []).sorted().first { $0 != "lo" })
        let name = PodmanFixture.name("o6")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        let created = PodmanFixture.podman(["create", "--name", name, "--network", "slirp4netns:outbound_addr6=\(iface)", PodmanFixture.image, "sleep", "60"])
        try #require(created.status == 0, "\(created.stderr)")
        let start = PodmanFixture.podman(["start", name])
        #expect(start.status != 0, "Podman cannot start it: \(start.stdout)")
        let (status, json, _) = doctorOnContainer(name)
        #expect(status == 1)
        let v = DoctorVerdict(json: json)
        #expect(v.kind == "outbound-address-invalid")
        let said = try #require(v.details("trial").first { $0.contains("Podman says: ") }, "\(v.details("trial"))")
        let quoted = String(said[try #require(said.range(of: "Podman says: ")).upperBound...])
        #expect(start.stderr.contains(quoted), "podman start printed:\n\(start.stderr)\nthe doctor quotes:\n\(quoted)")
    }
}
