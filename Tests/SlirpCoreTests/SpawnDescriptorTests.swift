import Foundation
import Glibc
import SlirpCore
import Testing

@Suite("a program slirpmon starts inherits only the descriptors it is given")
struct SpawnDescriptorTests {
    /// The descriptors `pid` has open (from /proc/PID/fd).
    static func openDescriptors(_ pid: pid_t) throws -> Set<Int32> {
        Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int32($0) })
    }

    @Test("a descriptor opened without close-on-exec (as NIO accepts connections in slirpmon serve) is not in the child, below or above the ones mapped; those are")
    func unmarkedDescriptorsAreNotInherited() throws {
        let leaked = open("/dev/null", O_RDONLY) // no O_CLOEXEC, as a library might leave one
        try #require(leaked >= 0)
        defer { close(leaked) }
        let given = open("/dev/null", O_WRONLY | O_CLOEXEC)
        try #require(given >= 0)
        defer { close(given) }
        guard case .success(let pid) = Executables.spawn("/bin/sleep", ["30"], descriptors: [1: given, 200: given]) else {
            Issue.record("cannot start /bin/sleep")
            return
        }
        defer { kill(pid, SIGKILL); Executables.waitFor(pid) }
        // Just after the exec the dynamic loader may hold a library open for a moment: a descriptor
        // inherited stays, so the child is looked at until it has what it should, 5 s at most.
        var fds = try Self.openDescriptors(pid)
        let until = Deadline.after(seconds: 5)
        while fds != [0, 1, 2, 200] && !until.hasPassed {
            usleep(20_000)
            fds = try Self.openDescriptors(pid)
        }
        #expect(fds == [0, 1, 2, 200], "the child has \(fds.sorted()); \(leaked) was open without close-on-exec in the parent")
    }
}
