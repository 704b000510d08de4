import ArgumentParser
import Foundation
import SlirpCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Slirpmon {
    /// `slirpmon doctor`: reproduce Podman's slirp4netns start-up and explain a failure.
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Start slirp4netns the way Podman does, step by step, and explain why it fails.",
            discussion: """
            Steps: the binary (containers.conf network_cmd_path or PATH), the options (network_cmd_options \
            then the container's, parsed as Podman does), features from --help and Podman's argument list, \
            a real start in a scratch network namespace (removed afterwards, also on Ctrl-C), and host checks \
            (/dev/net/tun, user namespaces, API socket path length, tmp_dir, outbound addresses). \
            With --docker-rootless USER: a Docker rootless start instead (dockerd-rootless.sh's \
            DOCKERD_ROOTLESS_ROOTLESSKIT_* variables from the user's systemd unit and --env, the rootlesskit \
            command line it execs, /dev/net/tun and subordinate ids as the user, and that command line run \
            for real with a private state directory); as root it runs as USER. \
            Exit status: 0 when every step passes, 1 when a step fails, 2 for invalid usage.
            """
        )

        @Argument(help: "A Podman container (name, ID or unique ID prefix; name:NAME or id:PREFIX names one kind only, and a target that matches two containers is refused): examine its create-time --network slirp4netns options.")
        var container: String?

        @Option(name: .long, help: "slirp4netns options as after --network slirp4netns: (e.g. mtu=65520,cidr=10.0.2.0/24).")
        var options: String?

        @Option(name: .customLong("timeout"), parsing: .unconditional,
                help: ArgumentHelp("Seconds to wait for slirp4netns to report ready in the trial run.", valueName: "timeout"))
        var timeoutArgument = WrittenNumber<Double>(10)
        var timeout: Double { timeoutArgument.value }

        @Option(name: .customLong("docker-rootless"), help: ArgumentHelp("Examine USER's Docker rootless start (dockerd-rootless.sh, rootlesskit, slirp4netns) instead of Podman's.", valueName: "user"))
        var dockerRootless: String?

        @Option(name: .customLong("env"), help: ArgumentHelp("With --docker-rootless: a variable the daemon starts with, over the unit's (repeatable), e.g. DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=1500.", valueName: "name=value"))
        var environment: [String] = []

        @Flag(name: .customLong("no-trial"), help: "Do not start slirp4netns; run the other steps only.")
        var noTrial = false

        @Flag(name: .long, help: "Print the report as JSON (shape in the README).")
        var json = false

        func validate() throws {
            guard timeoutArgument.isNumber(within: CommonOptions.isValidTimeout) else { throw ValidationError(CommonOptions.timeoutRange(got: timeoutArgument.written)) }
            if container != nil && options != nil {
                throw ValidationError("give either CONTAINER or --options, not both")
            }
            try validateDockerRootless()
        }

        func run() throws {
            if let user = dockerRootless { return try runDockerRootless(user) }
            // The container is resolved as `show` and `fwd` resolve a TARGET (`TargetResolver`): as root,
            // another user's is examined as that user; one's own is read by the ID resolved. A name
            // Podman did not report is left to Podman's own words, an explicit form is not.
            var examined = container
            let (match, podmanFailures) = try container.map(Self.resolve) ?? (nil, [])
            if let match {
                if geteuid() == 0, match.ownerUID != 0 { throw ExitCode(try Self.examineAsOwner(match, timeout: timeout)) }
                examined = match.id
            } else if let container, (try? TargetResolver.Target(parsing: container))?.kind != nil {
                // Podman's failures may be why, as `show` and `fwd` say.
                let incomplete = podmanFailures.isEmpty ? "" : "; Podman's answer was incomplete: \(podmanFailures.joined(separator: "; "))"
                throw CLIError.failed("no container matches \(container.abbreviatedQuote) (podman ps -a lists them)\(incomplete)")
            }
            let cleanup = TrialCleanup()
            InterruptGuard.install(cleanup)

            var request: StartupDoctor.Request
            if let container = examined {
                let info: ContainerNetworkOptions
                do { info = try ContainerNetworkOptions.inspect(container) } catch { throw CLIError.failed(error.description) }
                guard info.usesSlirp4netns else {
                    // Rootless, a Podman network's bridge lives in the user's rootless network namespace,
                    // served by one slirp4netns for all the user's containers on Podman networks.
                    if info.networkMode == "bridge" && geteuid() != 0 {
                        throw CLIError.failed("container \(info.name) is on a Podman network (bridge): rootless, it reaches the outside through the user's rootless network, one slirp4netns for all the user's containers on Podman networks (`\(Shell.command(["slirpmon", "show", info.name]))` shows it); the doctor examines the startup of a container's own slirp4netns (--network slirp4netns) only")
                    }
                    throw CLIError.failed("container \(info.name) uses the \(info.networkMode.isEmpty ? "default" : info.networkMode) network, not slirp4netns: nothing for the doctor to examine")
                }
                request = StartupDoctor.Request(options: info.options, container: info)
            } else {
                request = StartupDoctor.Request(options: SlirpNetworkOptions.split(options ?? ""))
            }
            request.readyTimeout = timeout
            request.runTrial = !noTrial

            let text = DoctorText()
            try present(header: text.header(request), run: { StartupDoctor.run(request, cleanup: cleanup, progress: $0) },
                        healthy: \.healthy, ending: text.ending)
        }

        /// Runs a doctor: the header and each step as it finishes, then the ending (or the report
        /// as JSON); exit 1 when a step failed.
        func present<Report: Encodable>(header: String, run: ((DoctorStep) -> Void) -> Report,
                                        healthy: (Report) -> Bool, ending: (Report) -> String) throws {
            if !json { FileHandleOutput.print(header) }
            let report = run { step in
                if !json { FileHandleOutput.print(DoctorText().step(step)) }
            }
            // A signal's cleanup ends the trial early: let the signal thread report and exit 128 + the signal.
            InterruptGuard.parkIfInterrupted()
            if json {
                try FileHandleOutput.json(report)
            } else {
                FileHandleOutput.print(ending(report))
            }
            if !healthy(report) { throw ExitCode(1) }
        }
    }
}

