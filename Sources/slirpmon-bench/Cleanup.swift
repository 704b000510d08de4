import Foundation
import SlirpCore
import Synchronization

/// Everything to undo, run once on every path (normal end, error, signal).
final class Cleanup: Sendable {
    static let shared = Cleanup()
    private let actions = Mutex<[(String, @Sendable () -> Void)]>([])

    /// Registers an action under a name (a later action with the same name replaces it).
    func add(_ name: String, _ action: @escaping @Sendable () -> Void) {
        actions.withLock { actions in
            actions.removeAll { $0.0 == name }
            actions.append((name, action))
        }
    }

    func remove(_ name: String) {
        actions.withLock { actions in actions.removeAll { $0.0 == name } }
    }

    /// Held for a whole clean-up: a second caller (the main thread failing because the
    /// signal thread is removing things under it) waits until everything is removed.
    private let running = Mutex<Void>(())

    /// Runs the actions, newest first, once; returns when every action has run.
    func runAll() {
        running.withLock { _ in
            let todo = actions.withLock { actions in
                defer { actions = [] }
                return actions
            }
            for (_, action) in todo.reversed() { action() }
        }
    }
}
