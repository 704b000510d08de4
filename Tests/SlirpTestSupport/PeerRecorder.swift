import Foundation
import Glibc
import SlirpCore

/// A listener in a network namespace that answers each TCP connection with the peer address it
/// sees (socat's `$SOCAT_PEERADDR`), and clients that connect from the host's loopback, from the
/// host's own non-loopback address, and from another machine (a namespace behind a veth pair).
public enum PeerRecorder {
    /// The command: run it in the namespace (a SlirpLab server, RootlessKit's command, or `start`).
    public static func command(port: Int = 8080) -> [String] {
        ["socat", "TCP-LISTEN:\(port),reuseaddr,fork", "SYSTEM:echo $SOCAT_PEERADDR"]
    }

    /// Starts the recorder in the network namespace of process `target` (`nsenter -t PID -n`, as
    /// root) and returns its PID once it listens; stop it with `stop`.
    public static func start(inNetworkOf target: Int32, port: Int = 8080) throws -> pid_t {
        guard let nsenter = Executables.find("nsenter"), Executables.find("socat") != nil else {
            throw LabSetupError("nsenter and socat are needed (apt-get install util-linux socat)")
        }
        guard case .success(let pid) = Executables.spawn(nsenter, ["-t", String(target), "-n"] + command(port: port)) else {
            throw LabSetupError("cannot start socat in the network namespace of \(target)")
        }
        // Its /proc/PID/net/tcp is its namespace's: listening (state 0A) on the port.
        let hex = String(format: ":%04X 00000000:0000 0A", port)
        guard eventually(10, { ((try? Files.readText("/proc/\(pid)/net/tcp")) ?? "").contains(hex) }) else {
            stop(pid)
            throw LabSetupError("socat did not listen on \(port) in the namespace of \(target)")
        }
        return pid
    }

    public static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        _ = Executables.waitFor(pid)
    }

    /// The peer address the recorder behind host:port saw for one connection from this host
    /// (from the address the route to `host` gives: 127.0.0.1 for the loopback); nil when nothing answered.
    public static func seen(host: String, port: Int) -> String? {
        answer(sh("socat", ["-T3", "-", "TCP:\(host):\(port)"], timeout: 10))
    }

    static func answer(_ out: Executables.Output) -> String? {
        let text = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return out.status == 0 && !text.isEmpty ? text : nil
    }
}

/// Another machine, as far as the host can tell: a network namespace joined to the host by a
/// veth pair, with addresses of its own (198.18.X.1 on the host side, .2 on its side, /30).
public final class RemoteClient {
    public let netns: String
    public let hostSide: String
    public let hostAddress: String
    public let clientAddress: String
    private var stopped = false

    public init() throws {
        let tag = UInt32.random(in: 0..<100_000)
        netns = "smt-rc-\(getpid())-\(tag)"
        hostSide = "rch\(tag)"
        let subnet = Int.random(in: 1...254), base = 4 * Int.random(in: 0...62)
        hostAddress = "198.18.\(subnet).\(base + 1)"
        clientAddress = "198.18.\(subnet).\(base + 2)"
        let steps: [[String]] = [
            ["netns", "add", netns],
            ["link", "add", hostSide, "type", "veth", "peer", "name", "rcc\(tag)", "netns", netns],
            ["addr", "add", "\(hostAddress)/30", "dev", hostSide],
            ["link", "set", hostSide, "up"],
            ["-n", netns, "addr", "add", "\(clientAddress)/30", "dev", "rcc\(tag)"],
            ["-n", netns, "link", "set", "rcc\(tag)", "up"],
            ["-n", netns, "link", "set", "lo", "up"],
        ]
        for step in steps {
            let out = sh("ip", step)
            guard out.status == 0 else {
                stop()
                throw LabSetupError("ip \(step.joined(separator: " ")) failed: \(out.stderr)")
            }
        }
    }

    deinit { stop() }

    /// The peer address the recorder behind the host's port saw for a connection from this client.
    public func seen(port: Int) -> String? {
        PeerRecorder.answer(sh("ip", ["netns", "exec", netns, "socat", "-T3", "-", "TCP:\(hostAddress):\(port)"], timeout: 10))
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        sh("ip", ["link", "del", hostSide])
        sh("ip", ["netns", "del", netns])
    }
}
