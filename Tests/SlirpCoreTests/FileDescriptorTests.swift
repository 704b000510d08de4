import Foundation
import Glibc
@testable import SlirpCore
import Testing

/// The one syscall layer: a signal that interrupts a call (a terminal resize, a child's exit)
/// never turns into a failed read or wait, and failures carry errno by name.
@Suite("The file-descriptor layer: EINTR retried inside, errno by name")
struct FileDescriptorTests {
    /// A pipe whose read end is given a byte only after `signal` has hit `thread` ten times while
    /// it slept in the kernel (its state `S` in /proc: blocked in a call): a call blocked on the
    /// read end is interrupted, however late a loaded machine runs either thread.
    static func interruptedPipe(signalling thread: pthread_t, task: pid_t) throws -> (read: FileDescriptor, write: FileDescriptor) {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        let reader = FileDescriptor(rawValue: ends[0]), writer = FileDescriptor(rawValue: ends[1])
        Thread.detachNewThread {
            var delivered = 0
            let deadline = Deadline.after(seconds: 60)
            while delivered < 10 && !deadline.hasPassed {
                usleep(10_000)
                guard let stat = try? Files.readText("/proc/self/task/\(task)/stat"),
                      let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "S" else { continue }
                pthread_kill(thread, SIGUSR2)
                delivered += 1
            }
            try? writer.writeAll([0x2A])
        }
        return (reader, writer)
    }

    /// The calling thread's task ID (`/proc/thread-self` names `PID/task/TID`).
    static func currentTask() throws -> pid_t {
        try #require((try? Files.readLink("/proc/thread-self")).flatMap { $0.split(separator: "/").last.flatMap { pid_t($0) } })
    }

    /// SIGUSR2 handled by a function that does nothing, without SA_RESTART (the kernel ends a
    /// blocked call with EINTR instead of restarting it, as under a handler a library installs),
    /// and let through to the calling thread, whose signal mask `body` runs with.
    static func withInterruptingSignal<R>(_ body: () throws -> R) rethrows -> R {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR2, &action, nil)
        var usr2 = sigset_t(), previous = sigset_t()
        sigemptyset(&usr2)
        sigaddset(&usr2, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &usr2, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    /// The set-up interrupts for real: a plain `read` on such a pipe fails with EINTR.
    static func plainReadIsInterrupted() throws -> Bool {
        let (reader, writer) = try interruptedPipe(signalling: pthread_self(), task: try currentTask())
        defer { reader.close(); writer.close() }
        var byte: UInt8 = 0
        let n = Glibc.read(reader.rawValue, &byte, 1)
        return n == -1 && errno == EINTR
    }

    /// `call` on the read end of a pipe whose byte comes only after signals interrupted the wait.
    static func waitingThroughSignals(_ call: (FileDescriptor) throws -> Bool) throws -> Bool {
        try withInterruptingSignal {
            #expect(try plainReadIsInterrupted(), "the set-up does not interrupt a blocked call: the test would prove nothing")
            let (reader, writer) = try interruptedPipe(signalling: pthread_self(), task: try currentTask())
            defer { reader.close(); writer.close() }
            return try call(reader)
        }
    }

    @Test("a signal that arrives while slirpmon waits on a pipe does not fail the read")
    func readSurvivesSignals() throws {
        #expect(try Self.waitingThroughSignals { reader in
            var byte: UInt8 = 0
            let n = try withUnsafeMutableBytes(of: &byte) { try reader.read(into: $0, path: "pipe") }
            return n == 1 && byte == 0x2A
        })
    }

    @Test("a signal that arrives while slirpmon polls waits on until the byte comes, within the deadline")
    func pollSurvivesSignals() throws {
        #expect(try Self.waitingThroughSignals { reader in
            var entry = pollfd(fd: reader.rawValue, events: Int16(POLLIN), revents: 0)
            return FileDescriptor.poll(&entry, until: .after(seconds: 10)) == 1
        })
    }

    @Test("a file longer than one read is read whole, byte for byte, by every reader; a window by offset is exact")
    func readsAreWhole() throws {
        let path = "/tmp/slirpmon-fd-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        let bytes = (0..<100_003).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try SafeFiles.writeNew(bytes, to: path)
        defer { unlink(path) }
        #expect(try Files.readBytes(path) == bytes)
        #expect(try Files.readProcessFile(path) == bytes)
        #expect(try Files.readBytes(path, limit: 40_000) == Array(bytes[..<40_000]))
        let fd = try SafeFiles.openForReading(path)
        defer { fd.close() }
        #expect(try fd.read(fromAbsoluteOffset: 99_000, count: 2_000) == Array(bytes[99_000...]), "cut at the end of the file")
        #expect(try fd.read(fromAbsoluteOffset: 17, count: 20_000) == Array(bytes[17..<20_017]))
    }

    @Test("a missing file is named, not numbered: noSuchFileOrDirectory, and its path in the text")
    func errnoByName() {
        let missing = "/tmp/slirpmon-missing-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        #expect {
            _ = try FileDescriptor.open(missing, .readOnly, options: .closeOnExec)
        } throws: { error in
            guard let error = error as? SystemError else { return false }
            return error.errno == .noSuchFileOrDirectory && error.isGone && error.description == "open(\(missing)): No such file or directory"
        }
    }
}
