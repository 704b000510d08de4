import SlirpCore
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The last termination signal received (SIGINT, SIGTERM, SIGHUP), 0 if none; read by the loop.
let pendingTerminationSignal = Atomic<Int32>(0)

/// The terminal modes before curses started, restored by the crash handler.
nonisolated(unsafe) var savedTerminalModes = termios()
nonisolated(unsafe) var terminalModesSaved = false
/// The handlers that were installed before ours for the fatal signals (Swift's backtracer), in `Signals.fatal` order.
nonisolated(unsafe) var previousFatalActions: [sigaction] = Array(repeating: sigaction(), count: 6)

/// Signal handling for the monitor: termination signals are taken as everywhere in slirpmon
/// (`TerminationSignals`: blocked, waited for on a thread of their own) and set a flag the main
/// loop sees within one key timeout (then it ends curses normally); fatal signals restore the
/// terminal modes with async-signal-safe calls and re-raise, so a crash never leaves
/// the operator's terminal in raw mode on the alternate screen.
enum Signals {
    static let termination = TerminationSignals.numbers
    static let fatal: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE]

    /// Installs the handlers; call before curses starts, on the main thread before it starts others
    /// (blocked termination signals never reach the handlers curses installs for them).
    static func install() {
        _ = pendingTerminationSignal.load(ordering: .relaxed) // initialise the global before the signal thread runs
        if tcgetattr(0, &savedTerminalModes) == 0 { terminalModesSaved = true }
        TerminationSignals.handle { number in pendingTerminationSignal.store(number, ordering: .relaxed) }
        // A handler too, that only sets the flag: a thread that started with the signals unblocked
        // still ends the monitor cleanly, and curses (which installs its own where it finds the
        // default) keeps this one.
        for signal in termination {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                pendingTerminationSignal.store(number, ordering: .relaxed)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
        for (index, signal) in fatal.enumerated() {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                if terminalModesSaved { tcsetattr(0, TCSANOW, &savedTerminalModes) }
                // Leave the alternate screen, show the cursor, reset attributes.
                let reset: [UInt8] = Array("\u{1b}[?1049l\u{1b}[?25h\u{1b}[0m\r\n".utf8)
                _ = reset.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                // Hand over to the previous handler (the Swift backtracer) or the default.
                if let slot = Signals.fatal.firstIndex(of: number) {
                    sigaction(number, &previousFatalActions[slot], nil)
                } else {
                    Glibc.signal(number, SIG_DFL)
                }
                raise(number)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, &previousFatalActions[index])
        }
        signal(SIGPIPE, SIG_IGN)
    }

    /// The termination signal received since the start, or 0.
    static var pending: Int32 { pendingTerminationSignal.load(ordering: .relaxed) }

    /// Puts the default handlers back (after curses has ended): a termination signal from now on ends
    /// the process, as it would have before the monitor started.
    static func restoreDefaults() {
        for signal in termination { Glibc.signal(signal, SIG_DFL) }
        TerminationSignals.unblock()
        for (index, signal) in fatal.enumerated() { sigaction(signal, &previousFatalActions[index], nil) }
    }
}
