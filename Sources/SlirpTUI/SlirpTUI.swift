import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// How the monitor is started (from `slirpmon` and `slirpmon demo`).
public struct MonitorConfiguration: Sendable {
    /// Seconds between refreshes (`-d`/`--delay`).
    public var delay: Double = 1
    public var useColor = true
    public var readOnly = false
    /// A title shown in the header (e.g. "demo").
    public var banner: String?
    /// A first message in the status line, until another replaces it or Esc clears it.
    public var greeting: String?
    public init() {}
}

/// Runs the full-screen monitor until the operator quits; returns the exit status.
///
/// `q` returns 0. Ctrl-C, SIGTERM and SIGHUP end it as `q` does (the terminal is restored, so
/// `slirpmon demo` still removes its instances) and return 128 + the signal's number, as a shell
/// reports a command a signal ended: a script can tell killed from quit. A terminal that goes
/// away without a SIGHUP (no controlling terminal: every read fails with EOF/EIO) ends it as a
/// hangup does, 129, with a line on stderr when stderr still goes somewhere.
public func runMonitor(_ configuration: MonitorConfiguration) -> Int32 {
    let terminal: Terminal
    do { terminal = try Terminal(useColor: configuration.useColor) } catch {
        FileOutput.standardError("slirpmon: \(error.description)\n")
        return 1
    }
    var monitor = Monitor(configuration: configuration)
    monitor.run(terminal)
    monitor.worker.finishSaves()
    // A doctor trial still running leaves nothing behind: its scratch namespace and process go now.
    monitor.worker.stopDoctor()
    terminal.end()
    if monitor.terminalLost {
        FileOutput.standardError("slirpmon: the terminal went away (reading it failed, no SIGHUP came): ended as on a hangup, exit status \(128 + SIGHUP)\n")
    }
    return monitor.endingSignal == 0 ? 0 : 128 + monitor.endingSignal
}

/// The main loop: keys and results in, effects out, the screen redrawn from the state.
struct Monitor {
    var state: AppState
    let worker = Worker()
    let follower = LogFollower()
    var nextRefresh = 0.0
    let delay: Double
    var quit = false
    /// The signal that ended the loop (Ctrl-C read as a key counts as SIGINT), 0 when `q` did.
    var endingSignal: Int32 = 0
    /// True when the loop ended because the terminal went away (`endingSignal` is then SIGHUP).
    var terminalLost = false

    init(configuration: MonitorConfiguration) {
        delay = max(0.1, configuration.delay)
        state = AppState(readOnly: configuration.readOnly, banner: configuration.banner, delay: delay,
                         useColor: configuration.useColor, host: HostInfo(hostName: Self.hostName(), userName: Self.userName()))
        state.status = configuration.greeting.map { StatusMessage($0) }
    }

    mutating func run(_ terminal: Terminal) {
        worker.probe()
        // The screen is drawn again only after something changed the state: an answer, a log
        // update, a key or a resize (the state holds no clock the screen shows). An idle monitor
        // wakes for keys ten times a second but renders once per refresh.
        var changed = true
        while !quit {
            if Signals.pending != 0 {
                endingSignal = Signals.pending
                break
            }
            state.now = Clock.monotonic()
            for result in worker.drain() {
                perform(state.apply(result), terminal)
                changed = true
            }
            if !state.refreshing && state.now >= nextRefresh {
                state.refreshing = true
                nextRefresh = state.now + delay
                worker.refresh(selected: state.selected)
                changed = true
            }
            if state.pane == .log, follower.identity == state.log.identity, let update = follower.poll() {
                perform(state.apply(update), terminal)
                changed = true
            }
            let reconciled = state.reconcile()
            if !reconciled.effects.isEmpty {
                perform(reconciled, terminal)
                changed = true
            }
            let size = terminal.size
            if size != state.size {
                state.size = size
                state.keepSelectionVisible()
                changed = true
            }
            if changed || terminal.needsRedraw {
                terminal.present(render(state, size: size))
                changed = false
            }
            guard let key = terminal.readKey() else {
                if terminal.isGone {
                    // Without a controlling terminal no SIGHUP comes: the same end, so a script sees 129, not 0.
                    terminalLost = true
                    endingSignal = SIGHUP
                    break
                }
                continue
            }
            changed = true
            switch key {
            case .control("c"):
                endingSignal = SIGINT
                quit = true
            case .resize:
                terminal.invalidate()
            default:
                // A key is judged at the size the terminal has now: curses reports a resize after
                // a key typed in the same moment (a key at "too small" must not act unseen).
                if let now = terminal.currentSize, now != state.size { state.size = now }
                perform(state.handle(key), terminal)
            }
        }
    }

    mutating func perform(_ reaction: Reaction, _ terminal: Terminal) {
        for effect in reaction.effects {
            switch effect {
            case .quit: quit = true
            case .refreshInventory:
                nextRefresh = 0
                terminal.invalidate()
            case .listForwards(let target): worker.listForwards(target)
            case .joinDocker(let target, let ports): worker.joinDocker(target, ports)
            case .addForwards(let target, let requests): worker.add(target, requests)
            case .removeForward(let target, let forward): worker.remove(target, forward)
            case .addPorts(let target, let specs): worker.addPorts(target, specs)
            case .removePort(let target, let port): worker.removePort(target, port)
            case .saveLog(let identity): worker.save(follower.save(identity))
            case .reloadLog(let identity): perform(state.apply(follower.open(identity)), terminal)
            case .runDoctor(let container): worker.doctor(container)
            case .checkDNS(let identity): worker.checkDNS(identity)
            case .probeForward(let request): worker.probeForward(request)
            }
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "?"
    }

    static func userName() -> String {
        let uid = geteuid()
        return UserNames.name(of: uid) ?? "uid \(uid)"
    }
}

enum FileOutput {
    static func standardError(_ text: String) {
        try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }
}
