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

    init(_ action: Action, _ keys: [Key], _ help: String, bar: String? = nil, changesState: Bool = false, scope: BindingScope = .global) {
        self.action = action
        self.keys = keys
        self.help = help
        barLabel = bar
        self.changesState = changesState
        self.scope = scope
    }

    /// The function key shown in the bar, if the binding has one.
    public var functionKey: Int? {
        for key in keys { if case .function(let n) = key { return n } }
        return nil
    }
}

/// The one table that drives key dispatch, the help screen and the function-key bar.
public enum KeyBindings {
    public static let all: [KeyBinding] = [
        KeyBinding(.help, [.function(1), .character("?"), .character("h")], "show this help", bar: "Help"),
        KeyBinding(.cyclePane, [.function(2)], "next pane: details, log, forwards", bar: "Pane"),
        KeyBinding(.showDetails, [.character("1")], "details pane: decoded command line, addresses, socket, log path"),
        KeyBinding(.showLog, [.character("2"), .character("l")], "log pane: the unlinked log, live"),
        KeyBinding(.showForwards, [.character("3"), .character("f")], "forwards pane: list_hostfwd of the selected instance"),
        KeyBinding(.toggleFocus, [.tab, .backTab], "move the focus between the instance list and the pane"),
        KeyBinding(.search, [.function(3), .character("/")], "search the list (or the log, when the log pane has the focus)", bar: "Search"),
        KeyBinding(.searchNext, [.character("n")], "next search match"),
        KeyBinding(.filter, [.function(4), .character("\\")], "filter the list by text (Esc in the prompt clears it)", bar: "Filter"),
        KeyBinding(.follow, [.function(5), .character("F")], "log: follow new lines on/off", bar: "Follow", scope: .log),
        KeyBinding(.sortNext, [.function(6), .character(">"), .character(".")], "sort by the next column", bar: "SortBy"),
        KeyBinding(.sortReverse, [.character("I"), .character("<")], "invert the sort order"),
        KeyBinding(.addForward, [.function(7), .character("a")], "forwards: add a forward (form)", bar: "AddFwd", changesState: true, scope: .forwards),
        KeyBinding(.removeForward, [.function(8), .character("d"), .delete], "forwards: remove the selected forward (asks first)", bar: "DelFwd", changesState: true, scope: .forwards),
        KeyBinding(.saveLog, [.function(9), .character("s")], "log: save a copy to ./slirp4netns-PID-TIME.log", bar: "Save", scope: .log),
        // Not `changesState`: the doctor starts slirp4netns only in a scratch namespace it removes, so it stays in --readonly.
        KeyBinding(.doctor, [.function(9), .character("D")], "doctor: replay the selected container's slirp4netns start-up in a scratch namespace and name the cause (changes nothing of the container; also with --readonly)", bar: "Doctor"),
        KeyBinding(.up, [.up, .character("k")], "move up (in the focused list)"),
        KeyBinding(.down, [.down, .character("j")], "move down"),
        KeyBinding(.pageUp, [.pageUp], "page up"),
        KeyBinding(.pageDown, [.pageDown, .character(" ")], "page down"),
        KeyBinding(.home, [.home, .character("g")], "first line"),
        KeyBinding(.end, [.end, .character("G")], "last line (log: and follow)"),
        KeyBinding(.refresh, [.character("r"), .control("l")], "refresh now and redraw"),
        KeyBinding(.quit, [.function(10), .character("q")], "quit (also Ctrl-C)", bar: "Quit"),
    ]

    /// The bindings available with or without `--readonly`.
    public static func available(readOnly: Bool) -> [KeyBinding] {
        all.filter { !(readOnly && $0.changesState) }
    }

    /// The binding `key` triggers in `pane`: one of that pane's own bindings first, then a
    /// global one, then any (a pane's keys also work elsewhere: they switch to the pane).
    public static func binding(for key: Key, readOnly: Bool, pane: Pane? = nil) -> KeyBinding? {
        let candidates = available(readOnly: readOnly).filter { $0.keys.contains(key) }
        return candidates.first { pane.map(BindingScope.init) == $0.scope }
            ?? candidates.first { $0.scope == .global } ?? candidates.first
    }

    /// The action bound to `key` in `pane`, if any.
    public static func action(for key: Key, readOnly: Bool, pane: Pane? = nil) -> Action? {
        binding(for: key, readOnly: readOnly, pane: pane)?.action
    }

    /// Function-bar entries (key number, label), in key order: what each key does now, in `pane`.
    public static func bar(readOnly: Bool, pane: Pane? = nil) -> [(Int, String)] {
        let numbers = Set(available(readOnly: readOnly).compactMap { $0.barLabel == nil ? nil : $0.functionKey })
        return numbers.sorted().compactMap { n in
            guard let label = binding(for: .function(n), readOnly: readOnly, pane: pane)?.barLabel else { return nil }
            return (n, label)
        }
    }

    /// Keys and texts of the dialogs, for the help screen (they are not remappable actions).
    public static let promptKeys: [(String, String)] = [
        ("Enter", "prompts: accept; form: send when every field is valid"),
        ("Esc", "prompts, form, dialogs: cancel; doctor report: close (it keeps running)"),
        ("Tab/Up/Down", "form: next/previous field"),
        ("y / n", "confirmation: yes / no"),
        ("Up/Down/PgUp/PgDn", "doctor report: scroll"),
    ]
}
