/// Everything an operator can ask for with a key: on the main screen, and in the prompts,
/// the form, the confirmation, the doctor's report and the help on top of it.
public enum Action: String, CaseIterable, Sendable {
    case help, search, searchNext, filter, sortNext, sortReverse
    case cyclePane, showDetails, showLog, showForwards, showEvents, toggleFocus
    case up, down, pageUp, pageDown, home, end
    case follow, saveLog, addForward, removeForward, doctor, refresh, quit
    /// Ask the selected instance's DNS address from inside its namespace (`DNSCheck`).
    case checkDNS
    /// The forwards pane: probe the forward under the cursor.
    case probeForward
    /// Clears the status line (main screen).
    case dismiss
    /// Prompts and the form: accept the text, send the form.
    case accept
    /// Prompts, the form and the confirmation: leave without doing it.
    case cancel
    /// Prompts and the form: erase the character before the cursor.
    case erase
    /// The form: the next or previous field.
    case nextField, previousField
    /// The confirmation: yes, remove the forward.
    case confirm
    /// The help and the doctor's report: back to the main screen.
    case close
}

/// Where a binding applies: the main screen (everywhere on it, or while one pane is shown), or
/// one of the modes on top of it (`Mode`), whose keys are its own.
public enum BindingScope: Sendable {
    /// Everywhere on the main screen.
    case global
    /// Only while the log pane is shown.
    case log
    /// Only while the forwards pane is shown.
    case forwards
    /// The help screen.
    case help
    /// The doctor's report.
    case doctor
    /// The search and filter prompts in the status line.
    case prompt
    /// The add-forward form.
    case form
    /// The question before a forward is removed.
    case confirm

    /// True for the main screen's scopes (the key table's dispatch, help list and function bar).
    public var isMainScreen: Bool {
        switch self {
        case .global, .log, .forwards: true
        case .help, .doctor, .prompt, .form, .confirm: false
        }
    }

    /// The scope of a pane's own bindings.
    init(_ pane: Pane) {
        switch pane {
        case .details: self = .global
        case .log: self = .log
        case .forwards: self = .forwards
        case .events: self = .global
        }
    }
}
