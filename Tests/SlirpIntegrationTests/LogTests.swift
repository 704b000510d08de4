import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

@Suite("The unlinked log, read through /proc/PID/fd")
struct LogTests {
    @Test("the log Podman-style unlinked is read, with its original path, and followed by offset",
          .enabled(if: isRoot, "needs root for ip netns"))
    func readsAndFollowsUnlinkedLog() throws {
        let lab = try TestLab("log")
        let instance = try lab.start(.init(name: "l"))
        #expect(!Files.exists(instance.logPath), "the log's name is gone, as with Podman")
        let log = try UnlinkedLog(pid: instance.pid)
        #expect(log.originalPath == instance.logPath)
        #expect(log.isDeleted)
        #expect(log.fd == 1)
        let start = try log.tail(maxBytes: 64 << 10)
        #expect(start.text.contains("sent tapfd="))
        #expect(start.startOffset == 0 && !start.truncatedBefore)

        // A request lands in the log; following from the old end shows only the new bytes.
        _ = try APIClient(socketPath: try #require(instance.apiSocket)).list()
        let grown = eventually { ((try? log.size()) ?? 0) > start.endOffset }
        #expect(grown)
        let next = try log.read(from: start.endOffset)
        #expect(next.text.contains(#"api_handler: got request: {"execute":"list_hostfwd"}"#))
        #expect(!next.text.contains("sent tapfd="))
        #expect(next.startOffset == start.endOffset)
    }

    @Test("a 1 GiB log opens by reading only its tail", .enabled(if: isRoot, "needs root to run slirp4netns"))
    func hugeLogTailOnly() throws {
        // A sparse 1 GiB file as stdout of a real slirp4netns: costs no disk, but is 1 GiB long
        // (its own start-up lines land at the front, through a descriptor without O_APPEND).
        let path = "/tmp/slirpmon-hugelog-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        let gib: Int64 = 1 << 30
        #expect(ftruncate(fd, off_t(gib)) == 0)
        let lastLine = "\nlast line of a very long log\n"
        _ = lastLine.withCString { pwrite(fd, $0, strlen($0), off_t(gib)) }
        let slirp = try LoggingSlirp(stdout: fd)
        let pid = slirp.pid
        #expect(eventually { (try? Files.readLink("/proc/\(pid)/fd/1")) == path })
        let log = try UnlinkedLog(pid: pid)
        #expect(try log.size() == gib + Int64(lastLine.utf8.count))
        let tail = try log.tail(maxBytes: 4096)
        #expect(tail.text == "last line of a very long log\n", "starts after the partial line")
        #expect(tail.text.utf8.count <= 4096)
        #expect(tail.truncatedBefore)
        #expect(tail.endOffset == gib + Int64(lastLine.utf8.count))
        #expect(!log.isDeleted)
    }

    @Test("stdout on a pipe is refused without reading from it", .enabled(if: isRoot, "needs root to run slirp4netns"))
    func pipeIsNotRead() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let slirp = try LoggingSlirp(stdout: fds[1], stderr: fds[1])
        close(fds[1])
        let pid = slirp.pid
        #expect(eventually { (try? Files.readLink("/proc/\(pid)/fd/1"))?.hasPrefix("pipe:") == true })
        #expect(throws: UnlinkedLog.Failure.self) { try UnlinkedLog(pid: pid) }
        do {
            _ = try UnlinkedLog(pid: pid)
        } catch {
            #expect(error.description.contains("does not log to a file"))
        }
    }
}
