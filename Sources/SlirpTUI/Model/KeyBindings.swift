/// One row of the key table: keys, the action, its help text and its function-bar label.
public struct KeyBinding: Sendable {
    public let action: Action
    public let keys: [Key]
    public let help: String
    /// The function-bar label (shown next to the first `.function` key), if any.
    public let barLabel: String?
    /// True when the action changes a slirp4netns instance (hidden and inert with --readonly).
    public let changesState: Bool
    public let scope: BindingScope
    /// True for a mode's "any other key" row: it has no keys of its own and takes every key
    /// no other row of its scope takes.
    public let isOtherwise: Bool

    init(_ action: Action, _ keys: [Key], _ help: String, bar: String? = nil, changesState: Bool = false, scope: BindingScope = .global) {
        self.action = action
        self.keys = keys
        self.help = help
        barLabel = bar
        self.changesState = changesState
        self.scope = scope
        isOtherwise = false
    }

    /// A mode's row for every key its other rows do not take.
    init(otherwise action: Action, _ help: String, changesState: Bool = false, scope: BindingScope) {
        self.action = action
        keys = []
        self.help = help
        barLabel = nil
        self.changesState = changesState
        self.scope = scope
        isOtherwise = true
    }

    /// The function key shown in the bar, if the binding has one.
    public var functionKey: Int? {
        for key in keys { if case .function(let n) = key { return n } }
        return nil
    }

    /// The keys as the help shows them: `F1 ? h`, or `other keys`.
    public var keyNames: String { isOtherwise ? "other keys" : keys.map(\.description).joined(separator: " ") }
}

/// The one table that drives key dispatch, the help screen and the function-key bar: the main
/// screen's keys, and those of every mode on top of it (prompts, form, confirmation, doctor's
/// report, help). A key that is not here does nothing, apart from typing into a prompt or the
/// form, Ctrl-C (the runtime's: it quits from anywhere) and the mouse (`HitArea`).
public enum KeyBindings {
    public static let all: [KeyBinding] = [
        KeyBinding(.help, [.function(1), .character("?"), .character("h")], "show this help", bar: "Help"),
        KeyBinding(.cyclePane, [.function(2)], "next pane: details, log, forwards, events", bar: "Pane"),
        KeyBinding(.showDetails, [.character("1")], "details pane: decoded command line, addresses, socket, log path"),
        KeyBinding(.showLog, [.character("2"), .character("l")], "log pane: the unlinked log, live"),
        KeyBinding(.showForwards, [.character("3"), .character("f")], "forwards pane: list_hostfwd of the selected instance"),
        KeyBinding(.showEvents, [.character("4"), .character("e")], "events pane: what changed, when (started, died, defunct, lost its slirp4netns, forwards added and removed)"),
        KeyBinding(.toggleFocus, [.tab, .backTab], "move the focus between the instance list and the pane"),
        KeyBinding(.search, [.function(3), .character("/")], "search the list (or the log, when the log pane has the focus)", bar: "Search"),
        KeyBinding(.searchNext, [.character("n")], "next search match"),
        KeyBinding(.filter, [.function(4), .character("\\")], "filter the list by text (Esc in the prompt clears it)", bar: "Filter"),
        KeyBinding(.follow, [.function(5), .character("F")], "log: follow new lines on/off", bar: "Follow", scope: .log),
        KeyBinding(.sortNext, [.function(6), .character(">"), .character(".")], "sort by the next column", bar: "SortBy"),
        KeyBinding(.sortReverse, [.character("I"), .character("<")], "invert the sort order"),
        KeyBinding(.addForward, [.function(7), .character("a")], "forwards: add a forward (form)", bar: "AddFwd", changesState: true, scope: .forwards),
        KeyBinding(.removeForward, [.function(8), .character("d"), .delete], "forwards: remove the selected forward (asks first)", bar: "DelFwd", changesState: true, scope: .forwards),
        // Not `changesState`: a probe sends only a TCP connect (no payload), so it stays in --readonly.
        KeyBinding(.probeForward, [.character("p")], "forwards: probe the selected forward (host side, listener in the container, round trip; sends nothing but a connect)", scope: .forwards),
        KeyBinding(.saveLog, [.function(9), .character("s")], "log: save a copy to ./slirp4netns-PID-TIME.log", bar: "Save", scope: .log),
        // Not `changesState`: the doctor starts slirp4netns only in a scratch namespace it removes, so it stays in --readonly.
        KeyBinding(.doctor, [.function(9), .character("D")], "doctor: replay the selected container's slirp4netns start-up in a scratch namespace and name the cause (changes nothing of the container; also with --readonly)", bar: "Doctor"),
        KeyBinding(.checkDNS, [.character("N")], "DNS: ask the selected instance's DNS address (10.0.2.3) from inside its namespace and explain the host resolver; the verdict shows in the details pane"),
        KeyBinding(.up, [.up, .character("k")], "move up (in the focused list)"),
        KeyBinding(.down, [.down, .character("j")], "move down"),
        KeyBinding(.pageUp, [.pageUp], "page up"),
        KeyBinding(.pageDown, [.pageDown, .character(" ")], "page down"),
        KeyBinding(.home, [.home, .character("g")], "first line"),
        KeyBinding(.end, [.end, .character("G")], "last line (log: and follow)"),
        KeyBinding(.refresh, [.character("r"), .control("l")], "refresh now and redraw"),
        KeyBinding(.quit, [.function(10), .character("q")], "quit (also Ctrl-C)", bar: "Quit"),
        KeyBinding(.dismiss, [.escape], "clear the status line"),

        // The search and filter prompts (typed characters go into the text).
        KeyBinding(.accept, [.enter], "accept", scope: .prompt),
        KeyBinding(.cancel, [.escape], "cancel (a filter is cleared)", scope: .prompt),
        KeyBinding(.erase, [.backspace], "erase", scope: .prompt),
        // The add-forward form (typed characters go into the field). The form and the question
        // below exist only to change an instance: `changesState`, so --readonly's help omits them.
        KeyBinding(.nextField, [.tab, .down], "next field", changesState: true, scope: .form),
        KeyBinding(.previousField, [.backTab, .up], "previous", changesState: true, scope: .form),
        KeyBinding(.erase, [.backspace], "erase", changesState: true, scope: .form),
        KeyBinding(.accept, [.enter], "send if valid", changesState: true, scope: .form),
        KeyBinding(.cancel, [.escape], "cancel", changesState: true, scope: .form),
        // Before a forward is removed.
        KeyBinding(.confirm, [.character("y"), .character("Y")], "remove it", changesState: true, scope: .confirm),
        KeyBinding(otherwise: .cancel, "keep it", changesState: true, scope: .confirm),
        // The doctor's report (the mouse wheel scrolls it, a click closes it).
        KeyBinding(.up, [.up, .character("k")], "scroll", scope: .doctor),
        KeyBinding(.down, [.down, .character("j")], "scroll", scope: .doctor),
        KeyBinding(.pageUp, [.pageUp], "scroll", scope: .doctor),
        KeyBinding(.pageDown, [.pageDown, .character(" ")], "scroll", scope: .doctor),
        KeyBinding(.home, [.home, .character("g")], "scroll", scope: .doctor),
        KeyBinding(.end, [.end, .character("G")], "scroll", scope: .doctor),
        KeyBinding(.close, [.escape, .enter, .character("q")], "close (it keeps running)", scope: .doctor),
        KeyBinding(.quit, [.function(10)], "quit", scope: .doctor),
        // This help.
        KeyBinding(.up, [.up, .character("k")], "scroll", scope: .help),
        KeyBinding(.down, [.down, .character("j")], "scroll", scope: .help),
        KeyBinding(.pageUp, [.pageUp], "scroll", scope: .help),
        KeyBinding(.pageDown, [.pageDown, .character(" ")], "scroll", scope: .help),
        KeyBinding(.quit, [.function(10)], "quit", scope: .help),
        KeyBinding(otherwise: .close, "close it", scope: .help),
    ]

