import SlirpCore

/// The selected instance in words: process, netns, API socket, log, addresses, command line.
enum DetailsView {
    static func lines(_ state: AppState, width: Int) -> [Line] {
        guard let row = state.selectedRow else {
            return [[Span(state.loaded ? "no instance selected" : "waiting for the first scan...", .dim)]]
        }
        let s = row.snapshot
        if let detached = s.detached { return detachedLines(s, detached, readOnly: state.readOnly, width: width) }
        var lines: [Line] = []
        var head: Line = [Span("PID ", .dim), Span("\(s.pid)", .header), Span(" state ", .dim),
                          Span(s.state + (s.isZombie && !row.isGone ? " (zombie: exited, not reaped)" : ""), s.isZombie ? .error : .normal)]
        if row.isGone { head.append(Span("  gone: the process has exited", .error)) }
        head += [Span("  user ", .dim), Span(s.user ?? "?"), Span("  up ", .dim), Span(Format.duration(s.uptimeSeconds)),
                 Span("  RSS ", .dim), Span(Format.bytes(s.residentBytes)),
                 Span("  container ", .dim), Span(s.container != nil || s.rootlessNetwork != nil || s.rootlessKit != nil ? s.name : s.containerID.map { Format.shortID($0) + " (Podman did not report it)" } ?? "manual (not Podman)")]
        lines.append(head)
        for (label, text) in s.rootlessKit?.describedLines ?? [] {
            lines.append([Span(label.padded(to: max(12, label.count + 2)), .dim), Span(text)])
        }
        lines += PodmanLines.container(s, width: width)
        lines += findingLines(s.findings, width: width)
        if let check = state.dnsCheck, check.identity == s.identity { lines += dnsLines(check, width: width) }
        // Values not read from the running process say so: last seen while it ran, or unknown.
        let known = s.configuration.isKnown
        if let note = s.configuration.note {
            for (i, piece) in Format.wrap(note, width: max(10, width - 8)).enumerated() {
                lines.append([Span(i == 0 ? "config  " : "        ", .dim), Span(piece, .warning)])
            }
        }
        lines.append([Span("netns   ", .dim), Span(s.netnsPath ?? (known ? "?" : "unknown")), Span("  tap ", .dim), Span(known ? s.tapName : "unknown")])
        if !s.isZombie && !row.isGone, s.load != nil { lines.append(loadLine(s)) }
        if !known {
            lines.append([Span("API     ", .dim), Span("unknown: its command line is gone", .dim)])
        } else if let kit = s.rootlessKit, !s.isZombie, !row.isGone {
            // Its ports are RootlessKit's: its API is the instance's, slirp4netns's own socket is not asked.
            let blocker = s.forwardBlocker
            lines.append([Span("API     ", .dim), Span(kit.apiSocket ?? "RootlessKit's api.sock"), Span(": ", .dim),
                          Span(blocker ?? "RootlessKit's REST API, held by rootlesskit pid \(kit.pid): the Forwards pane lists, adds and removes its ports",
                               blocker == nil ? .ok : .warning)])
            if let entry = state.forwards[s.identity], let count = entry.count, let at = entry.listedAt {
                lines.append([Span("fwd     ", .dim), Span("\(count) as of \(at)"),
                              Span(": RootlessKit logs no request, so a change since cannot be seen; the Forwards pane lists again", .dim)])
            }
            if let socket = s.apiSocket {
                lines.append([Span("        ", .dim), Span(socket),
                              Span(": slirp4netns's own (the slirp4netns port driver's), not asked: RootlessKit does not list what is added there", .dim)])
            }
        } else if let socket = s.apiSocket, s.isZombie || row.isGone {
            lines.append([Span("API     ", .dim), Span(socket), Span(" (last seen): the process has exited, so it holds none", .dim)])
        } else if let socket = s.apiSocket {
            let held = s.socketStatus == .held
            lines.append([Span("API     ", .dim), Span(socket), Span(": ", .dim),
                          Span(s.socketDescription ?? "not checked", held ? .ok : .warning)])
            if let asOf = s.forwardsAsOf {
                lines.append([Span("fwd     ", .dim), Span("\(s.forwardCount.map(String.init) ?? "?") as of \(asOf)"),
                              Span(": its log is not a file (stderr a pipe or /dev/null), so a change since cannot be seen; the Forwards pane asks again", .dim)])
            } else if let error = s.forwardsError {
                lines.append([Span("fwd     ", .dim), Span(error, .warning)])
            }
        } else {
            lines.append([Span("API     ", .dim), Span("none (started without --api-socket): forwards cannot be added", .dim)])
        }
        if let path = s.logPath {
            lines.append([Span("log     ", .dim), Span(path), Span(s.logDeleted ? " (deleted)" : "", .warning)])
        } else if let kit = s.rootlessKit {
            lines.append([Span("log     ", .dim), Span("no file: slirp4netns writes to \(kit.log)")])
        } else {
            lines.append([Span("log     ", .dim), Span(s.logError ?? "unknown", .warning)])
        }
        if let error = s.addressError { lines.append([Span("cidr    ", .dim), Span(error, .error)]) }
        for (field, problem) in s.problems.sorted(by: { $0.key < $1.key }) {
            lines.append([Span("problem ", .dim), Span("\(field): \(problem)", .warning)])
        }

        // What a client's address looks like inside, from the port handler really in use.
        let clients = s.clientSource(gone: row.isGone)
        let said = clients.line.hasPrefix("clients: ") ? String(clients.line.dropFirst(9)) : String(clients.line.dropFirst(clients.line.hasPrefix("clients ") ? 8 : 0))
        for (i, piece) in Format.wrap(said, width: max(10, width - 8)).enumerated() {
            lines.append([Span(i == 0 ? "clients " : "        ", .dim), Span(piece, clients.sourceKept == false ? .warning : .normal)])
        }

        // Addresses: computed (Podman's rules) beside observed (inside the namespace).
        lines.append([])
        let roleW = 9, valueW = max(12, min(24, (width - roleW - 12) / 3))
        lines.append([Span("ADDRESS".padded(to: roleW) + " " + "EXPECTED".padded(to: valueW) + " " + "OBSERVED".padded(to: valueW) + " STATUS", .columnHeader)])
        if s.addressChecks.isEmpty {
            lines.append([Span("  not compared" + (s.observeError.map { ": \($0)" } ?? ""), .dim)])
        }
        for check in s.addressChecks {
            var line: Line = [Span(check.role.padded(to: roleW) + " "),
                              Span((check.expected ?? "-").padded(to: valueW) + " "),
                              Span((check.observed ?? "-").padded(to: valueW), check.status == .mismatch ? .addressMismatch : .normal),
                              Span(" "), Span(check.status.word, role(check.status))]
            if let note = check.note { line.append(Span(": " + note, .dim)) }
            lines.append(line)
        }

        lines.append([])
        lines.append([Span("COMMAND LINE, OPTION BY OPTION" + (s.configuration.lastSeenAt.map { " (last seen \(Format.wallTime(at: $0)), while it ran)" } ?? ""), .columnHeader)])
        let optionW = min(34, max(14, s.options.map { TextWidth.of($0.option) }.max() ?? 14))
        for option in s.options {
            lines.append([Span(option.option.padded(to: optionW) + " ", .header), Span(option.meaning)])
        }
        if s.options.isEmpty { lines.append([Span("(no arguments readable: \(s.configuration.unknownReason ?? (s.isZombie ? "the process is defunct" : "permission denied?")))", .dim)]) }
        return lines
    }

