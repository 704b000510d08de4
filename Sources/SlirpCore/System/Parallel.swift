import Dispatch
import Foundation

/// Runs work that mostly waits (API requests: each waits for its slirp4netns to be scheduled
/// and answer) on more threads than there are cores; `concurrentPerform` keeps to one per core.
enum Parallel {
    /// Calls `body(i)` for every `i` in `0..<iterations`, on up to `width` threads (the caller's included).
    static func forEach(_ iterations: Int, width: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let threads = max(1, min(width, iterations))
        guard threads > 1 else {
            for i in 0..<iterations { body(i) }
            return
        }
        let next = Counter()
        let done = DispatchSemaphore(value: 0)
        let work: @Sendable () -> Void = {
            while let i = next.take(below: iterations) { body(i) }
        }
        for _ in 1..<threads {
            let thread = Thread { work(); done.signal() }
            thread.stackSize = 256 << 10
            thread.start()
        }
        work()
        for _ in 1..<threads { done.wait() }
    }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLockLite()
        func take(below limit: Int) -> Int? {
            lock.locked {
                guard value < limit else { return nil }
                defer { value += 1 }
                return value
            }
        }
    }
}

/// Work started now on the dispatch pool, its result taken later (`wait()`): for work that
/// waits on something else (Podman answering) while the caller goes on with its own. The pool
/// reuses its threads: the monitor starts one of these every refresh.
final class Pending<T: Sendable>: @unchecked Sendable {
    private let work: @Sendable () -> T
    private let done = DispatchSemaphore(value: 0)
    private var result: T? // written by the pool thread before `done` is signalled, read after

    init(_ work: @escaping @Sendable () -> T) {
        self.work = work
        DispatchQueue.global().async { [self] in
            result = self.work()
            done.signal()
        }
    }

    /// The result, once the work has finished.
    func wait() -> T {
        done.wait()
        done.signal() // a second wait() returns at once too
        return result ?? work() // always set by then
    }
}
