/// Everything an operator can ask for from the main screen.
public enum Action: String, CaseIterable, Sendable {
    case help, search, searchNext, filter, sortNext, sortReverse
    case cyclePane, showDetails, showLog, showForwards, toggleFocus
    case up, down, pageUp, pageDown, home, end
    case follow, saveLog, addForward, removeForward, doctor, refresh, quit
}

/// Where a binding applies.
public enum BindingScope: Sendable {
    /// Everywhere on the main screen.
    case global
    /// Only while the log pane is shown.
    case log
    /// Only while the forwards pane is shown.
    case forwards

    /// The scope of a pane's own bindings.
    init(_ pane: Pane) {
        switch pane {
        case .details: self = .global
        case .log: self = .log
        case .forwards: self = .forwards
        }
    }
}
