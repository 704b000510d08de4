import CNcursesW
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// The only owner of curses: start-up and teardown, colours by role, key reading, and
/// presenting a `Screen` by writing only the cells that changed since the last one.
final class Terminal {
    enum Failure: Error, CustomStringConvertible {
        case notATerminal
        case cannotStart(term: String)
        var description: String {
            switch self {
            case .notATerminal: "the monitor needs a terminal on stdin and stdout (for scripts use `slirpmon list` or `slirpmon show`)"
            case .cannotStart(let term): "cannot start curses for TERM=\(term) (unknown terminal type?)"
            }
        }
    }

    private var screenHandle: OpaquePointer?
    private var window: UnsafeMutablePointer<WINDOW>?
    private var previous: Screen?
    private var ended = false
    private var attributes: [Role: (UInt32, Int16)] = [:]

    init(useColor: Bool, keyTimeoutMilliseconds: Int32 = 100) throws(Failure) {
        guard isatty(0) != 0, isatty(1) != 0 else { throw .notATerminal }
        setlocale(LC_ALL, "")
        Signals.install()
        let term = getenv("TERM").map { String(cString: $0) } ?? "dumb"
        guard let handle = slirpmon_newterm() else { throw .cannotStart(term: term) }
        screenHandle = handle
        set_term(handle)
        window = slirpmon_stdscr()
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        curs_set(0)
        set_escdelay(25)
        wtimeout(window, keyTimeoutMilliseconds)
        mousemask(slirpmon_mouse_mask(), nil)
        mouseinterval(0)
        setUpAttributes(useColor: useColor && has_colors())
        wclear(window)
    }

    deinit { end() }

    /// Ends curses and restores the terminal; safe to call more than once.
    func end() {
        guard !ended else { return }
        ended = true
        endwin()
        if let screenHandle { delscreen(screenHandle) }
        screenHandle = nil
        Signals.restoreDefaults()
    }

    var size: Size {
        guard let window else { return Size(width: 0, height: 0) }
        return Size(width: Int(slirpmon_max_x(window)), height: Int(slirpmon_max_y(window)))
    }

    /// The terminal's size as the kernel has it now, which curses learns only at its next
    /// KEY_RESIZE (after a key typed in the same moment); nil when it reports none.
    var currentSize: Size? { TerminalSize(of: 1).map { Size(width: $0.columns, height: $0.rows) } }

    /// Forgets what is on the terminal: the next `present` redraws everything.
    func invalidate() {
        previous = nil
        if let window { clearok(window, true) }
    }

    /// True when the whole screen must be drawn again (never drawn, invalidated, or resized).
    var needsRedraw: Bool { previous == nil }

    // MARK: Colours and attributes by role

    private func setUpAttributes(useColor: Bool) {
        let bold = slirpmon_a_bold(), reverse = slirpmon_a_reverse(), dim = slirpmon_a_dim(), underline = slirpmon_a_underline()
        // Without colour (NO_COLOR, --no-color, monochrome): attributes only, selection still visible.
        let plain: [Role: UInt32] = [
            .header: bold, .columnHeader: reverse, .selection: reverse | bold, .selectionUnfocused: reverse,
            .dim: dim, .warning: bold, .error: bold, .addressMismatch: bold | underline | reverse, .ok: 0,
            .functionKey: 0, .functionLabel: reverse, .audit: bold, .searchMatch: underline | reverse,
            .paneTitle: reverse, .paneTitleFocused: bold, .input: underline, .inputFocused: underline | bold,
            .status: 0, .statusError: bold, .gone: dim,
        ]
        guard useColor else {
            for role in Role.allCases { attributes[role] = (plain[role] ?? 0, 0) }
            return
        }
        start_color()
        use_default_colors()
        // (role, foreground, background, extra attributes); -1 is the terminal's default.
        let palette: [(Role, Int16, Int16, UInt32)] = [
            (.header, Int16(COLOR_CYAN), -1, bold),
            (.columnHeader, Int16(COLOR_BLACK), Int16(COLOR_GREEN), 0),
            (.selection, Int16(COLOR_BLACK), Int16(COLOR_CYAN), 0),
            (.selectionUnfocused, Int16(COLOR_BLACK), Int16(COLOR_WHITE), 0),
            (.dim, Int16(COLOR_BLUE), -1, bold),
            (.warning, Int16(COLOR_YELLOW), -1, bold),
            (.error, Int16(COLOR_RED), -1, bold),
            (.addressMismatch, Int16(COLOR_WHITE), Int16(COLOR_RED), bold),
            (.ok, Int16(COLOR_GREEN), -1, 0),
            (.functionKey, -1, -1, 0),
            (.functionLabel, Int16(COLOR_BLACK), Int16(COLOR_CYAN), 0),
            (.audit, Int16(COLOR_MAGENTA), -1, bold),
            (.searchMatch, Int16(COLOR_BLACK), Int16(COLOR_YELLOW), 0),
            (.paneTitle, Int16(COLOR_BLACK), Int16(COLOR_GREEN), 0),
            (.paneTitleFocused, Int16(COLOR_BLACK), Int16(COLOR_CYAN), bold),
            (.input, -1, -1, underline),
            (.inputFocused, Int16(COLOR_YELLOW), -1, underline | bold),
            (.status, Int16(COLOR_GREEN), -1, 0),
            (.statusError, Int16(COLOR_RED), -1, bold),
            (.gone, Int16(COLOR_BLUE), -1, bold),
        ]
        for role in Role.allCases { attributes[role] = (0, 0) }
        for (index, entry) in palette.enumerated() {
            let pair = Int16(index + 1)
            init_pair(pair, entry.1, entry.2)
            attributes[entry.0] = (entry.3, pair)
        }
    }

