import Foundation
import SlirpCore
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
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("slirpmon").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
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

    /// Runs the monitor; after it exits the pane prints its status and the tty modes.
    func startMonitor(_ arguments: String = "-d 0.5") throws {
        guard let binary = Self.binary else { throw HarnessError("no slirpmon binary") }
        try start("trap : INT; echo $$ > \(directory)/pid; \(binary) \(arguments); echo EXITED $?; echo MODES $(stty -a | tr -s \" ;\" \"\\n\\n\" | grep -E \"^-?(echo|icanon)$\" | sort) END; sleep 120")
    }

    /// After the monitor exited: its exit line and whether the tty is back in cooked mode (echo, icanon).
    func exitReport(timeout: Double = 15) -> (exited: Bool, cooked: Bool, screen: String) {
        let result = waitFor(" END", timeout: timeout)
        return (result.screen.contains("EXITED 0"), result.screen.contains("MODES echo icanon END"), result.screen)
    }

    /// PID of the shell whose `exec`... (the pane's shell: slirpmon is its child).
    var monitorPID: Int32? {
        guard let text = try? String(contentsOfFile: "\(directory)/pid", encoding: .utf8),
              let shell = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        // slirpmon is the shell's child.
        guard let children = try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8) else { return nil }
        return children.split(separator: " ").compactMap { Int32($0) }.first
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

/// A lab of real slirp4netns instances with names unique to one test.
func makeLab(_ name: String) throws -> SlirpLab {
    let unique = "stui-\(getpid())-\(TmuxHarness.counter.add(1, ordering: .relaxed).newValue)-\(name)"
    return try SlirpLab(prefix: unique, directory: "/tmp/\(unique)")
}

/// The slirp4netns log as the process still holds it (fd 1), for audit checks.
func slirpLog(_ pid: Int32) -> String {
    (try? UnlinkedLog(pid: pid).read(from: 0, maxBytes: 8 << 20).text) ?? ""
}

/// Connects to 127.0.0.1:`port` and returns what the peer sends before closing, or nil if refused.
func fetch(port: SlirpCore.Port, timeout: Double = 5) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.value.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else { return nil }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
