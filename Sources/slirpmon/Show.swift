import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon show TARGET`: everything known about one instance.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one instance: decoded options, computed vs observed addresses, API socket, forwards, log.",
            discussion: TargetHelp.rules)

        @Argument(help: TargetHelp.argument) var target: String
        @OptionGroup var common: CommonOptions

        func run() throws {
            let instance = try Targets.instance(target, common: common)
            let r = InstanceReport(instance, detailed: true)
            let findings = PassiveChecks.run(on: instance)
            if common.json {
                let ports = instance.rootlessKit.map { RootlessKitFwd.ShownPorts(RootlessKitTarget(process: instance.process, kit: $0), timeout: common.timeout) }
                try FileHandleOutput.json(ShowJSON(report: r, findings: findings, rootlessKitPorts: ports))
                return
            }
            // Each line is one line whatever a field holds (`terminalSafe`: a newline in a user's
            // path cannot start a line of its own); tables escape their cells.
            var out: [String] = []
            func line(_ text: String) { out.append(text.terminalSafe) }
            func line(contentsOf lines: [String]) { out.append(contentsOf: lines.map(\.terminalSafe)) }
            line("slirp4netns pid \(r.pid) (parent \(r.ppid)), user \(r.user ?? "?"), state \(r.zombie ? "defunct (zombie)" : r.state), up \(Format.duration(r.uptimeSeconds)), RSS \(Format.bytes(r.rssBytes))")
            let acting = instance.acting
            if let acting {
                line("acting:    \(acting.note)" + (instance.container == nil ? "" : "; its Podman commands run as \(acting.ownerWord)"))
            }
            if let c = instance.container {
                line("container: \(c.name) (\(c.shortID)), image \(c.image), state \(c.state), owner \(c.ownerName ?? String(c.ownerUID))")
                if c.isInfra { line("pod:       \(c.podName ?? "?") — members: \(instance.podMembers.map(\.name).joined(separator: ", "))") }
                line("network:   slirp4netns\(c.networkOptions.isEmpty ? " (Podman's defaults)" : ":" + c.networkOptions.joined(separator: ","))  (port handler \(c.portHandler))")
                line("ports:     \(c.ports.isEmpty ? "none configured" : c.ports.map(\.flag).joined(separator: " "))")
                if c.portHandler != "slirp4netns" {
                    let carriers = instance.rootlessPorts.map { "\($0.isChild ? "rootlessport-child" : "rootlessport") pid \($0.pid)" }
                    line("           carried by \(carriers.isEmpty ? "no rootlessport process found" : carriers.joined(separator: ", "))")
                    line("           live forwards need the slirp4netns API socket: create the container with --network slirp4netns:port_handler=slirp4netns and at least one -p")
                }
            } else if let network = instance.rootlessNetwork {
                for (label, text) in network.describedLines { line("\((label + ":").padding(toLength: 11, withPad: " ", startingAt: 0))\(text)") }
            } else if let kit = instance.rootlessKit {
                for (label, text) in kit.describedLines { line("\((label + ":").padding(toLength: max(11, label.count + 2), withPad: " ", startingAt: 0))\(text)") }
            } else {
                line("container: \(r.containerID.map { "\($0) (Podman did not report it)" } ?? "none (started by hand)")")
            }
            line(r.clientSource?.line ?? "clients appear as unknown (port handler unknown)")
            // A defunct process's configuration is last seen, or unknown: never slirp4netns's defaults as facts.
            let source = instance.process.configurationSource
            if let note = source.note { line("configuration: \(note)") }
            line("netns:     \(r.netns ?? (source.isKnown ? "?" : "unknown"))  tap: \(r.tap ?? "unknown")")
            line("")
            line(source.lastSeenAt.map { "command line (last seen \(Format.wallTime(at: $0)), while it ran):" } ?? "command line:")
            line("  " + (source.isKnown ? (r.arguments ?? []).joined(separator: " ") : "(unknown: \(source.unknownReason ?? ""))"))
            // The tables fit the terminal (80 columns into a pipe): a long --api-socket= path is not
            // allowed to push every meaning past the right edge.
            let width = TerminalOutput.columns(1)
            var options = TextTable(header: ["  OPTION", "MEANING"])
            options.rows = (r.options ?? []).map { ["  " + $0.option, $0.meaning] }
            out.append(options.rendered(fitting: width))
            line("")
            line(source.isKnown ? "addresses (computed by Podman's rules\(source.lastSeenAt == nil ? "" : " from the last-seen configuration") vs observed in the namespace):"
                 : "addresses: not computed: the configuration they follow from is unknown")
            var table = TextTable(header: ["  ROLE", "EXPECTED", "OBSERVED", "STATUS", "NOTE"])
            for check in r.addresses ?? [] {
                table.rows.append(["  " + check.role, check.expected ?? "-", check.observed ?? "-",
                                   check.status.word, check.note ?? ""])
            }
            out.append(table.rendered(fitting: width))
            if let error = r.observeError { line("  (namespace not read: \(error))") }
            line("")
            if let kit = instance.rootlessKit, !r.zombie {
                line(contentsOf: RootlessKitFwd.showLines(RootlessKitTarget(process: instance.process, kit: kit), slirpSocket: r.apiSocket, timeout: common.timeout))
            } else if let socket = r.apiSocket, r.zombie {
                line("API socket: \(socket) (last seen) — not checked: the process is defunct, so it holds none")
            } else if !source.isKnown {
                line("API socket: unknown — its command line is gone")
            } else if let socket = r.apiSocket {
                line("API socket: \(socket) — \(instance.socketOwnership?.description ?? "?")")
                if let forwards = r.forwards {
                    line("forwards (\(forwards.count)):")
                    let unpersisted = Set(instance.unpersistedForwards.map(\.id))
                    line(contentsOf: forwards.map { "  [\($0.id)] \($0.summary)\(unpersisted.contains($0.id) ? "   (live only: not persisted)" : "")" })
                    if let plan = instance.persistPlan, plan.steps.isEmpty {
                        line("to make the live forwards permanent: \(plan.consequence)")
                    } else if let plan = instance.persistPlan {
                        line("to make the live forwards permanent, run these steps (\(plan.consequence)):")
                        line(contentsOf: plan.steps.map { "  " + $0 })
                    }
                } else if let error = r.forwardsError {
                    line("forwards: not listed: \(error)")
                }
            } else {
                line("API socket: none — \(instance.forwardBlocker ?? "")")
            }
            if let log = r.log {
                line("log: \(log.originalPath)\(log.deleted ? " (deleted)" : "") via /proc/\(r.pid)/fd/\(log.fd), \(Format.bytes(log.sizeBytes))")
            } else if let kit = instance.rootlessKit {
                line("log: no file: slirp4netns writes to \(kit.log)")
            } else if let error = r.logError {
                line("log: \(error)")
            }
            for (field, problem) in r.problems.sorted(by: { $0.key < $1.key }) { line("note: \(field): \(problem)") }
            line(findings.isEmpty ? "findings: none" : "findings:")
            for finding in findings {
                line("  \(finding.severity == .failure ? "FAIL" : "WARN") \(finding.check): \(finding.message)")
                if let cause = finding.cause { line("       fix: \(cause.fix)") }
            }
            FileHandleOutput.print(out.joined(separator: "\n"))
        }
    }
}

/// `show --json`: the instance report with the passive checks' `findings` beside its keys.
struct ShowJSON: Encodable {
    let report: InstanceReport
    let findings: [Finding]
    /// A RootlessKit instance's ports through its API (nil for the others: a defunct slirp4netns has no RootlessKit).
    let rootlessKitPorts: RootlessKitFwd.ShownPorts?

    enum CodingKeys: String, CodingKey { case findings, rootlessKitPorts = "rootlesskit_ports", rootlessKitPortsError = "rootlesskit_ports_error" }

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(findings, forKey: .findings)
        try c.encode(rootlessKitPorts?.forwards?.map(RootlessKitForwardJSON.init), forKey: .rootlessKitPorts)
        try c.encode(rootlessKitPorts?.notListed, forKey: .rootlessKitPortsError)
    }
}

/// TARGET arguments, resolved in core (`TargetResolver`); failures become the CLI's one-line errors.
enum Targets {
    /// The process TARGET names.
    static func process(_ target: String) throws -> SlirpProcess {
        do { return try TargetResolver.process(target) } catch { throw cliError(error) }
    }

    /// Everything about TARGET; only it is read and asked.
    static func instance(_ target: String, common: CommonOptions) throws -> SlirpInstance {
        do { return try TargetResolver.instance(target, apiTimeout: common.timeout) } catch { throw cliError(error) }
    }

    /// The API socket of TARGET, refusing (before anything is sent) an instance that cannot take requests;
    /// `unverified`: the operator's `--unverified`, to send to a socket whose owner cannot be proven.
    /// `endpoint`: TARGET's, when the caller resolved it already (`FwdRoute`).
    static func client(_ target: String, timeout: Double, unverified: Bool = false, endpoint found: APIEndpoint? = nil) throws -> (APIEndpoint, APIClient) {
        let endpoint: APIEndpoint
        if let found { endpoint = found } else {
            do { endpoint = try TargetResolver.endpoint(target) } catch { throw cliError(error) }
        }
        let pid = endpoint.process.pid
        if let blocker = endpoint.blocker(allowingUnverified: unverified) {
            let override = endpoint.ownership?.isUnverified == true ? "; `--unverified` sends anyway (SO_PEERCRED still checks that pid \(pid) listens)" : ""
            throw CLIError.failed("pid \(pid): \(blocker)\(override)")
        }
        guard let client = endpoint.client(timeout: timeout) else { throw CLIError.failed("pid \(pid) has no API socket") }
        return (endpoint, client)
    }

    /// A malformed explicit form (`pid:x`) is invalid usage (exit 2); anything else failed (exit 1).
    static func cliError(_ failure: TargetResolver.Failure) -> CLIError {
        if case .invalidForm = failure { return .usage(failure.description) }
        return .failed(failure.description)
    }
}