    /// CPU % and the tap's traffic, each with the window it was measured over (the tap's is the
    /// namespace's reading cadence: every refresh for the selection, every 30 s for the others).
    static func loadLine(_ s: InstanceSnapshot) -> Line {
        var line: Line = [Span("load    ", .dim)]
        guard let load = s.load, let cpu = load.cpuPercent else { return line + [Span("measuring (rates need a second reading)", .dim)] }
        line += [Span("CPU ", .dim), Span(Format.percent(cpu) + "%", load.pinned == true ? .warning : .normal)]
        if let demand = load.demandPercent, let window = load.pinnedWindow {
            line += [Span("  wanted ", .dim), Span(Format.percent(demand) + "%", load.pinned == true ? .warning : .normal),
                     Span(" of a CPU over \(Int(window.rounded())) s", .dim)]
        }
        if let rates = load.tapRates, let window = load.tapWindow {
            line += [Span("  \(s.tapName) rx ", .dim), Span("\(Format.rate(rates.rxBytes))/s \(Int(rates.rxPackets.rounded())) pkt/s"),
                     Span("  tx ", .dim), Span("\(Format.rate(rates.txBytes))/s \(Int(rates.txPackets.rounded())) pkt/s"),
                     Span(" over \(Format.seconds(window))", .dim)]
            if let age = load.tapAge, age >= 1 { line += [Span(", read \(Format.seconds(age)) ago", .dim)] }
        } else if let error = load.tapError {
            line += [Span("  \(s.tapName): ", .dim), Span(error, .dim)]
        } else {
            line += [Span("  \(s.tapName): measuring", .dim)]
        }
        return line
    }

