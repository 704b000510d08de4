import ArgumentParser
import Foundation
import SlirpCore
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
            Exit status: 0 when every step passes, 1 when a step fails, 2 for invalid usage.
            """
        )

        @Argument(help: "A Podman container (name or ID): examine its create-time --network slirp4netns options.")
        var container: String?

        @Option(name: .long, help: "slirp4netns options as after --network slirp4netns: (e.g. mtu=65520,cidr=10.0.2.0/24).")
        var options: String?

        @Option(name: .long, help: "Seconds to wait for slirp4netns to report ready in the trial run.")
        var timeout: Double = 10

        @Flag(name: .customLong("no-trial"), help: "Do not start slirp4netns; run the other steps only.")
        var noTrial = false

        @Flag(name: .long, help: "Print the report as JSON (shape in the README).")
        var json = false

        func validate() throws {
            guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds, got \(timeout)") }
            if container != nil && options != nil {
                throw ValidationError("give either CONTAINER or --options, not both")
            }
        }

        func run() throws {
            if let container, geteuid() == 0 { try Self.becomeOwner(of: container) }
            let cleanup = TrialCleanup()
            InterruptGuard.install(cleanup)

            var request: StartupDoctor.Request
            if let container {
                let info: ContainerNetworkOptions
                do { info = try ContainerNetworkOptions.inspect(container) } catch { throw CLIError.failed(error.description) }
                guard info.usesSlirp4netns else {
                    throw CLIError.failed("container \(info.name) uses the \(info.networkMode.isEmpty ? "default" : info.networkMode) network, not slirp4netns: nothing for the doctor to examine")
                }
                request = StartupDoctor.Request(options: info.options, container: info)
            } else {
                request = StartupDoctor.Request(options: SlirpNetworkOptions.split(options ?? ""))
            }
            request.readyTimeout = timeout
            request.runTrial = !noTrial

            let text = DoctorText()
            if !json { FileHandleOutput.print(text.header(request)) }
            let report = StartupDoctor.run(request, cleanup: cleanup) { step in
                if !json { FileHandleOutput.print(text.step(step)) }
            }
            // A signal's cleanup ends the trial early: let the signal thread report and exit 130.
            InterruptGuard.parkIfInterrupted()
            if json {
                try FileHandleOutput.json(report)
            } else {
                FileHandleOutput.print(text.ending(report))
            }
            if !report.healthy { throw ExitCode(1) }
        }
    }
}

extension Slirpmon.Doctor {
    /// As root, a rootless user's container is examined as that user, as its Podman would
    /// start slirp4netns: slirpmon runs itself again through `runuser` with the user's
    /// environment (this process is replaced; the exit status is the user's doctor's).
    static func becomeOwner(of container: String) throws {
        let processes = (try? ProcessScanner().scan()) ?? []
        let containers = PodmanCatalog().snapshot(for: processes).containers
        guard let match = containers.first(where: { $0.name == container || $0.id.hasPrefix(container.lowercased()) }),
              match.ownerUID != 0, let user = match.ownerName else { return }
        guard let runuser = Executables.find("runuser") else {
            throw CLIError.failed("container \(container) belongs to \(user); runuser (util-linux) is needed to examine it as that user")
        }
        let me = (try? Files.readLink("/proc/self/exe")) ?? CommandLine.arguments[0]
        let home = UserNames.home(named: user) ?? "/home/\(user)"
        let argv = [runuser, "-u", user, "--", "env", "HOME=\(home)", "USER=\(user)", "LOGNAME=\(user)",
                    "XDG_RUNTIME_DIR=/run/user/\(match.ownerUID)", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
                    me] + Array(CommandLine.arguments.dropFirst())
        FileHandleOutput.error("slirpmon: container \(match.name) belongs to \(user): examining it as \(user), as its Podman would")
        let cArgs = argv.map { strdup($0) } + [nil]
        execv(runuser, cArgs)
        throw CLIError.failed("cannot run \(runuser): \(String(cString: strerror(errno)))")
    }
}

/// Text rendering of the doctor's report: pure functions from the report to lines.
struct DoctorText {
    /// Log lines shown in text form (`--json` has the whole log).
    var logLines = 8

    func header(_ request: StartupDoctor.Request) -> String {
        let what: String
        if let c = request.container {
            what = "container \(c.name) (\(Format.shortID(c.id))), \(c.state ?? "?"), --network slirp4netns:\(c.options.joined(separator: ",")), \(c.portMappings) port mapping(s)"
        } else {
            what = request.options.isEmpty ? "default options" : "options " + request.options.joined(separator: ",")
        }
        return "slirpmon doctor: Podman's slirp4netns start-up for \(what), as \(request.isRoot ? "root" : "uid \(request.uid) (rootless)")\n"
    }

    func step(_ step: DoctorStep) -> String {
        let tag: String
        switch step.status {
        case .passed: tag = "PASS"
        case .failed: tag = "FAIL"
        case .skipped: tag = "SKIP"
        case .warning: tag = "WARN"
        }
        var lines = ["\(tag)  \(step.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(step.title)"]
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
        if let verdict = report.verdict {
            out.append("VERDICT: the \(verdict.step) step fails: \(verdict.cause.kind.rawValue)")
            out.append("  cause: \(verdict.cause.cause)")
            out.append("  fix:   \(verdict.cause.fix)")
        } else {
            let warnings = report.steps.filter { $0.status == .warning }.map(\.name)
            out.append("VERDICT: healthy: slirp4netns starts as Podman would start it" + (warnings.isEmpty ? "" : " (warnings in: \(warnings.joined(separator: ", ")))"))
        }
        return out.joined(separator: "\n")
    }
}

extension DoctorText {
    /// slirp4netns prints its whole --help after a usage error: keep the `Usage:` line, drop the option list.
    static func collapsingHelp(_ lines: [String]) -> [String] { DoctorReport.collapsingHelp(lines) }
}

/// Ctrl-C, SIGTERM and SIGHUP during the doctor: remove what the trial created, then exit 130.
enum InterruptGuard {
    private final class Flag: @unchecked Sendable {
        let lock = NSLock()
        var raised = false
    }
    private static let flag = Flag()

    /// Blocks the calling thread for good once a signal was received (the signal thread exits the process).
    static func parkIfInterrupted() {
        flag.lock.lock()
        let raised = flag.raised
        flag.lock.unlock()
        while raised { pause() }
    }

    static func install(_ cleanup: TrialCleanup) {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let thread = Thread {
            var set = sigset_t()
            sigemptyset(&set)
            for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
            var received: Int32 = 0
            sigwait(&set, &received)
            flag.lock.lock()
            flag.raised = true
            flag.lock.unlock()
            let undone = cleanup.run()
            FileHandleOutput.error("slirpmon: interrupted; removed " + (undone.isEmpty ? "nothing (no trial was running)" : undone.joined(separator: ", ")))
            Glibc.exit(130)
        }
        thread.start()
    }
}
