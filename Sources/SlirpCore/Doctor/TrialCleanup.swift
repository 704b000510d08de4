/// Undo actions for everything a trial run creates (namespace, processes, files),
/// run once, newest first, from whichever thread gets there first: the trial itself
/// when it ends, or a signal handler thread on Ctrl-C.
public final class TrialCleanup: @unchecked Sendable {
    private let lock = NSLockLite()
    private var actions: [(String, () -> Void)] = []
    private var done = false

    public init() {}

    /// Registers `action` (described by `what`); runs it at once when cleanup already happened.
    public func add(_ what: String, _ action: @escaping () -> Void) {
        let runNow = lock.locked { () -> Bool in
            if done { return true }
            actions.append((what, action))
            return false
        }
        if runNow { action() }
    }

    /// Runs every registered action once, newest first. Later calls do nothing.
    /// Returns what was undone, in order.
    @discardableResult
    public func run() -> [String] {
        let pending = lock.locked { () -> [(String, () -> Void)] in
            if done { return [] }
            done = true
            defer { actions.removeAll() }
            return actions
        }
        for (_, action) in pending.reversed() { action() }
        return pending.reversed().map(\.0)
    }

    /// Runs the actions registered since `mark` (see `count`), leaving earlier ones.
    public func run(since mark: Int) {
        let pending = lock.locked { () -> [(String, () -> Void)] in
            guard !done, mark < actions.count else { return [] }
            let tail = Array(actions[mark...])
            actions.removeSubrange(mark...)
            return tail
        }
        for (_, action) in pending.reversed() { action() }
    }

    /// How many actions are registered (a mark for `run(since:)`).
    public var count: Int { lock.locked { actions.count } }
}