    /// The passive checks' findings, each with its role; a quiet line when there are none.
    static func findingLines(_ findings: [Finding], width: Int) -> [Line] {
        guard !findings.isEmpty else {
            return [[Span("checks  ", .dim), Span("process, API socket, log: nothing wrong found", .ok)]]
        }
        var lines: [Line] = []
        for finding in findings {
            let role: Role = finding.severity == .failure ? .error : .warning
            let label = finding.severity == .failure ? "FAILURE " : "WARNING "
            let text = Format.wrap("\(finding.check): \(finding.message)", width: max(10, width - 8))
            for (i, piece) in text.enumerated() {
                lines.append([Span(i == 0 ? label : "        ", i == 0 ? role : .dim), Span(piece, role)])
            }
            if let cause = finding.cause {
                for (i, piece) in Format.wrap("fix: " + cause.fix, width: max(10, width - 8)).enumerated() {
                    lines.append([Span("        "), Span(piece, i == 0 ? .normal : .normal)])
                }
            }
        }
        return lines
    }

    /// The DNS check of the selected instance (`N`): waiting, or its probes, verdict and fix.
    static func dnsLines(_ check: DNSCheckRun, width: Int) -> [Line] {
        func wrapped(_ label: String, _ text: String, _ role: Role) -> [Line] {
            Format.wrap(text, width: max(10, width - 8)).enumerated().map { i, piece in
                [Span(i == 0 ? label : "        ", .dim), Span(piece, role)]
            }
        }
        guard let report = check.report else {
            return check.error.map { wrapped("DNS     ", "not checked: \($0)", .error) } ?? [[Span("DNS     ", .dim), Span("asking from inside the namespace...", .dim)]]
        }
        var lines: [Line] = []
        for probe in report.probes {
            let time = DNSCheck.milliseconds(probe.milliseconds ?? 0)
            let (text, role): (String, Role) = switch probe.outcome {
            case .answered: ("\(probe.code ?? "?") in \(time)" + (probe.addresses.isEmpty ? "" : ": " + probe.addresses.joined(separator: ", ")), probe.resolverAnswers ? .ok : .error)
            case .refused: ("refused in \(time)", .error)
            case .timeout: ("no answer within \(time)", .warning)
            case .error: ("not asked: \(probe.error ?? "?")", .error)
            }
            lines.append([Span("DNS     ", .dim), Span("\(probe.server) \(probe.type) \(report.name): "), Span(text, role)])
        }
        let v = report.verdict
        lines += wrapped("        ", "\(v.status.rawValue.uppercased()): \(v.summary)", v.status == .ok ? .ok : v.status == .warning ? .warning : .error)
        if let fix = v.fix { lines += wrapped("        ", "fix: " + fix, .normal) }
        for note in v.notes { lines += wrapped("        ", "note: " + note, .dim) }
        return lines
    }

    /// A container in slirp4netns mode whose slirp4netns is not running.
    static func detachedLines(_ s: InstanceSnapshot, _ detached: DetachedRow, readOnly: Bool, width: Int) -> [Line] {
        var lines: [Line] = []
        let role: Role = detached.isFailure ? .warning : .gone
        let headline = detached.isFailure ? (s.container?.state == "created" ? "FAILED STARTUP: no slirp4netns is running" : "NO NETWORK: no slirp4netns is running")
            : "STOPPED: no slirp4netns (it exits with the container)"
        lines.append([Span(s.name + "  ", .header), Span(headline, role)])
        for (i, piece) in Format.wrap(detached.reason, width: max(10, width - 8)).enumerated() {
            lines.append([Span(i == 0 ? "why     " : "        ", .dim), Span(piece, role)])
        }
        lines += PodmanLines.container(s, width: width)
        if !s.findings.isEmpty { lines += findingLines(s.findings, width: width) }
        if detached.isFailure {
            lines.append([])
            let hint = "Press D (F9) to run the startup doctor: it replays Podman's slirp4netns start-up for these options in a scratch namespace, step by step, and names the cause and the fix. It changes nothing of the container."
            lines += Format.wrap(hint, width: width).map { [Span($0, .header)] }
            if readOnly { lines.append([Span("(available with --readonly too)", .dim)]) }
        }
        return lines
    }

    /// The role of an address check's word (`AddressCheck.Status.word`).
    static func role(_ status: AddressCheck.Status) -> Role {
        switch status {
        case .match: .ok
        case .mismatch: .addressMismatch
        case .notComputable: .error
        case .notObserved, .notConfigured: .dim
        }
    }

    static func draw(_ state: AppState, layout: Layout, into screen: inout Screen) {
        let all = lines(state, width: screen.width)
        let top = min(max(0, state.paneTop), max(0, all.count - layout.paneHeight))
        for i in 0..<layout.paneHeight where top + i < all.count {
            screen.draw(all[top + i], x: 0, y: layout.paneTop + i, width: screen.width)
        }
    }
}
