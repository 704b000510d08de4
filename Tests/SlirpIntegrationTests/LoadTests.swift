import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// Traffic and load (issue 19, item 3): CPU % from /proc/PID/stat, tap0 traffic from the
/// namespace's /proc/net/dev, measured on real slirp4netns with real traffic through them.
@Suite("CPU and tap traffic of real slirp4netns", .enabled(if: isRoot, "needs root for ip netns"), .serialized)
struct LoadTests {
    /// `slirpmon list --json ARGS`'s row of `pid`, and the whole output for messages.
    func listRow(_ arguments: [String], pid: Int32, timeout: Double = 60) throws -> (row: [String: Any], output: String) {
        let out = slirpmon(["list", "--json", "--no-podman"] + arguments, timeout: timeout)
        try #require(out.status == 0, "\(out.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
        let row = try #require(rows.first { ($0["pid"] as? Int).map(Int32.init) == pid }, "pid \(pid) not listed:\n\(out.stdout)")
        return (row, out.stdout)
    }

    /// Runs `slirpmon list ARGS` on its own thread while `during` runs here, and returns its row of `pid`.
    func listRow(_ arguments: [String], pid: Int32, during: () throws -> Void) throws -> (row: [String: Any], output: String) {
        final class Box: @unchecked Sendable { var result: Result<([String: Any], String), any Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread { [self] in
            box.result = Result { try listRow(arguments, pid: pid) }
            done.signal()
        }.start()
        try during()
        done.wait()
        return try #require(box.result).get()
    }

    @Test("an echo through a forward shows in `list --rates` as tap0 rx and tx bytes and packets, at least what was sent each way")
    func echoThroughForwardShowsAsTapTraffic() throws {
        let lab = try TestLab("ldecho")
        let port = try DemoFleet.freeTCPPort()
        var spec = SlirpLab.Spec(name: "e", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)])
        spec.server = .init(command: ["socat", "TCP-LISTEN:80,reuseaddr,fork", "EXEC:cat"], ports: [80])
        let instance = try lab.start(spec)
        let sent = 3_000_000
        let asked = apiRequests(pid: instance.pid).count // the forward added at start
        let (row, output) = try listRow(["--rates", "8", "--no-cache"], pid: instance.pid) {
            // list asks the instance's forwards (its log shows it) while it scans, then takes the first
            // reading, how long after depends on the host's load (in CI once more than a second): the echo
            // is made four times, 1.5 s apart, so that at least one falls inside the 8 s window.
            #expect(eventually(30) { apiRequests(pid: instance.pid).count > asked }, "list asked the forwards")
            for _ in 0..<4 {
                usleep(1_500_000)
                let echo = sh("sh", ["-c", "head -c \(sent) /dev/zero | socat -t 5 - TCP:127.0.0.1:\(port.value) | wc -c"], timeout: 30)
                #expect(echo.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(sent), "the echo came back whole: \(echo.stderr)")
            }
        }
        let load = try #require(row["load"] as? [String: Any], "\(output)")
        let window = try #require(load["tap_window_seconds"] as? Double, "\(load)")
        #expect(window >= 7.9 && window < 12)
        let mtu = 65520.0
        for direction in ["rx", "tx"] {
            let bytes = try #require(load["\(direction)_bytes_per_second"] as? Double, "\(load)") * window
            let packets = try #require(load["\(direction)_packets_per_second"] as? Double, "\(load)") * window
            // Guest to host is tx on tap0, host to guest rx: the echo crossed both ways.
            #expect(bytes >= Double(sent), "\(direction): \(bytes) bytes in the window, \(sent) sent")
            #expect(packets >= Double(sent) / mtu, "\(direction): \(packets) packets for \(sent) bytes at MTU \(mtu)")
        }
        let totals = try #require(load["tap"] as? [String: Any], "\(load)")
        #expect((totals["rx_bytes"] as? Int ?? 0) >= sent && (totals["tx_bytes"] as? Int ?? 0) >= sent, "\(totals)")
        #expect(load["cpu_percent"] is Double && load["unmeasured"] is NSNull, "\(load)")
        #expect(load["pinned"] as? Bool == false, "an echo of 3 MB does not pin it for 8 s: \(load)")

