import Foundation
import SlirpCore
import SlirpTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The monitor on other users' instances: what it may not check it says so (the word `list`
/// uses), and root is told whose instance it acts on.
@Suite(.serialized, .enabled(if: TmuxHarness.canRun && PodmanFixture.available,
                             "\(TmuxHarness.unavailableReason ?? "podman or /bin/busybox missing (bash assets/setup.sh)")"))
struct PermissionMonitorTests {
    /// A running container of the rootless fixture user with an API socket, and its slirp4netns PID (from root's `list`).
    func rootlessContainer(_ base: String) throws -> (user: (name: String, uid: UInt32), name: String, pid: Int32) {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name(base)
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.runWebServer(name, port: port, user: user)
        try #require(run.status == 0, "\(run.stderr)")
        let out = slirpmon(["list", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]], "\(out.stderr)")
        let row = try #require(rows.first { ($0["container"] as? [String: Any])?["name"] as? String == name })
        return (user, name, Int32(try #require(row["pid"] as? Int)))
    }

    @Test func anotherUsersMonitorSaysARootlessUsersSocketCannotBeCheckedNotThatItIsMissing() throws {
        let (user, name, pid) = try rootlessContainer("tui-perm")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        try #require(try Files.status("/run/user/\(user.uid)").st_mode & 0o077 == 0, "/run/user/\(user.uid) must be private (0700) for this test")
        guard let binary = TmuxHarness.binary, let setpriv = Executables.find("setpriv") else { throw HarnessError("no slirpmon binary or setpriv") }
        openToOtherUsers(binary)

        let tmux = TmuxHarness(width: 230, height: 40)
        defer { tmux.tearDown() }
        chmod(tmux.directory, 0o777)
        try tmux.start("\(setpriv) --reuid=65534 --regid=65534 --clear-groups -- env HOME=/nonexistent \(binary) -d 0.5; echo EXITED $?; sleep 120")
        #expect(tmux.waitFor("F10Quit").found, "\(tmux.capture())")
        tmux.filter(String(pid))
        let row = tmux.waitUntil { screen in screen.split(separator: "\n").contains { $0.contains(" \(pid) ") && $0.contains(" unverified ") } }
        #expect(row.found, "the API column does not say unverified (the word `list` uses):\n\(row.screen)")
        let details = tmux.waitFor("cannot be checked as this user (permission denied): /run/user/\(user.uid) is not searchable")
        #expect(details.found, "\(details.screen)")
        #expect(!details.screen.contains("missing"), "stat's EACCES shown as a missing socket:\n\(details.screen)")
        #expect(!details.screen.contains("restart"), "a restart offered for what was not checked:\n\(details.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }

    @Test func rootsMonitorSaysItActsOnARootlessUsersInstanceAndPersistsAsThatUser() throws {
        let (user, name, _) = try rootlessContainer("tui-acting")
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
        let live = Int(try DemoFleet.freeTCPPort().value)
        let add = slirpmon(["fwd", "add", name, "127.0.0.1:\(live):80"])
        try #require(add.status == 0, "\(add.stderr)")

        let tmux = TmuxHarness(width: 200, height: 45)
        defer { tmux.tearDown() }
        let conf = ProcessInfo.processInfo.environment["CONTAINERS_CONF"] ?? "\(PodmanFixture.directory)/containers.conf"
        try tmux.startMonitor(environment: ["CONTAINERS_CONF": conf], filteredTo: name)
        let details = tmux.waitFor("as root, on \(user.name)'s instance; its Podman commands run as \(user.name)", timeout: 30)
        #expect(details.found, "\(details.screen)")
        tmux.send("3")
        let notes = tmux.waitFor("runuser -l \(user.name) -s /bin/sh -c 'podman rm -f \(name)'")
        #expect(notes.found, "the remove step is not the user's:\n\(notes.screen)")
        #expect(notes.screen.contains("runuser -l \(user.name) -s /bin/sh -c '"), "\(notes.screen)")
        tmux.send("q")
        #expect(tmux.waitFor("EXITED 0").found)
    }
}
