import ArgumentParser
import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// `slirpmon doctor --docker-rootless USER`: a Docker rootless start, step by step (`DockerRootlessDoctor`).
extension Slirpmon.Doctor {
    func validateDockerRootless() throws {
        guard let user = dockerRootless else {
            if !environment.isEmpty { throw ValidationError("--env goes with --docker-rootless USER") }
            return
        }
        if container != nil || options != nil { throw ValidationError("give --docker-rootless USER alone, without CONTAINER or --options") }
        if user.isEmpty { throw ValidationError("--docker-rootless needs a user name or uid") }
        for assignment in environment {
            guard let eq = assignment.firstIndex(of: "="), DockerRootlessSettings.isVariableName(assignment[..<eq]) else {
                throw ValidationError("--env takes NAME=VALUE (e.g. DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=1500), not \(assignment.abbreviatedQuote)")
            }
        }
    }

    /// As root, runs again as the user (the script, its PATH, the unit and rootlesskit are the
    /// user's: nothing of theirs runs or is opened as root); as the user, examines their own.
    func runDockerRootless(_ user: String) throws {
        guard let account = UntrustedProgram.Account.named(user) ?? UInt32(user).flatMap(UntrustedProgram.Account.of) else {
            throw CLIError.failed("no user \(user.abbreviatedQuote) (no passwd entry): name the user who runs dockerd-rootless.sh")
        }
        if account.uid == 0 {
            throw CLIError.usage("dockerd-rootless.sh runs as an ordinary user and refuses root: name the user who runs the rootless daemon")
        }
        if geteuid() == 0 {
            // The login environment is slirpmon's for the user, not the daemon's (which root does not read): said, with how to give the daemon's.
            FileHandleOutput.error("slirpmon: examining \(account.name)'s Docker rootless as \(account.name), as its daemon starts, in a login environment "
                + "of slirpmon's (\(account.environment.filter { $0.hasPrefix("PATH=") || $0.hasPrefix("XDG_RUNTIME_DIR=") }.joined(separator: " "))), "
                + "not the daemon's: give what differs with --env NAME=VALUE (e.g. a PATH with ~/bin)")
            throw ExitCode(try Self.rerun(as: account, limit: timeout + 120))
        }
        guard geteuid() == account.uid else {
            throw CLIError.failed("this is \(account.name)'s Docker rootless and slirpmon runs as uid \(geteuid()): run it as \(account.name) or as root")
        }
        let cleanup = TrialCleanup()
        InterruptGuard.install(cleanup)
        var request = DockerRootlessDoctor.Request(account: account, environment: ProcessInfo.processInfo.environment,
                                                   overrides: environment.map { assignment in
                                                       let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                                                       return (String(parts.first ?? ""), parts.count > 1 ? String(parts[1]) : "")
                                                   })
        request.runTrial = !noTrial
        request.timeout = timeout
        let text = DoctorText()
        try present(header: "slirpmon doctor: Docker rootless start of \(account.name) (uid \(account.uid)), as dockerd-rootless.sh does it\n",
                    run: { DockerRootlessDoctor.run(request, cleanup: cleanup, progress: $0) }, healthy: \.healthy, ending: text.ending)
    }
}

extension DoctorText {
    func ending(_ report: DockerRootlessReport) -> String {
        var out: [String] = []
        if let log = report.log, report.verdict != nil {
            // rootlesskit prints its whole --help after a flag error: its option lines are left out.
            let lines = log.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix(" ") && !$0.hasPrefix("\t") }
            out.append("")
            out.append("rootlesskit's output (the daemon's journal shows the same):")
            out += lines.suffix(logLines).map { "  | \($0)" }
            if lines.isEmpty { out.append("  (empty)") }
        }
        out.append("")
        out += verdictLines(report.verdict, steps: report.steps, healthy: "rootlesskit starts slirp4netns with the daemon's settings")
        return out.joined(separator: "\n")
    }
}