    // MARK: Output

    /// Writes the cells of `screen` that differ from the last presented screen, then refreshes.
    func present(_ screen: Screen) {
        guard let window else { return }
        if previous?.size != screen.size {
            previous = nil
            werase(window)
        }
        var changed = false
        for y in 0..<screen.height {
            // The span of changed cells in this row, widened to whole wide characters.
            var first = -1, last = -1
            for x in 0..<screen.width where previous.map({ $0[x, y] != screen[x, y] }) ?? true {
                if first < 0 { first = x }
                last = x
            }
            guard first >= 0 else { continue }
            changed = true
            while first > 0 && screen[first, y].continuation { first -= 1 }
            if last + 1 < screen.width && screen[last + 1, y].continuation { last += 1 }
            write(screen, row: y, from: first, to: last)
        }
        previous = screen
        if changed { wrefresh(window) }
    }

    private func write(_ screen: Screen, row y: Int, from first: Int, to last: Int) {
        guard let window else { return }
        var x = first
        while x <= last {
            let role = screen[x, y].role
            var characters: [wchar_t] = []
            let start = x
            while x <= last && screen[x, y].role == role {
                let cell = screen[x, y]
                if !cell.continuation {
                    for scalar in cell.character.unicodeScalars { characters.append(wchar_t(bitPattern: scalar.value)) }
                }
                x += 1
            }
            let (attrs, pair) = attributes[role] ?? (0, 0)
            slirpmon_set_attributes(window, attrs, pair)
            wmove(window, Int32(y), Int32(start))
            characters.withUnsafeBufferPointer { buffer in
                _ = waddnwstr(window, buffer.baseAddress, Int32(buffer.count))
            }
        }
        slirpmon_set_attributes(window, 0, 0)
    }

    // MARK: Input

    /// True when the terminal has gone away (its other end closed). Without a controlling
    /// terminal no SIGHUP comes, and every read fails at once: the loop must stop, not spin.
    var isGone: Bool {
        var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) > 0 && pfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }

    /// The next key, or nil when none arrived within the key timeout.
    func readKey() -> Key? {
        guard let window else { return nil }
        var value: wint_t = 0
        let result = wget_wch(window, &value)
        if result == ERR { return nil }
        let code = Int32(bitPattern: value)
        if result == KEY_CODE_YES { return Self.functionKey(code) }
        switch code {
        case 10, 13: return .enter
        case 9: return .tab
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return Unicode.Scalar(UInt32(code) + 96).map { .control(Character($0)) }
        default:
            guard code >= 32, let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .character(Character(scalar))
        }
    }

    private static func functionKey(_ code: Int32) -> Key? {
        if code == slirpmon_key_resize() { return .resize }
        if code == KEY_MOUSE {
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let x = Int(event.x), y = Int(event.y)
            switch slirpmon_mouse_kind(event.bstate) {
            case 1: return .click(x: x, y: y)
            case 4: return .wheelUp(x: x, y: y)
            case 5: return .wheelDown(x: x, y: y)
            default: return nil
            }
        }
        for n in 1...12 where code == slirpmon_key_f(Int32(n)) { return .function(n) }
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        default: return nil
        }
    }
}