extension Slirpmon.Doctor {
    /// The one container `target` names among every owner's (`TargetResolver.container`: a name or ID
    /// prefix that names containers of two owners names neither, so root's doctor never examines a
    /// user's "web" for root's, nor the other way); nil when none does, with Podman's failures
    /// (a user's Podman that did not answer may be why).
    ///
    /// A PID is no container: `pid:N`, or digits that name no container but a running slirp4netns
    /// (whose PID an operator copied from `list`), get what to run instead, not Podman's "no such
    /// container" (exit 2, as any TARGET of the wrong kind).
    static func resolve(_ target: String) throws -> (PodmanContainer?, podmanFailures: [String]) {
        let parsed = try? TargetResolver.Target(parsing: target)
        if let parsed, parsed.kind == .pid { throw CLIError.usage(notAContainer(parsed.value, process: nil, containers: [])) }
        let processes = (try? ProcessScanner().scan()) ?? []
        let podman = PodmanCatalog().snapshot(for: processes)
        let containers = podman.containers
        let match: PodmanContainer?
        do { match = try TargetResolver.container(target, among: containers) } catch { throw Targets.cliError(error) }
        if match == nil, let parsed, parsed.kind == nil, let pid = Int32(parsed.value), pid > 0,
           let process = processes.first(where: { $0.pid == pid }) {
            throw CLIError.usage(notAContainer(parsed.value, process: process, containers: containers))
        }
        return (match, podman.failures)
    }

