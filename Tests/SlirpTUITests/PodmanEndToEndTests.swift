import Foundation
import SlirpCore
import SlirpTestSupport
import Testing

/// The real binary in tmux against real Podman containers this test creates (root only).
///
/// Every container is named uniquely and removed by name at the end; the monitor gets the
/// fixture's `CONTAINERS_CONF` so it asks the same Podman storage the test used.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun && PodmanFixture.available,
                             "\(TmuxHarness.unavailableReason ?? "podman or /bin/busybox missing (bash assets/setup.sh)")"))
struct PodmanEndToEndTests {
    var environment: [String: String] {
        ["CONTAINERS_CONF": ProcessInfo.processInfo.environment["CONTAINERS_CONF"] ?? "\(PodmanFixture.directory)/containers.conf"]
    }

    @Test func aForwardAddedThroughTheFormReachesARunningPodmanContainersWebServer() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("tui")
        let configured = Int(try DemoFleet.freeTCPPort().value)
        var added = Int(try DemoFleet.freeTCPPort().value)
        while added == configured { added = Int(try DemoFleet.freeTCPPort().value) }
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                                        "-p", "127.0.0.1:\(configured):80", PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        try #require(run.status == 0, "podman run failed: \(run.stderr)")
        #expect(eventually(20) { PodmanFixture.httpGet(port: configured)?.contains("slirpmon-fixture") == true },
                "the container's configured port does not serve")
        #expect(PodmanFixture.httpGet(port: added) == nil, "port \(added) answers before the forward exists")

        let tmux = TmuxHarness(width: 140, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor(environment: environment, filteredTo: name)
        let listed = tmux.waitFor(name, timeout: 30)
        #expect(listed.found, "the container's name is not in the list:\n\(listed.screen)")
        let details = tmux.waitFor("podman  \(name)")
        #expect(details.found, "no Podman details:\n\(details.screen)")
        #expect(details.screen.contains("-p 127.0.0.1:\(configured):80/tcp"))
        #expect(details.screen.contains("port handler slirp4netns"))

        tmux.send("3")
        let pane = tmux.waitFor("-p configured")
        #expect(pane.found, "Podman's own forward is not marked configured:\n\(pane.screen)")
        tmux.send("a")
        #expect(tmux.waitFor("Add forward to pid").found)
        tmux.type(String(added))
        tmux.send("Tab")
        tmux.type("80")
        #expect(tmux.waitFor("= 1 add_hostfwd request").found)
        tmux.send("Enter")
        let status = tmux.waitFor("added forward id")
        #expect(status.found, "no success status:\n\(status.screen)")

        var page: String?
        #expect(eventually(15) {
            page = PodmanFixture.httpGet(port: added)
            return page?.contains("slirpmon-fixture") == true
        }, "GET http://127.0.0.1:\(added)/ did not reach the container: \(page ?? "refused")")

        let marked = tmux.waitUntil { $0.contains("not persisted") && $0.contains("-p 127.0.0.1:\(added):80/tcp") }
        #expect(marked.found, "the live forward is not marked with its persist line:\n\(marked.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func aFailedStartIsFlaggedAndTheDoctorNamesTheMTU() throws {
        try PodmanFixture.prepare()
        let name = PodmanFixture.name("tui-mtu")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name]) }
        let run = PodmanFixture.podman(["run", "-d", "--name", name, "--network", "slirp4netns:mtu=65530",
                                        PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"])
        try #require(run.status != 0, "podman run with mtu=65530 unexpectedly worked")
        let state = PodmanFixture.podman(["container", "inspect", name, "--format", "{{.State.Status}}"])
        try #require(state.stdout.contains("created"), "the container is not left created: \(state.stdout) \(state.stderr)")

        let tmux = TmuxHarness(width: 140, height: 40)
        defer { tmux.tearDown() }
        try tmux.startMonitor(environment: environment, filteredTo: name)
        let listed = tmux.waitFor(name, timeout: 30)
        #expect(listed.found, "the failed container is not listed:\n\(listed.screen)")
        #expect(tmux.waitFor("FAILED").found)
        let details = tmux.waitFor("FAILED STARTUP")
        #expect(details.found, "no failed-startup details:\n\(details.screen)")
        #expect(details.screen.contains("mtu=65530"))

        tmux.send("D")
        #expect(tmux.waitFor("Doctor: \(name)").found)
        let verdict = tmux.waitFor("mtu-too-large", timeout: 40)
        #expect(verdict.found, "the doctor did not name the MTU:\n\(verdict.screen)")
        #expect(verdict.screen.contains("VERDICT") || verdict.screen.contains("FAIL  trial"))
        let monitor = tmux.monitorPID ?? -1
        tmux.send("Escape")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
        // The trial left no scratch namespace behind.
        let leftovers = sh("ip", ["netns", "list"]).stdout.split(separator: "\n").filter { $0.hasPrefix("slirpmon-doctor-\(monitor)-") }
        #expect(leftovers.isEmpty, "doctor namespaces left: \(leftovers)")
    }
}
