import Synchronization

/// Undo actions for everything a trial run creates (namespace, processes, files),
/// run once, newest first, from whichever thread gets there first: the trial itself
/// when it ends, or a signal handler thread on Ctrl-C.
public final class TrialCleanup: Sendable {
    private struct State {
        var actions: [(String, @Sendable () -> Void)] = []
        var done = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Registers `action` (described by `what`); runs it at once when cleanup already happened.
    public func add(_ what: String, _ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.done { return true }
            state.actions.append((what, action))
            return false
        }
        if runNow { action() }
    }

    /// Runs every registered action once, newest first. Later calls do nothing.
    /// Returns what was undone, in order.
    @discardableResult
    public func run() -> [String] {
        let pending = state.withLock { state -> [(String, @Sendable () -> Void)] in
            if state.done { return [] }
            state.done = true
            defer { state.actions.removeAll() }
            return state.actions
        }
        for (_, action) in pending.reversed() { action() }
        return pending.reversed().map(\.0)
    }

    /// Runs the actions registered since `mark` (see `count`), leaving earlier ones.
    public func run(since mark: Int) {
        let pending = state.withLock { state -> [(String, @Sendable () -> Void)] in
            guard !state.done, mark < state.actions.count else { return [] }
            let tail = Array(state.actions[mark...])
            state.actions.removeSubrange(mark...)
            return tail
        }
        for (_, action) in pending.reversed() { action() }
    }

    /// How many actions are registered (a mark for `run(since:)`).
    public var count: Int { state.withLock { $0.actions.count } }
}