    /// The doctor examines a container; for a slirp4netns PID, what to run instead (and, when Podman
    /// started that slirp4netns, the doctor command for its container).
    static func notAContainer(_ pid: String, process: SlirpProcess?, containers: [PodmanContainer]) -> String {
        let owner = process?.containerID.flatMap { id in containers.first { $0.id == id } }
        let what = process == nil ? "\(pid.abbreviatedQuote) is a PID" : "\(pid) is the PID of a running slirp4netns, not a container"
        let doctor = owner.map { "; `\(Shell.command(["slirpmon", "doctor", "id:" + String($0.id.prefix(12))]))` examines its container \($0.name)" } ?? ""
        return "\(what): the doctor examines a container (its name or ID, name:NAME, id:PREFIX) or --options; for a running slirp4netns use `slirpmon show pid:\(pid)`\(doctor)"
    }

    /// As root, a rootless user's container is examined as that user, as its Podman would start
    /// slirp4netns: slirpmon runs itself again as the user, as an `UntrustedProgram` (a session of
    /// its own without root's terminal, the user's environment only: the user's `network_cmd_path`
    /// runs in it), and its output is relayed here with control characters made visible. Ctrl-C
    /// and SIGTERM are passed on so that the trial's cleanup runs. Returns the user's doctor's exit status.
    static func examineAsOwner(_ match: PodmanContainer, timeout: Double) throws -> Int32 {
        guard let account = UntrustedProgram.Account.of(uid: match.ownerUID) else {
            throw CLIError.failed("container \(match.name) belongs to uid \(match.ownerUID), which has no passwd entry: cannot examine it as its owner")
        }
        FileHandleOutput.error("slirpmon: container \(match.name) belongs to \(account.name): examining it as \(account.name), as its Podman would")
        // The user's doctor reads the container (up to 20 s), probes slirp4netns and waits `timeout` for the trial.
        return try rerun(as: account, limit: 2 * timeout + 120)
    }

    /// Runs this slirpmon command again as `account` (see `examineAsOwner`) and relays its
    /// output; returns its exit status. Past `limit` seconds it is stopped.
    static func rerun(as account: UntrustedProgram.Account, limit: Double) throws -> Int32 {
        let me = (try? Files.readLink("/proc/self/exe")) ?? CommandLine.arguments[0]
        var relay = OwnerOutputRelay()
        let result = UntrustedProgram(me, Array(CommandLine.arguments.dropFirst()), as: account)
            .stream(deadline: .after(seconds: limit), forwarding: [SIGINT, SIGTERM, SIGHUP]) { stream, bytes in
                relay.take(bytes, from: stream)
                return true
            }
        relay.finish()
        switch result {
        case .success(let status): return status
        case .failure(let error) where error.code == ETIMEDOUT:
            throw CLIError.failed("the doctor run as \(account.name) did not finish within \(Int(limit)) s: stopped it")
        case .failure(let error):
            throw CLIError.failed("cannot run the doctor as \(account.name): \(error)")
        }
    }
}

/// The output of the doctor run as a container's owner, passed on line by line as it comes,
/// as text from outside: that process runs as the user, who may be able to make it print
/// escape sequences for root's terminal.
private struct OwnerOutputRelay {
    private var pending: [UntrustedProgram.Stream: [UInt8]] = [.output: [], .errors: []]

    mutating func take(_ bytes: ArraySlice<UInt8>, from stream: UntrustedProgram.Stream) {
        var buffer = pending[stream, default: []] + bytes
        while let newline = buffer.firstIndex(of: 0x0A) {
            write(Array(buffer[...newline]), to: stream)
            buffer.removeSubrange(...newline)
        }
        // A line longer than this is passed on in pieces (a UTF-8 sequence cut there shows as U+FFFD).
        if buffer.count > 16384 { write(buffer, to: stream); buffer = [] }
        pending[stream] = buffer
    }

    mutating func finish() {
        for stream in [UntrustedProgram.Stream.output, .errors] where !(pending[stream] ?? []).isEmpty {
            write((pending[stream] ?? []) + [0x0A], to: stream)
            pending[stream] = []
        }
    }

