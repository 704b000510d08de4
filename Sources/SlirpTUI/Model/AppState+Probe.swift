import SlirpCore

/// The last probe of a forward in the monitor (`p` in the forwards pane): asked, then answered.
public struct ProbeState: Equatable, Sendable {
    public var identity: ProcessIdentity
    public var forward: ProbeForward
    /// nil while the probe runs.
    public var report: ProbeReport?
    public init(identity: ProcessIdentity, forward: ProbeForward, report: ProbeReport? = nil) {
        self.identity = identity
        self.forward = forward
        self.report = report
    }
}

/// What the runtime needs to probe one forward: the instance's row, the forward, and where it lives.
public struct ProbeRequest: Equatable, Sendable {
    public var identity: ProcessIdentity
    public var forward: ProbeForward
    public var site: ProbeSite
}

extension InstanceSnapshot {
    /// Where a probe looks for this instance (`ProbeSite`): slirp4netns, the carriers of its ports,
    /// processes likely inside its namespace.
    var probeSite: ProbeSite {
        ProbeSite(slirpPID: pid, netnsPath: netnsPath, guest: guest, gateway: gateway, disableHostLoopback: disableHostLoopback,
                  carriers: [pid] + rootlessPorts.filter { !$0.isChild }.map(\.pid) + (rootlessKit.map { [$0.pid] } ?? []),
                  insideHints: (container.map { $0.pid > 0 ? [$0.pid] : [] } ?? []) + rootlessPorts.filter(\.isChild).map(\.pid)
                      + (rootlessKit?.child.map { [$0.pid] } ?? []))
    }

    /// The `-p` ports rootlessport carries (`port_handler=rootlesskit`: no API socket lists them), one per port and protocol.
    var configuredPorts: [ProbeForward] {
        guard apiSocket == nil, rootlessKit == nil, let container, container.portHandler != "slirp4netns", !rootlessPorts.isEmpty else { return [] }
        return container.ports.flatMap(ProbeForward.configured)
    }
}

extension AppState {
    /// The forwards pane's rows a probe can take, in the pane's order: the API's forwards, a
    /// RootlessKit instance's ports, or the configured ports rootlessport carries.
    var probeCandidates: [ProbeForward] {
        guard let row = selectedRow else { return [] }
        if let list = selectedForwards?.forwards { return list.map(ProbeForward.init) }
        if let ports = selectedForwards?.ports, let kit = row.snapshot.rootlessKit {
            return ports.map { ProbeForward($0.port, portDriver: kit.portDriver) ?? ProbeForward(id: $0.id, proto: .tcp, hostAddr: $0.spec.parentIP, hostPort: $0.spec.parentPort, guestAddr: $0.spec.childIP, guestPort: $0.spec.childPort, carrier: .rootlesskit) }
        }
        return row.snapshot.configuredPorts
    }

    /// `p`: probes the forward under the cursor (off the input thread; it sends nothing but a connect).
    mutating func probeSelected() -> Reaction {
        if pane != .forwards { return show(.forwards) }
        guard let row = selectedRow, !row.isGone, !row.snapshot.isZombie, !row.snapshot.isDetached else {
            status = StatusMessage("cannot probe: the instance is not running", kind: .error)
            return .none
        }
        let candidates = probeCandidates
        guard !candidates.isEmpty else {
            status = StatusMessage("no forward to probe", kind: .error)
            return .none
        }
        let forward = candidates[min(max(0, forwardIndex), candidates.count - 1)]
        if let running = probe, running.report == nil {
            status = StatusMessage("a probe is running (\(running.forward.summary)): wait for it", kind: .error)
            return .none
        }
        probe = ProbeState(identity: row.snapshot.identity, forward: forward)
        status = StatusMessage("probing \(forward.summary), waiting...", kind: .waiting)
        return Reaction([.probeForward(ProbeRequest(identity: row.snapshot.identity, forward: forward, site: row.snapshot.probeSite))])
    }

    /// A probe answered: kept for the pane, said in the status line.
    mutating func probed(_ identity: ProcessIdentity, _ report: ProbeReport, at time: Double) {
        guard var current = probe, current.identity == identity else { return }
        current.report = report
        probe = current
        let said = "probe \(current.forward.summary): \(report.verdict.rawValue) (\(ProbeReport.ms(report.elapsedMilliseconds)))"
        status = StatusMessage(report.verdict == .works ? said : said + ": " + report.summary, kind: report.verdict == .works ? .info : .error)
        holdStatus()
        // A failed probe is an event of its instance (the monitor's own: `slirpmon events` cannot see it).
        if report.verdict != .works, let row = rows.first(where: { $0.snapshot.identity == identity }) {
            let f = current.forward
            let forward = f.id.map { HostForward(id: $0, proto: f.proto, hostAddr: f.hostAddr ?? "0.0.0.0", hostPort: f.hostPort,
                                                guestAddr: f.guestAddr ?? row.snapshot.guest ?? "", guestPort: f.guestPort) }
            let event = InventoryEvent(kind: .probeFailed, time: time, timing: .noticed, seen: false, process: identity, name: row.snapshot.name,
                                       containerID: row.snapshot.containerID, user: row.snapshot.user, forward: forward,
                                       detail: "probe of \(f.summary) failed: \(report.verdict.rawValue): \(report.summary)")
            _ = admit([event])
        }
    }

    /// The probe lines under the selected instance's forwards (its last probe), or none.
    func probeLines(width: Int) -> [String] {
        guard let probe, probe.identity == selected else { return [] }
        guard let report = probe.report else { return ["probing \(probe.forward.summary)..."] }
        return report.lines.flatMap { Format.wrap($0, width: max(10, width)) }
    }
}
