import Dispatch
import Foundation
import Synchronization

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
        let next = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        let work: @Sendable () -> Void = {
            while let i = next.withLock({ value -> Int? in
                guard value < iterations else { return nil }
                defer { value += 1 }
                return value
            }) { body(i) }
        }
        for _ in 1..<threads {
            let thread = Thread { work(); done.signal() }
            thread.stackSize = 256 << 10
            thread.start()
        }
        work()
        for _ in 1..<threads { done.wait() }
    }
}

/// Fixed slots written from concurrent iterations, one slot per index.
final class ResultSlots<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ i: Int, _ value: T) { slots.withLock { $0[i] = value } }
    var values: [T] { slots.withLock { $0.compactMap { $0 } } }
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
