import Foundation
import Glibc
@testable import SlirpCore
import Testing

/// A kept forward list is used only while the instance's log proves no request came since: the
/// proof must refuse everything it does not cover.
@Suite("What an instance's log says about the requests it took")
struct RequestAuditTests {
    let request = APIMessage.listRequest()
    var echo: [UInt8] { Array("api_handler: got request: ".utf8) + request + [10] }

    @Test("our request's echo alone, with other output around it, proves no other request came")
    func ownEchoAlone() {
        #expect(RequestAudit.isOnlyEcho(of: request, in: echo))
        // slirp4netns 1.2 writes "apifd event" before each echo; other lines say nothing of requests.
        #expect(RequestAudit.isOnlyEcho(of: request, in: Array("apifd event\n".utf8) + echo))
        #expect(RequestAudit.isOnlyEcho(of: request, in: echo + Array("WARNING: something else\n".utf8)))
    }

    @Test("another request's echo, two echoes, none, or our echo cut or changed prove nothing")
    func anythingElse() {
        let add = Array(#"api_handler: got request: {"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":8080,"guest_port":80}}"#.utf8) + [10]
        #expect(!RequestAudit.isOnlyEcho(of: request, in: add))
        #expect(!RequestAudit.isOnlyEcho(of: request, in: echo + add), "a change after ours")
        #expect(!RequestAudit.isOnlyEcho(of: request, in: add + echo), "a change before ours")
        #expect(!RequestAudit.isOnlyEcho(of: request, in: echo + echo), "two lists: one was not ours")
        #expect(!RequestAudit.isOnlyEcho(of: request, in: Array("apifd event\n".utf8)), "no echo at all")
        #expect(!RequestAudit.isOnlyEcho(of: request, in: []))
        #expect(!RequestAudit.isOnlyEcho(of: request, in: Array(echo.dropLast(2))), "cut")
        #expect(!RequestAudit.isOnlyEcho(of: request, in: Array("api_handler: got request: {\"execute\":\"list_hostfwd\" }\n\n".utf8)), "not our bytes")
        #expect(!RequestAudit.isOnlyEcho(of: request, in: Array("api_handler: request: ".utf8) + request + [10]), "another format")
        // A request that carries the echo's words inside it is still a second echo.
        let sneaky = Array(#"api_handler: got request: {"x":"api_handler: got request: "}"#.utf8) + [10]
        #expect(!RequestAudit.isOnlyEcho(of: request, in: echo + sneaky))
    }

    @Test("listings alone since a list was true, by anyone, prove it still holds; another request, or a listing in other bytes, does not")
    func listingsOnly() {
        let add = Array(#"api_handler: got request: {"execute":"add_hostfwd","arguments":{"proto":"tcp","host_port":8080,"guest_port":80}}"#.utf8) + [10]
        let apifd = Array("apifd event\n".utf8)
        #expect(RequestAudit.areOnlyEchoes(of: request, in: apifd, atLeast: 0), "no request at all")
        #expect(!RequestAudit.areOnlyEchoes(of: request, in: apifd, atLeast: 1), "an answer still to prove needs its own echo")
        #expect(RequestAudit.areOnlyEchoes(of: request, in: echo + apifd + echo + echo, atLeast: 1), "other monitors' listings")
        #expect(!RequestAudit.areOnlyEchoes(of: request, in: echo + add + echo, atLeast: 1), "a change between listings")
        #expect(!RequestAudit.areOnlyEchoes(of: request, in: add, atLeast: 0))
        #expect(!RequestAudit.areOnlyEchoes(of: request, in: echo + Array("api_handler: got request: {\"execute\": \"list_hostfwd\"}\n\n".utf8), atLeast: 1),
                "another client's listing in other bytes")
        let sneaky = Array(#"api_handler: got request: {"x":"api_handler: got request: "}"#.utf8) + [10]
        #expect(!RequestAudit.areOnlyEchoes(of: request, in: echo + sneaky, atLeast: 1))
        #expect(!RequestAudit.areOnlyEchoes(of: request, in: Array(echo.dropLast(2)), atLeast: 1), "cut")
    }

    @Test("a mark is taken only of a regular file on fd 2, and moves with every write")
    func marks() throws {
        let path = "/tmp/slirpmon-audit-\(getpid())"
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        let null = open("/dev/null", O_WRONLY)
        defer { close(file); close(null); unlink(path) }
        func spawnSleeper(stderr: Int32) throws -> pid_t {
            try Executables.spawn("/bin/sleep", ["30"], descriptors: [2: stderr]).get()
        }
        let intoFile = try spawnSleeper(stderr: file)
        let intoNull = try spawnSleeper(stderr: null)
        defer { for pid in [intoFile, intoNull] { kill(pid, SIGKILL); _ = Executables.waitFor(pid) } }
        #expect(RequestAudit.mark(pid: intoNull) == nil, "/dev/null tells nothing")
        #expect(RequestAudit.mark(pid: 999_999_999) == nil, "no such process")
        let first = try #require(RequestAudit.mark(pid: intoFile))
        #expect(first.size == 0)
        #expect(RequestAudit.markAfterOnly(request, pid: intoFile, before: first) == nil, "no growth")
        _ = echo.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        let second = try #require(RequestAudit.mark(pid: intoFile))
        #expect(second.size == Int64(echo.count) && second != first)
        #expect(RequestAudit.markAfterOnly(request, pid: intoFile, before: first) == second, "the window holds our echo only")
        _ = echo.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        let third = try #require(RequestAudit.mark(pid: intoFile))
        #expect(RequestAudit.markAfterOnly(request, pid: intoFile, before: first) == nil, "two echoes")
        #expect(RequestAudit.markAfterOnly(request, pid: intoFile, before: second) == third, "the second alone")
        #expect(RequestAudit.markAfterOnly(request, pid: intoNull, before: first) == nil, "not a regular file")
        let elsewhere = RequestAudit.Mark(device: first.device, inode: first.inode &+ 1, size: 0, changedSeconds: 0, changedNanoseconds: 0)
        #expect(RequestAudit.markAfterOnly(request, pid: intoFile, before: elsewhere) == nil, "another file than before")
        // Cut and written again to the same length: still a change (the change time moves; it
        // moves by the kernel's clock tick, a few milliseconds, hence the wait).
        usleep(20_000)
        ftruncate(file, 0)
        _ = echo.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        _ = echo.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        let rewritten = try #require(RequestAudit.mark(pid: intoFile))
        #expect(rewritten.size == third.size)
        #expect(rewritten != third, "same length, told apart by its change time")
    }
    @Test("an answer kept unproven is proven by the log at its first lookup or when persisted, and forgotten when another request came")
    func unprovenAnswers() throws {
        let directory = "/tmp/slirpmon-audit-\(getpid())-dir"
        let path = "\(directory)/log"
        mkdir(directory, 0o700)
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        defer { close(file); unlink(path); _ = try? FileManager.default.removeItem(atPath: directory) }
        let pid = try Executables.spawn("/bin/sleep", ["30"], descriptors: [2: file]).get()
        defer { kill(pid, SIGKILL); _ = Executables.waitFor(pid) }
        let identity = ProcessIdentity(pid: pid, startTicks: 1)
        let forwards = [HostForward(id: 3, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 8080, guestAddr: "10.0.2.100", guestPort: 80)]
        func answer() throws -> InventoryCache.KeptForwards {
            InventoryCache.KeptForwards(path: "/x.sock", mark: try #require(RequestAudit.mark(pid: pid)), forwards: forwards)
        }
        let write = { (bytes: [UInt8]) in _ = bytes.withUnsafeBytes { Glibc.write(file, $0.baseAddress, $0.count) } }

        let cache = InventoryCache()
        cache.keepUnproven(try answer(), procRoot: "/proc", for: identity)
        write(echo) // slirp4netns takes the request
        let proven = try #require(cache.forwards(identity), "only our echo since: proven")
        #expect(proven.forwards == forwards && proven.mark == RequestAudit.mark(pid: pid), "kept with the log's mark now")

        cache.keepUnproven(try answer(), procRoot: "/proc", for: identity)
        write(echo)
        write(Array(#"api_handler: got request: {"execute":"remove_hostfwd","arguments":{"id":3}}"#.utf8) + [10])
        #expect(cache.forwards(identity) == nil, "another request came: forgotten")
        #expect(cache.forwards(identity) == nil, "and stays so")

        // Persisted: proven before it is written; the next run finds it proven.
        let facts = InventoryCache.ProcessFacts(uid: 0, user: nil, arguments: ["slirp4netns"], configuration: SlirpCommandLine.decode(["slirp4netns"]),
                                                containerID: nil, stdoutTarget: nil, stderrTarget: nil, socketInodes: nil, readAt: 0)
        let disk = ProcessFactsDiskCache(path: "\(directory)/facts", scope: Array("slirpmon-process-facts 2 test\n".utf8))
        let first = InventoryCache(file: disk)
        first.keep(facts, for: identity)
        first.keepUnproven(try answer(), procRoot: "/proc", for: identity)
        write(echo)
        first.persist()
        let next = InventoryCache(file: disk)
        #expect(next.forwards(identity)?.forwards == forwards)
        #expect(next.forwards(identity)?.mark == RequestAudit.mark(pid: pid))
    }
    @Test("a log on a filesystem without room proves nothing: an answer is not proven there, a kept one not trusted",
          .enabled(if: geteuid() == 0, "needs root to mount a small tmpfs and run slirp4netns"))
    func logWithoutRoom() throws {
        let directory = "/tmp/slirpmon-audit-full-\(getpid())"
        mkdir(directory, 0o700)
        defer { rmdir(directory) }
        guard case .success(let mounted) = Executables.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", directory], timeout: 10),
              mounted.status == 0 else { Issue.record("cannot mount a tmpfs on \(directory)"); return }
        defer { _ = Executables.run("/bin/umount", ["-l", directory], timeout: 10) }
        // A real slirp4netns whose log (its stdout and stderr) is on the small tmpfs.
        let lab = try SlirpLab(prefix: "audit-full-\(getpid())", parent: directory)
        defer { lab.tearDown() }
        let instance = try lab.start(.init(name: "f"))
        let pid = instance.pid
        #expect(!RequestAudit.hasRoom(pid: pid), "256 KiB is less than the room asked for")
        let identity = ProcessIdentity(pid: pid, startTicks: 1)
        let before = try #require(RequestAudit.mark(pid: pid))
        let cache = InventoryCache()
        #expect(!cache.logHasRoom(before, pid: pid, procRoot: "/proc"))
        cache.keepUnproven(InventoryCache.KeptForwards(path: "/x.sock", mark: before, forwards: []), procRoot: "/proc", for: identity)
        // Our request, echoed by slirp4netns itself into that log.
        #expect(try APIClient(socketPath: try #require(instance.apiSocket), expectedPID: pid).list().isEmpty)
        #expect(RequestAudit.markAfterOnly(request, pid: pid, before: before) != nil, "the window alone would prove it")
        #expect(cache.forwards(identity) == nil, "not on a filesystem without room")
    }
}
