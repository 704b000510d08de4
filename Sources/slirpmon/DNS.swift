import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon dns TARGET`: does DNS work inside the instance's namespace, and if not, why.
    struct DNS: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns",
            abstract: "Ask slirp4netns's DNS address from inside the instance's namespace, timed; compare the namespace's resolv.conf; explain the host resolver it forwards to.",
            discussion: """
            Needs root (it joins the namespace). The address asked is the one Podman computes \
            (10.0.2.3, or --cidr's +3; fd00::3 too with --enable-ipv6). slirp4netns 1.2 forwards it \
            to the FIRST nameserver of that family in /etc/resolv.conf as slirp4netns sees it (a \
            loopback one such as 127.0.0.53 included, with --disable-host-loopback too), never to a \
            later one, and drops the query when there is none. --timeout is the wait for an answer \
            (fd00::3: 250 ms when slirp4netns has no IPv6 nameserver). Exit status 1 when DNS does not work.

            \(TargetHelp.rules)
            """)

        @Argument(help: TargetHelp.argument) var target: String
        @Option(name: .customLong("name"), parsing: .unconditional,
                help: ArgumentHelp("The name to ask for (any reply, \"no such name\" included, proves the path).", valueName: "name"))
        var name = DNSCheck.defaultName
        @OptionGroup var common: CommonOptions

        func run() throws {
            if case .failure(let error) = DNSMessage.labels(of: name) { throw CLIError.usage(error.description) }
            let process = try Targets.process(target)
            let report: DNSReport
            switch DNSCheck.run(process, name: name, timeout: common.timeout) {
            case .success(let r): report = r
            case .failure(let failure): throw CLIError.failed(failure.description)
            }
            if common.json {
                try FileHandleOutput.json(report)
            } else {
                FileHandleOutput.print(Self.text(report).map(\.terminalSafe).joined(separator: "\n"))
            }
            if report.verdict.status == .failure { throw ExitCode(1) }
        }

        /// The report as lines: the probes, the namespace's resolv.conf, the host resolver, the verdict.
        static func text(_ r: DNSReport) -> [String] {
            var lines = ["slirp4netns pid \(r.pid), asked from inside \(r.namespace)"]
            for p in r.probes {
                let result: String
                switch p.outcome {
                case .answered: result = "\(p.code ?? "?") in \(DNSCheck.milliseconds(p.milliseconds ?? 0))" + (p.addresses.isEmpty ? "" : ": " + p.addresses.joined(separator: ", "))
                case .refused: result = "refused (port unreachable) in \(DNSCheck.milliseconds(p.milliseconds ?? 0))"
                case .timeout: result = "no answer within \(DNSCheck.milliseconds(p.milliseconds ?? 0))"
                case .error: result = "not asked: \(p.error ?? "?")"
                }
                lines.append("  \(p.server.padding(toLength: 9, withPad: " ", startingAt: 0)) \(p.type.padding(toLength: 4, withPad: " ", startingAt: 0)) \(r.name)  \(result)")
            }
            if r.probes.isEmpty { lines.append("  nothing asked (--disable-dns)") }
            lines.append("namespace's resolv.conf:")
            for row in r.resolvConf {
                lines.append("  \(row.role.padding(toLength: 5, withPad: " ", startingAt: 0)) expected \(row.expected ?? "-"), observed \(row.observed ?? "-"): \(row.status.word)" + (row.note.map { "  \($0)" } ?? ""))
            }
            let h = r.hostResolver
            lines.append("host resolver (\(h.path)): " + (h.problem.map { "not read: \($0)" }
                ?? (h.nameservers.isEmpty ? "no nameserver" : "nameserver \(h.nameservers.joined(separator: ", "))")))
            lines.append("  slirp4netns forwards IPv4 queries to \(h.ipv4 ?? "none (dropped)"), IPv6 queries to \(h.ipv6 ?? "none (dropped)")")
            lines.append("verdict: \(r.verdict.status.rawValue.uppercased()): \(r.verdict.summary)")
            if let fix = r.verdict.fix { lines.append("fix: \(fix)") }
            lines += r.verdict.notes.map { "note: \($0)" }
            return lines
        }
    }
}