    /// The modes on top of the main screen, in the help's order, with the help's name for each.
    public static let modes: [(scope: BindingScope, name: String)] = [
        (.prompt, "prompts"), (.form, "add-forward form"), (.confirm, "remove forward?"), (.doctor, "doctor report"), (.help, "this help"),
    ]

    /// The bindings available with or without `--readonly`, in every scope.
    public static func available(readOnly: Bool) -> [KeyBinding] {
        all.filter { !(readOnly && $0.changesState) }
    }

    /// The main screen's bindings available with or without `--readonly`.
    public static func mainScreen(readOnly: Bool) -> [KeyBinding] {
        available(readOnly: readOnly).filter { $0.scope.isMainScreen }
    }

    /// The binding `key` triggers in `pane`: one of that pane's own bindings first, then a
    /// global one, then any (a pane's keys also work elsewhere: they switch to the pane).
    public static func binding(for key: Key, readOnly: Bool, pane: Pane? = nil) -> KeyBinding? {
        let candidates = mainScreen(readOnly: readOnly).filter { $0.keys.contains(key) }
        return candidates.first { pane.map(BindingScope.init) == $0.scope }
            ?? candidates.first { $0.scope == .global } ?? candidates.first
    }

    /// The action bound to `key` in `pane`, if any.
    public static func action(for key: Key, readOnly: Bool, pane: Pane? = nil) -> Action? {
        binding(for: key, readOnly: readOnly, pane: pane)?.action
    }

    /// The action `key` asks for in `mode` (one of the scopes that are not the main screen's):
    /// its row, else the mode's "any other key" row, else none.
    public static func action(for key: Key, in mode: BindingScope, readOnly: Bool) -> Action? {
        let rows = available(readOnly: readOnly).filter { $0.scope == mode }
        return (rows.first { $0.keys.contains(key) } ?? rows.first { $0.isOtherwise })?.action
    }

    /// Function-bar entries (key number, label), in key order: what each key does now, in `pane`.
    public static func bar(readOnly: Bool, pane: Pane? = nil) -> [(Int, String)] {
        let numbers = Set(mainScreen(readOnly: readOnly).compactMap { $0.barLabel == nil ? nil : $0.functionKey })
        return numbers.sorted().compactMap { n in
            guard let label = binding(for: .function(n), readOnly: readOnly, pane: pane)?.barLabel else { return nil }
            return (n, label)
        }
    }
}
