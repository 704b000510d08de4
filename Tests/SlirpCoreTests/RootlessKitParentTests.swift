import Foundation
import Glibc
import Testing
@testable import SlirpCore

/// RootlessKit's command line and a RootlessKit found only through the files it holds, on a
/// /proc tree written for the test (its `exe` links to the installed rootlesskit, so the inode check holds).
@Suite("RootlessKit's flags and state directory")
struct RootlessKitParentTests {
    @Test("rootlesskit's flags are read as urfave/cli reads them, and only before its command: a --state-dir or --port-driver among the command's arguments is the command's")
    func flagsStopAtTheCommand() {
        let spaced = RootlessKitParent.Flags(["--net", "slirp4netns", "--debug", "-port-driver", "slirp4netns", "--state-dir", "/run/user/1/rk", "sleep", "1"])
        #expect(spaced.portDriver == "slirp4netns" && spaced.stateDir == "/run/user/1/rk" && spaced.debug)
        let command = RootlessKitParent.Flags(["--net=slirp4netns", "--disable-host-loopback", "sh", "-c", "x", "--port-driver=builtin", "--state-dir=/root"])
        #expect(command.portDriver == "none", "rootlesskit 1.1's default; the command's argument is not rootlesskit's")
        #expect(command.stateDir == nil)
        #expect(!command.debug)
    }

    @Test("with no --state-dir and no ROOTLESSKIT_STATE_DIR in the child's environment, the state directory is the one of the lock file rootlesskit holds open (open_files)")
    func stateDirFromOpenFiles() throws {
        guard let installed = RootlessKitParent.installedPaths.first(where: { access($0, X_OK) == 0 }) else {
            Issue.record("rootlesskit is not installed: run assets/setup.sh")
            return
        }
        let root = "/tmp/smt-rkproc-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (kit, child, slirp): (Int32, Int32, Int32) = (500, 501, 502)
        func make(_ path: String) throws { try FileManager.default.createDirectory(atPath: "\(root)/\(path)", withIntermediateDirectories: true) }
        func write(_ text: String, _ path: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(root)/\(path)")) }
        func stat(_ pid: Int32, _ comm: String, parent: Int32) -> String {
            "\(pid) (\(comm)) S \(parent) \(parent) 1 0 -1 4194304 128 0 0 0 0 0 0 0 20 0 1 0 3326940 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        }
        for pid in [kit, child, slirp] { try make("\(pid)/fd"); try make("\(pid)/task/\(pid)") }
        symlink(installed, "\(root)/\(kit)/exe")
        try write("rootlesskit\0--net=slirp4netns\0--port-driver=builtin\0sleep\0600\0", "\(kit)/cmdline")
        try write(stat(kit, "rootlesskit", parent: 1), "\(kit)/stat")
        symlink("/tmp/rootlesskit42/lock", "\(root)/\(kit)/fd/7")
        symlink("/dev/pts/3", "\(root)/\(kit)/fd/2")
        symlink("pipe:[77]", "\(root)/\(kit)/fd/14")
        try write(stat(child, "exe", parent: kit), "\(child)/stat")
        try write("PATH=/usr/bin\0", "\(child)/environ")
        try write("", "\(child)/task/\(child)/children")
        let arguments = ["slirp4netns", "--mtu", "65520", "-r", "3", String(child), "tap0"]
        let process = SlirpProcess(identity: ProcessIdentity(pid: slirp, startTicks: 1), parentPID: kit, state: "S", uid: geteuid(), user: "root",
                                   startTime: 0, uptimeSeconds: 1, residentBytes: 0, cpuSeconds: 0, arguments: arguments,
                                   configuration: SlirpCommandLine.decode(arguments), configurationSource: .commandLine(readAt: 0), containerID: nil,
                                   stdoutTarget: "pipe:[77]", stderrTarget: "pipe:[77]", socketInodes: nil, problems: [:])
        let found = try #require(RootlessKitParent.of(process, procRoot: root))
        #expect(found.stateDir == "/tmp/rootlesskit42")
        #expect(found.stateDirSource == .openFiles)
        #expect(found.apiSocket == "/tmp/rootlesskit42/api.sock")
        #expect(found.portDriver == "builtin")
        #expect(found.child?.pid == child && found.child?.command == [])
        #expect(found.log == "a pipe read by rootlesskit (pid \(kit)), which drops it: rootlesskit logs slirp4netns's output only with --debug")
        // The same tree with exe pointing at a copy (not the installed file): not RootlessKit.
        unlink("\(root)/\(kit)/exe")
        symlink("/bin/sleep", "\(root)/\(kit)/exe")
        #expect(RootlessKitParent.of(process, procRoot: root) == nil)
    }
}