    /// Through the CLI's one output path: newlines and tabs kept, every other control and
    /// hidden character shown as a visible escape (`TerminalText`).
    private func write(_ bytes: [UInt8], to stream: UntrustedProgram.Stream) {
        let text = String(decoding: bytes, as: UTF8.self)
        if stream == .output { FileHandleOutput.print(text) } else { FileHandleOutput.errorBlock(text) }
    }
}

/// Text rendering of the doctor's report: pure functions from the report to lines.
struct DoctorText {
    /// Log lines shown in text form (`--json` has the whole log).
    var logLines = 8

    func header(_ request: StartupDoctor.Request) -> String {
        let what: String
        if let c = request.container {
            let network = "slirp4netns" + (c.options.isEmpty ? "" : ":" + c.options.joined(separator: ","))
            what = "container \(c.name) (\(Format.shortID(c.id))), \(c.state ?? "?"), --network \(network), \(c.portMappings) port mapping(s)"
        } else {
            what = request.options.isEmpty ? "default options" : "options " + request.options.joined(separator: ",")
        }
        return "slirpmon doctor: Podman's slirp4netns start-up for \(what), as \(request.isRoot ? "root" : "uid \(request.uid) (rootless)")\n"
    }

    func step(_ step: DoctorStep) -> String {
        var lines = ["\(step.status.tag)  \(step.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(step.title)"]
        lines += step.details.map { "      \($0)" }
        return lines.joined(separator: "\n")
    }

    func ending(_ report: DoctorReport) -> String {
        var out: [String] = []
        if let log = report.log, report.verdict != nil {
            let lines = DoctorText.collapsingHelp(log.split(separator: "\n").map(String.init))
            out.append("")
            out.append("trial log (Podman prints this once, then the file is gone):")
            out += lines.prefix(logLines).map { "  | \($0)" }
            if lines.count > logLines { out.append("  | ... \(lines.count - logLines) more lines (--json has the whole log)") }
            if lines.isEmpty { out.append("  (empty)") }
        }
        out.append("")
        out += verdictLines(report.verdict, steps: report.steps, healthy: "slirp4netns starts as Podman would start it")
        return out.joined(separator: "\n")
    }

    /// The verdict's lines (the Podman doctor's and the Docker rootless doctor's): the failure
    /// with its cause and fix, or `healthy` with the steps that warn.
    func verdictLines(_ verdict: DoctorReport.Verdict?, steps: [DoctorStep], healthy: String) -> [String] {
        guard let verdict else {
            let warnings = steps.filter { $0.status == .warning }.map(\.name)
            return ["VERDICT: healthy: \(healthy)" + (warnings.isEmpty ? "" : " (warnings in: \(warnings.joined(separator: ", ")))")]
        }
        return ["VERDICT: the \(verdict.step) step fails: \(verdict.cause.kind.rawValue)", "  cause: \(verdict.cause.cause)", "  fix:   \(verdict.cause.fix)"]
    }
}

extension DoctorText {
    /// slirp4netns prints its whole --help after a usage error: keep the `Usage:` line, drop the option list.
    static func collapsingHelp(_ lines: [String]) -> [String] { DoctorReport.collapsingHelp(lines) }
}

/// Ctrl-C, SIGTERM and SIGHUP during the doctor: remove what the trial created, then exit with
/// 128 + the signal (130, 143, 129), as a shell reports a command a signal ended.
enum InterruptGuard {
    private static let raised = Atomic<Bool>(false)

    /// Blocks the calling thread for good once a signal was received (the signal thread exits the process).
    static func parkIfInterrupted() {
        while raised.load(ordering: .acquiring) { pause() }
    }

    static func install(_ cleanup: TrialCleanup) {
        TerminationSignals.handle { signal in
            raised.store(true, ordering: .releasing)
            let undone = cleanup.run()
            FileHandleOutput.error("slirpmon: interrupted; removed " + (undone.isEmpty ? "nothing (no trial was running)" : undone.joined(separator: ", ")))
            Glibc.exit(128 + signal)
        }
    }
}
