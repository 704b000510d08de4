#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// SIGINT, SIGTERM and SIGHUP, the one way slirpmon takes them: blocked in every thread and
/// received by one thread that waits for them (`sigwait`), never by a handler. What follows a
/// signal (removing a trial's namespace, restoring the terminal, saying what was removed, the
/// exit status) is then ordinary code on an ordinary thread: a handler may call only
/// async-signal-safe functions, so it could do none of that.
///
/// Block before any other thread starts (a thread started earlier keeps its own mask and would
/// take the signal with the default action). Dispatch's threads block them themselves; children
/// started with `Executables.spawn` get an empty mask and default dispositions.
public enum TerminationSignals {
    /// The signals that ask slirpmon to end.
    public static let numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in numbers { sigaddset(&set, s) }
        return set
    }

    /// Blocks them in the calling thread and in the threads it starts from now on. The corresponding
    /// C function is `pthread_sigmask`.
    public static func block() {
        var signals = set
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Unblocks them in the calling thread: one received from now on takes its disposition (after the
    /// monitor, the default: the process ends).
    public static func unblock() {
        var signals = set
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Waits until one arrives and returns its number (they must be blocked: `block`). The corresponding
    /// C function is `sigwait`.
    public static func wait() -> Int32 {
        var signals = set
        var received: Int32 = 0
        while sigwait(&signals, &received) != 0 {} // fails only for an invalid set
        return received
    }

    /// Waits at most `seconds` for one (they must be blocked: `block`): its number, or nil when none
    /// came in time. A loop sleeps here between its rounds, so a signal ends it at once, between two
    /// rounds, without a handler or a thread. The corresponding C function is `sigtimedwait`.
    public static func wait(upTo seconds: Double) -> Int32? {
        var signals = set
        let whole = max(0, seconds)
        var timeout = timespec(tv_sec: Int(whole), tv_nsec: Int((whole - whole.rounded(.down)) * 1e9))
        let deadline = Deadline.after(seconds: whole)
        while true {
            let received = sigtimedwait(&signals, nil, &timeout)
            if received > 0 { return received }
            guard errno == EINTR, !deadline.hasPassed else { return nil } // EAGAIN: the time is up
            let current = Deadline.now.nanoseconds
            let left = deadline.nanoseconds > current ? deadline.nanoseconds - current : 0
            timeout = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        }
    }

    /// Blocks them, then calls `handler` with each one received, in turn, on a thread of its own
    /// (a second signal waits until `handler` has returned). `handler` may do anything; it often ends the process.
    public static func handle(_ handler: @escaping @Sendable (Int32) -> Void) {
        block()
        let thread = Thread {
            while true { handler(wait()) }
        }
        thread.start()
    }
}
