import Foundation
import Glibc
@testable import SlirpCore
import Testing

/// The one syscall layer: a signal that interrupts a call (a terminal resize, a child's exit)
/// never turns into a failed read or wait, and failures carry errno by name.
@Suite("The file-descriptor layer: EINTR retried inside, errno by name")
struct FileDescriptorTests {
    /// The system calls a thread waits in on a pipe's read end: read, poll and ppoll.
    #if arch(x86_64)
    static let waitingCalls: Set<Int> = [0, 7, 271]
    #elseif arch(arm64)
    static let waitingCalls: Set<Int> = [63, 73]
    #endif

    /// A pipe whose read end is given a byte only after SIGUSR2 has hit `thread` ten times while it
    /// was blocked in one of `waitingCalls` (`/proc/self/task/TID/syscall` names the call a blocked
    /// task is in): a call waiting on the read end is interrupted, however late a loaded machine
    /// runs either thread, and never a lock or sleep elsewhere (a signal there interrupts nothing).
    final class InterruptedPipe: @unchecked Sendable {
        let reader: FileDescriptor
        private let writer: FileDescriptor
        private let state = NSCondition()
        private var stopped = false, finished = false

        init(signalling thread: pthread_t, task: pid_t) throws {
            var ends: [Int32] = [-1, -1]
            try #require(pipe(&ends) == 0)
            reader = FileDescriptor(rawValue: ends[0])
            writer = FileDescriptor(rawValue: ends[1])
            Thread.detachNewThread { [self] in
                var delivered = 0
                let deadline = Deadline.after(seconds: 60)
                while delivered < 10 && !deadline.hasPassed && !isStopped {
                    usleep(10_000)
                    guard let text = try? Files.readText("/proc/self/task/\(task)/syscall"),
                          let call = text.split(separator: " ").first.flatMap({ Int($0) }),
                          FileDescriptorTests.waitingCalls.contains(call) else { continue }
                    pthread_kill(thread, SIGUSR2)
                    delivered += 1
                }
                if !isStopped { try? writer.writeAll([0x2A]) }
                state.lock()
                finished = true
                state.broadcast()
                state.unlock()
            }
        }

        private var isStopped: Bool {
            state.lock()
            defer { state.unlock() }
            return stopped
        }

        /// Stops the signalling thread, waits for it, then closes both ends (not before: a number
        /// closed early could be the next pipe's, and its byte would go there).
        func close() {
            state.lock()
            stopped = true
            while !finished { state.wait() }
            state.unlock()
            reader.close()
            writer.close()
        }
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
        let pipe = try InterruptedPipe(signalling: pthread_self(), task: try currentTask())
        defer { pipe.close() }
        var byte: UInt8 = 0
        let n = Glibc.read(pipe.reader.rawValue, &byte, 1)
        return n == -1 && errno == EINTR
    }

    /// `call` on the read end of a pipe whose byte comes only after signals interrupted the wait.
    static func waitingThroughSignals(_ call: (FileDescriptor) throws -> Bool) throws -> Bool {
        try withInterruptingSignal {
            #expect(try plainReadIsInterrupted(), "the set-up does not interrupt a blocked call: the test would prove nothing")
            let pipe = try InterruptedPipe(signalling: pthread_self(), task: try currentTask())
            defer { pipe.close() }
            return try call(pipe.reader)
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