        // The table says the same in its load columns.
        let text = slirpmon(["list", "--no-podman", "--rates", "0.5"])
        #expect(text.status == 0 && text.stdout.contains("CPU%") && text.stdout.contains("RX/s") && text.stdout.contains("TX/s"), "\(text.stdout)")
    }

    @Test("without --rates, `list --json` has load null (one reading has no rate), never a 0 rate")
    func oneReadingHasNoRates() throws {
        let lab = try TestLab("ld1")
        let instance = try lab.start(.init(name: "o", apiSocket: false))
        let (row, output) = try listRow([], pid: instance.pid)
        #expect(row["load"] is NSNull, "\(output)")
        let show = slirpmon(["show", String(instance.pid), "--json"])
        #expect(show.status == 0 && show.stdout.contains("\"load\" : null"), "show reads once too:\n\(show.stdout)")
        let text = slirpmon(["list", "--no-podman"])
        #expect(!text.stdout.contains("CPU%"), "plain list reads once and shows no rate columns:\n\(text.stdout)")
    }

    @Test("a slirp4netns flooded with small UDP datagrams from its container wants a whole CPU and is flagged pinned; an idle one beside it is not")
    func floodedSlirpIsFlaggedPinned() throws {
        let lab = try TestLab("ldpin")
        var spec = SlirpLab.Spec(name: "p", apiSocket: false)
        spec.disableHostLoopback = false
        let busy = try lab.start(spec)
        let idle = try lab.start(.init(name: "i", apiSocket: false))
        let ns = try #require(busy.netnsName)
        let ip = try #require(Executables.find("ip"))
        // 64-byte datagrams to the gateway as fast as socat writes them: each costs slirp4netns a
        // read, a lookup and a sendto; it is the one that cannot keep up.
        guard case .success(let flood) = Executables.spawn(ip, ["netns", "exec", ns, "socat", "-u", "-b", "64", "/dev/zero", "UDP:10.0.2.2:9"]) else {
            Issue.record("cannot start socat in \(ns)"); return
        }
        defer { kill(flood, SIGKILL); Executables.waitFor(flood) }
        usleep(1_000_000)
        let out = slirpmon(["list", "--json", "--no-podman", "--rates", "4"])
        try #require(out.status == 0, "\(out.stderr)")
        try SchemaValidator().expectValid(out, as: "list", "list --rates with a pinned instance (its finding in load)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
        func load(_ pid: Int32) throws -> [String: Any] {
            let row = try #require(rows.first { ($0["pid"] as? Int).map(Int32.init) == pid }, "\(out.stdout)")
            return try #require(row["load"] as? [String: Any])
        }
        let busyLoad = try load(busy.pid), idleLoad = try load(idle.pid)
        #expect(kill(busy.pid, 0) == 0, "slirp4netns survived the flood")
        #expect(busyLoad["pinned"] as? Bool == true, "flooded: \(busyLoad)")
        #expect((busyLoad["demand_percent"] as? Double ?? 0) >= LoadRule.pinnedPercent, "\(busyLoad)")
        #expect((busyLoad["tx_packets_per_second"] as? Double ?? 0) > 1000, "the flood is tap0 tx: \(busyLoad)")
        let finding = try #require(busyLoad["finding"] as? [String: Any], "\(busyLoad)")
        #expect(finding["check"] as? String == "cpu" && finding["severity"] as? String == "warning", "\(finding)")
        #expect((finding["message"] as? String)?.contains("slirp4netns \(busy.pid) is pinned at a whole CPU") == true, "\(finding)")
        #expect(((finding["cause"] as? [String: Any])?["cause"] as? String)?.contains("#277") == true, "heavy traffic names #277: \(finding)")
        #expect(idleLoad["pinned"] as? Bool == false, "idle: \(idleLoad)")
        #expect(idleLoad["finding"] is NSNull, "\(idleLoad)")
    }
}
