import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// An operator copies a slirp4netns PID from `list` and asks the doctor about it: the doctor examines
/// a container, and says what to run instead rather than Podman's "no such container" (for a
/// hand-started instance's PID: `ClearWordsTests`). Real rootful Podman.
@Suite("doctor with a slirp4netns PID says what to run instead", .enabled(if: isRoot, "needs root for rootful Podman"))
struct DoctorTargetTests {
    @Test("doctor PID of a container's slirp4netns names the doctor command for that container")
    func aContainersSlirpPIDNamesItsContainer() throws {
        try #require(PodmanFixture.available, "needs podman and busybox-static (apt-get install podman runc uidmap busybox-static)")
        try PodmanFixture.prepare()
        let name = "smt-dtpid-\(getpid())"
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns", PodmanFixture.image, "sleep", "600"])
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        try #require(run.status == 0, "\(run.stderr)")
        let id = try #require(run.stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) })
        var slirp: SlirpProcess?
        _ = eventually(10) { slirp = (try? ProcessScanner().scan())?.first { $0.containerID == id && !$0.isZombie }; return slirp != nil }
        let pid = try #require(slirp?.pid, "no slirp4netns for container \(id)")
        let out = slirpmon(["doctor", String(pid)], timeout: 60)
        #expect(out.status == 2, "status \(out.status): \(out.stderr)")
        #expect(out.stderr.contains("`slirpmon show pid:\(pid)`"), "\(out.stderr)")
        #expect(out.stderr.contains("`slirpmon doctor id:\(id.prefix(12))` examines its container \(name)"), "\(out.stderr)")
    }
}
