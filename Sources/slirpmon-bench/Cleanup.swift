import Foundation
import SlirpCore

/// Everything to undo, run once on every path (normal end, error, signal).
final class Cleanup: @unchecked Sendable {
    static let shared = Cleanup()
    private let lock = NSLock()
    private var actions: [(String, () -> Void)] = []

    /// Registers an action under a name (a later action with the same name replaces it).
    func add(_ name: String, _ action: @escaping () -> Void) {
        lock.lock(); defer { lock.unlock() }
        actions.removeAll { $0.0 == name }
        actions.append((name, action))
    }

    func remove(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        actions.removeAll { $0.0 == name }
    }

    /// Held for a whole clean-up: a second caller (the main thread failing because the
    /// signal thread is removing things under it) waits until everything is removed.
    private let running = NSLock()

    /// Runs the actions, newest first, once; returns when every action has run.
    func runAll() {
        running.lock()
        defer { running.unlock() }
        lock.lock()
        let todo = actions
        actions = []
        lock.unlock()
        for (_, action) in todo.reversed() { action() }
    }
}
