import SlirpCore

extension Bench {
    /// `fwd probe` of one forward with a listener behind it (the target: under 50 ms), beside
    /// what an operator does by hand: a socat connection to the host port that reads the reply.
    func measureProbe() throws {
        guard let port = Port(options.portBase - 1), let guest = Port(80) else { throw BenchError("--port-base leaves no port for the probe") }
        var spec = SlirpLab.Spec(name: "probe", forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: guest)])
        spec.server = SlirpLab.Server(command: [tools.socat, "TCP-LISTEN:80,reuseaddr,fork", "SYSTEM:echo pong"], ports: [80])
        let instance: SlirpLab.Instance
        do { instance = try lab.start(spec) } catch { throw BenchError("starting the probe target: \(error)") }
        defer { lab.stop(instance) }
        log("probing one forward, \(options.runs) runs")
        let verdict = try runOK(slirpmon, ["fwd", "probe", "pid:\(instance.pid)", "1"])
        guard verdict.hasPrefix("WORKS") else { throw BenchError("fwd probe did not find the forward working: \(verdict.prefix(300))") }
        let probe = try Measure.repeated(options.runs) { try Measure.wall(slirpmon, ["fwd", "probe", "pid:\(instance.pid)", "1", "--json"]) }
        let byHand = try Measure.repeated(options.runs) { try Measure.wall(tools.socat, ["-u", "TCP:127.0.0.1:\(port.value)", "-"]) }
        figures.append(Figure(key: "fwd_probe", title: "fwd probe of one forward, round trip made (wall)", n: 1, unit: "s", slirpmon: probe,
                              baselines: [.init(name: "socat connect + reply (by hand)", stats: byHand)],
                              target: "< 0.050 s", met: probe.median < 0.05))
    }
}
