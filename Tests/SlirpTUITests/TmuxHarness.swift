import Foundation
import SlirpCore
import SlirpTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `slirpmon` binary in a tmux server of its own (its own socket), so tests
/// never touch anyone else's tmux; every session is killed by name at the end.
final class TmuxHarness {
    static let counter = Atomic<Int>(0)

    let socketName: String
    let session = "tui"
    let width: Int
    let height: Int
    let directory: String

    /// Can the end-to-end tests run here? (root, tmux, slirp4netns, ip, socat, the built binary)
    static var unavailableReason: String? {
        if geteuid() != 0 { return "end-to-end tests need root (ip netns, slirp4netns)" }
        for tool in ["tmux", "slirp4netns", "ip", "socat"] where Executables.find(tool) == nil {
            return "\(tool) is not installed"
        }
        if binary == nil { return "slirpmon binary not found next to the test runner" }
        return nil
    }

    static var canRun: Bool { unavailableReason == nil }

    /// The `slirpmon` built beside this test bundle (`.build*/debug/slirpmon`).
    static var binary: String? {
        FileManager.default.isExecutableFile(atPath: slirpmonBinary) ? slirpmonBinary : nil
    }

    init(width: Int = 120, height: Int = 40) {
        let n = Self.counter.add(1, ordering: .relaxed).newValue
        socketName = "slirpmon-e2e-\(getpid())-\(n)"
        self.width = width
        self.height = height
        directory = "/tmp/\(socketName)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Starts `shellCommand` in a new session with TERM fixed to tmux-256color.
    func start(_ shellCommand: String) throws {
        let config = "\(directory)/tmux.conf"
        try "set -g default-terminal tmux-256color\nset -g status off\nset -g remain-on-exit on\n".write(toFile: config, atomically: true, encoding: .utf8)
        try tmux(["-f", config, "new-session", "-d", "-c", directory, "-s", session, "-x", String(width), "-y", String(height),
                  "env TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 sh -c '\(shellCommand)'"])
    }

    /// Runs the monitor (with `environment` added, e.g. `CONTAINERS_CONF`); after it exits
    /// the pane prints its status and the tty modes.
    func startMonitor(_ arguments: String = "-d 0.5", environment: [String: String] = [:]) throws {
        guard let binary = Self.binary else { throw HarnessError("no slirpmon binary") }
        let env = environment.isEmpty ? "" : "env " + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " "
        try start("trap : INT; echo $$ > \(directory)/pid; \(env)\(binary) \(arguments); echo EXITED $?; echo MODES $(stty -a | tr -s \" ;\" \"\\n\\n\" | grep -E \"^-?(echo|icanon)$\" | sort) END; sleep 120")
    }

    /// Runs the monitor, waits for its first screen and narrows the list to rows matching `text`
    /// (filtered first: on a busy host the rows a test watches may be below the screen).
    func startMonitor(_ arguments: String = "-d 0.5", environment: [String: String] = [:], filteredTo text: String) throws {
        try startMonitor(arguments, environment: environment)
        guard waitFor("F10Quit").found else { throw HarnessError("the monitor did not start:\n\(capture())") }
        filter(text)
    }

    /// After the monitor exited: whether it exited 0, its exit status (nil if it did not exit),
    /// and whether the tty is back in cooked mode (echo, icanon).
    func exitReport(timeout: Double = 15) -> (exited: Bool, status: Int?, cooked: Bool, screen: String) {
        let result = waitFor(" END", timeout: timeout)
        let status = result.screen.firstMatch(of: /EXITED (\d+)/).flatMap { Int($0.1) }
        return (status == 0, status, result.screen.contains("MODES echo icanon END"), result.screen)
    }

    /// PID of the running monitor: the pane shell's child that is slirpmon, nil once it exited
    /// (the shell's child is then the `sleep 120` that keeps the pane, which must not count).
    var monitorPID: Int32? {
        guard let text = try? String(contentsOfFile: "\(directory)/pid", encoding: .utf8),
              let shell = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        guard let children = try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8) else { return nil }
        return children.split(separator: " ").compactMap { Int32($0) }.first { child in
            guard let stat = try? Files.readText("/proc/\(child)/stat"), let parsed = ProcessStat(stat) else { return false }
            return (try? Files.readText("/proc/\(child)/comm")) == "slirpmon\n" && !parsed.isZombie
        }
    }

    /// Narrows the list to rows matching `text` with the filter (other instances may run on the host).
    func filter(_ text: String) {
        send("F4")
        type(text)
        send("Enter")
    }

    /// Narrows the monitor to one PID with the filter (clearing any earlier one) and shows its details.
    func showOnly(pid: Int32) {
        send("F4")
        send("Escape")
        usleep(150_000)
        filter(String(pid))
        send("1")
    }

    /// Shows only `pid` on the forwards pane (with no forwards yet) and opens the add form there.
    func openAddForm(pid: Int32) -> Bool {
        showOnly(pid: pid)
        send("3")
        guard waitFor("No forwards added").found else { return false }
        send("a")
        return waitFor("Add forward to pid \(pid)").found
    }

    func send(_ keys: String...) {
        _ = try? tmux(["send-keys", "-t", session] + keys)
    }

    /// Types text literally.
    func type(_ text: String) {
        _ = try? tmux(["send-keys", "-t", session, "-l", text])
    }

    func resize(width: Int, height: Int) {
        _ = try? tmux(["resize-window", "-t", session, "-x", String(width), "-y", String(height)])
    }

    func capture(escapes: Bool = false) -> String {
        (try? tmux(["capture-pane", "-p", "-t", session] + (escapes ? ["-e"] : []))) ?? ""
    }

    /// Waits until the screen contains `text`; returns the last screen either way.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 15) -> (found: Bool, screen: String) {
        waitUntil(timeout: timeout) { $0.contains(text) }
    }

    @discardableResult
    func waitUntil(timeout: Double = 15, _ condition: (String) -> Bool) -> (found: Bool, screen: String) {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if condition(screen) { return (true, screen) }
            usleep(100_000)
        }
        return (false, screen)
    }

    /// Kills this harness's tmux server (only ours: its own socket) and removes its files.
    func tearDown() {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        guard let tmux = Executables.find("tmux") else { throw HarnessError("tmux missing") }
        switch Executables.run(tmux, ["-L", socketName] + arguments, timeout: 10) {
        case .success(let output) where output.status == 0: return output.stdout
        case .success(let output): throw HarnessError("tmux \(arguments.first ?? ""): \(output.combined)")
        case .failure(let error): throw HarnessError("tmux: \(error)")
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
