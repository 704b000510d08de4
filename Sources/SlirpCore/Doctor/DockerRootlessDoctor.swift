#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Follows a Docker rootless start (`dockerd-rootless.sh`) step by step, for real, and explains
/// a slirp4netns failure with the variable to change.
///
/// Steps: `script` (the script, the daemon's PATH and the programs it takes from it), `settings`
/// (the `DOCKERD_ROOTLESS_ROOTLESSKIT_*` variables, from the unit, the environment and `--env`,
/// turned into the rootlesskit command line the script execs), `host` (/dev/net/tun opened as
/// the user, subordinate ids, the MTU's range) and `trial` (that rootlesskit command line, run
/// for real with a private state directory and a tiny command instead of dockerd). It runs as
/// the daemon's user, never as root: the script, its PATH and the unit are the user's (as root,
/// the CLI runs slirpmon again as the user first).
public enum DockerRootlessDoctor {
    /// Debian's place for the script (docker.io keeps it out of PATH).
    public static let debianScript = "/usr/share/docker.io/contrib/dockerd-rootless.sh"
    /// What the trial runs inside RootlessKit instead of dockerd, with the shell only: says whether
    /// tap0 is there (`/proc/self/net/dev` is the reader's network namespace), then waits (10 s at
    /// most) until rootlesskit serves `$ROOTLESSKIT_STATE_DIR/api.sock`, which it does once its
    /// port driver is up: a command that exits before that makes rootlesskit fail
    /// (`read unix ... .bp.sock: connection reset by peer`), as dockerd never does.
    static let probe = """
        up=; while read -r l; do case "$l" in tap0:*) up=1;; esac; done < /proc/self/net/dev; \
        [ -n "$up" ] || { echo "slirpmon-trial: no tap0"; exit 3; }; echo "slirpmon-trial: tap0 is up"; n=0; \
        while [ ! -S "$ROOTLESSKIT_STATE_DIR/api.sock" ]; do n=$((n+1)); [ $n -gt 1000 ] && { echo "slirpmon-trial: no api.sock"; exit 4; }; \
        sleep 0.01 2>/dev/null || sleep 1; done; echo "slirpmon-trial: api.sock is served"
        """
    static let probeOK = "slirpmon-trial: tap0 is up"
    static let probeServed = "slirpmon-trial: api.sock is served"

    public struct Request: Sendable {
        /// Whose daemon (the doctor runs as this user).
        public var account: UntrustedProgram.Account
        /// The login environment (the caller's own; the one `UntrustedProgram` gives a user).
        public var environment: [String: String]
        /// `--env NAME=VALUE`, in order.
        public var overrides: [(name: String, value: String)]
        public var runTrial = true
        /// Seconds the trial's rootlesskit may take.
        public var timeout: Double = 10

        public init(account: UntrustedProgram.Account, environment: [String: String], overrides: [(name: String, value: String)]) {
            (self.account, self.environment, self.overrides) = (account, environment, overrides)
        }
    }

    public static func run(_ request: Request, cleanup: TrialCleanup = TrialCleanup(),
                           progress: (DoctorStep) -> Void = { _ in }) -> DockerRootlessReport {
        var steps: [DoctorStep] = []
        func finish(_ step: DoctorStep) { steps.append(step); progress(step) }
        // The user's unit, PATH and programs are read and run only as that user (the CLI runs itself as them).
        guard geteuid() == request.account.uid else {
            var refused = DoctorStep(name: "script", title: "dockerd-rootless.sh and the programs it takes from PATH")
            refused.fail("the doctor runs as uid \(geteuid()), not as \(request.account.name) (uid \(request.account.uid))",
                         cause: FailureCause(.unknown, cause: "the Docker rootless doctor runs as the daemon's user only: the unit, PATH and programs are theirs",
                                             fix: "run it as \(request.account.name), or as root (slirpmon doctor --docker-rootless \(request.account.name) runs itself as the user)"))
            finish(refused)
            let subject = DockerRootlessReport.Subject(user: request.account.name, uid: request.account.uid, script: debianScript, unitFiles: [], variables: [], problems: [])
            return DockerRootlessReport(subject: subject, steps: steps, log: nil, arguments: nil, binary: nil)
        }
        let settings = DockerRootlessSettings.load(home: request.account.home, uid: request.account.uid, userName: request.account.name,
                                                   environment: request.environment, overrides: request.overrides)
        let path = settings["PATH"] ?? ""

        // 1. The script and the programs.
        var scriptStep = DoctorStep(name: "script", title: "dockerd-rootless.sh and the programs it takes from PATH")
        let script = settings.execStartScript ?? (Files.exists(debianScript) ? debianScript : DockerRootlessLaunch.lookup("dockerd-rootless.sh", in: path) ?? debianScript)
        let scriptOrigin = settings.execStartScript != nil ? "ExecStart= of the unit" : script == debianScript ? "Debian's place" : "found in PATH"
        var scriptText: String?
        do {
            scriptText = String(decoding: try SafeFiles.readRegularFile(script, limit: 1 << 20), as: UTF8.self)
            scriptStep.details.append("\(script) (\(scriptOrigin))")
        } catch {
            scriptStep.fail("\(script) (\(scriptOrigin)): \(error.reason)",
                            cause: FailureCause(.scriptMissing, cause: "the daemon's script \(script) cannot be read: \(error.reason)",
                                                fix: "apt-get install docker.io (Debian puts it in \(debianScript)), or fix ExecStart= in the unit", evidence: error.description))
        }
        scriptStep.details.append("PATH (\(settings.values["PATH"].map { DockerRootlessVariables.originText($0.origin).components(separatedBy: ";").first ?? "" } ?? "unset")): \(path)")
        let launch = DockerRootlessLaunch.plan(script: script, scriptText: scriptText, settings: settings, uid: request.account.uid)
        for name in ["rootlesskit", "slirp4netns", "newuidmap", "newgidmap", "nsenter", "ip"] {
            let found = name == "rootlesskit" ? launch.rootlesskit : DockerRootlessLaunch.lookup(name, in: path)
            let need: String
            switch name {
            case "slirp4netns": need = launch.net == "slirp4netns" || launch.net.isEmpty ? "the network driver" : "not used (--net=\(launch.net))"
            case "newuidmap", "newgidmap": need = "rootlesskit maps the subordinate ids with it"
            case "nsenter", "ip": need = "rootlesskit creates tap0 with `nsenter ... ip tuntap add`"
            default: need = "runs the daemon"
            }
            scriptStep.details.append("\(name): \(found ?? "NOT in PATH") (\(need))")
            let required = ["newuidmap", "newgidmap"].contains(name) || (["nsenter", "ip"].contains(name) && launch.net == "slirp4netns")
            if found == nil, name == "slirp4netns", launch.net == "slirp4netns", launch.exitMessage == nil {
                scriptStep.fail("slirp4netns is missing and \(launch.netReason)=slirp4netns asks for it: rootlesskit will fail",
                                cause: FailureCause(.binaryMissing, cause: "rootlesskit runs with --net=slirp4netns but finds no slirp4netns in the daemon's PATH (\(path))",
                                                    fix: "apt-get install slirp4netns, or add its directory to PATH (Environment=PATH=... in ~/.config/systemd/user/docker.service)",
                                                    evidence: "slirp4netns: not in PATH"))
            }
            if found == nil, required {
                scriptStep.fail("\(name) is missing: rootlesskit will fail",
                                cause: FailureCause(.helperMissing, cause: "rootlesskit needs \(name) in the daemon's PATH (\(path)) and finds none",
                                                    fix: "install it (\(FailureCause.helperPackage(name))) or add its directory to PATH", evidence: "\(name): not in PATH"))
            }
        }
        if let message = launch.exitMessage, let cause = launch.exitCause {
            scriptStep.fail("the script exits before rootlesskit: \(message)", cause: cause)
        }
        finish(scriptStep)

        // 2. The settings, and the command line.
        var settingsStep = DoctorStep(name: "settings", title: "DOCKERD_ROOTLESS_ROOTLESSKIT_* variables and the rootlesskit command line")
        settingsStep.details.append("unit files: " + (settings.unitFiles.isEmpty ? "none (~/.config/systemd/user/docker.service not found)" : settings.unitFiles.joined(separator: ", ")))
        var variables: [DockerRootlessSettings.Variable] = []
        for name in DockerRootlessSettings.scriptVariables + DockerRootlessSettings.loginVariables {
            guard var variable = settings.values[name] else { continue }
            let newer = name.hasSuffix("DISABLE_HOST_LOOPBACK") || name.hasSuffix("STATE_DIR")
            variable.used = !newer || (scriptText?.contains(name) ?? false)
            variables.append(variable)
            guard DockerRootlessSettings.scriptVariables.contains(name) else { continue }
            settingsStep.details.append("\(name)=\(DockerRootlessSettings.quote(variable.value)) (\(variable.origin))" + (variable.used ? "" : ": this script does not read it (a newer script's variable)"))
        }
        for problem in settings.problems { settingsStep.warn(problem) }
        if launch.exitMessage == nil {
            settingsStep.details.append("network driver: \(launch.net) (\(launch.netReason)); MTU: \(launch.mtu) (\(launch.mtuReason))")
            settingsStep.details.append("the script would run: \(launch.rootlesskit ?? "rootlesskit") \(launch.arguments.joined(separator: " ")) \(script)")
            checkValues(launch, settings, &settingsStep)
        } else {
            settingsStep.status = .skipped
            settingsStep.details.append("skipped: the script exits before it builds the command line")
        }
        finish(settingsStep)

        // 3. The host, as the user.
        var hostStep = DoctorStep(name: "host", title: "host checks as the user: /dev/net/tun, subordinate ids")
        var tunInput = HostChecks.Input(isRoot: false, uid: request.account.uid, tmpDir: "/tmp", apiSocketPath: nil, apiSocketNote: "")
        tunInput.interfaces = []
        HostChecks.checkTun(tunInput, &hostStep)
        checkSubordinateIDs(user: request.account.name, uid: request.account.uid, &hostStep)
        finish(hostStep)

        // 4. The trial.
        var trialStep = DoctorStep(name: "trial", title: "rootlesskit started with those flags, as the user, with a private state directory")
        var log: String?
        if request.runTrial, launch.exitMessage == nil, let rootlesskit = launch.rootlesskit, settings["XDG_RUNTIME_DIR"] != nil {
            let outcome = DockerRootlessTrial.run(rootlesskit: rootlesskit, arguments: launch.arguments, settings: settings,
                                                  timeout: request.timeout, cleanup: cleanup)
            log = outcome.log
            describe(outcome, launch: launch, settings: settings, into: &trialStep)
        } else {
            trialStep.status = .skipped
            trialStep.details.append(request.runTrial ? "skipped: the script would not start rootlesskit" : "skipped (--no-trial)")
        }
        finish(trialStep)
        let subject = DockerRootlessReport.Subject(user: request.account.name, uid: request.account.uid, script: script, unitFiles: settings.unitFiles,
                                                   variables: variables, problems: settings.problems)
        return DockerRootlessReport(subject: subject, steps: steps, log: log,
                                    arguments: launch.exitMessage == nil ? launch.arguments : nil, binary: launch.rootlesskit)
    }

    /// Values rootlesskit or slirp4netns will refuse, named before the trial shows it.
    static func checkValues(_ launch: DockerRootlessLaunch, _ settings: DockerRootlessSettings, _ step: inout DoctorStep) {
        let mtuFix = DockerRootlessVariables.mtuFix(launch, settings)
        let mtuLine = "MTU \(launch.mtu)"
        if launch.net == "slirp4netns" {
            if let mtu = Int(launch.mtu) {
                if mtu > 65521 {
                    step.fail("\(mtuLine): above 65521, the largest slirp4netns takes",
                              cause: FailureCause(.mtuTooLarge, cause: "rootlesskit and slirp4netns refuse MTUs above 65521 (\(mtu) given)", fix: mtuFix))
                } else if mtu < 68 && mtu != 0 {
                    step.fail("\(mtuLine): below 68, the smallest slirp4netns takes",
                              cause: FailureCause(.mtuTooSmall, cause: "slirp4netns refuses MTUs below 68 (\(mtu) given)", fix: mtuFix))
                } else {
                    step.details.append("\(mtuLine): within 68-65521" + (mtu == 0 ? " (0: rootlesskit's default, 65520)" : ""))
                }
            } else {
                step.fail("\(mtuLine): not a whole number",
                          cause: FailureCause(.invalidOption, cause: "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=\(launch.mtu) is not a whole number", fix: mtuFix))
            }
        }
        let checks: [(String, String, [String], String)] = [
            ("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER", "builtin", ["builtin", "slirp4netns", "none"], "builtin"),
            ("DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SANDBOX", "auto", ["auto", "true", "false"], "auto"),
            ("DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SECCOMP", "auto", ["auto", "true", "false"], "auto"),
        ]
        for (name, fallback, allowed, suggestion) in checks {
            let value = settings[name] ?? ""
            if !value.isEmpty, !allowed.contains(value) {
                step.fail("\(name)=\(DockerRootlessSettings.quote(value)): rootlesskit takes \(allowed.joined(separator: ", "))",
                          cause: FailureCause(.invalidOption, cause: "rootlesskit takes \(allowed.joined(separator: ", ")) for \(name), not \(DockerRootlessSettings.quote(value))",
                                              fix: DockerRootlessVariables.change(name, to: suggestion, settings: settings, orUnset: "the script then uses \(fallback)")))
            }
        }
    }

    /// `/etc/subuid` and `/etc/subgid` ranges of the user (by name or uid), read as the user.
    static func checkSubordinateIDs(user: String, uid: UInt32, _ step: inout DoctorStep) {
        for file in ["/etc/subuid", "/etc/subgid"] {
            let text: String
            do { text = String(decoding: try SafeFiles.readRegularFile(file, limit: 4 << 20), as: UTF8.self) } catch {
                step.fail("\(file): \(error.reason)", cause: FailureCause(.subordinateIDs, cause: "\(file) cannot be read: \(error.reason)",
                                                                          fix: "create it: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(user)", evidence: error.description))
                continue
            }
            var total = 0
            var ranges: [String] = []
            for line in text.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                guard f.count == 3, f[0] == user || f[0] == String(uid), let start = Int(f[1]), let count = Int(f[2]), count > 0 else { continue }
                total += count
                ranges.append("\(start)-\(start + count - 1)")
            }
            if total == 0 {
                step.fail("\(file): no range for \(user)",
                          cause: FailureCause(.subordinateIDs, cause: "\(user) has no subordinate \(file.hasSuffix("uid") ? "uids" : "gids") in \(file): rootlesskit cannot map them",
                                              fix: "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(user) (pick a range no other user has)",
                                              evidence: "\(file): no line for \(user) or \(uid)"))
            } else if total < 65536 {
                step.warn("\(file): \(ranges.joined(separator: ", ")) (\(total) ids; Docker images often need 65536)")
            } else {
                step.details.append("\(file): \(ranges.joined(separator: ", ")) (\(total) ids)")
            }
        }
    }

    static func describe(_ outcome: DockerRootlessTrial.Outcome, launch: DockerRootlessLaunch, settings: DockerRootlessSettings, into step: inout DoctorStep) {
        step.details.append("ran: " + outcome.commandLine.joined(separator: " "))
        step.details.append("state directory \(outcome.stateDirectory) (created for the trial, removed afterwards)")
        let known = FailureCause.classifyRootlessKit(log: outcome.log, launch: launch, settings: settings)
        switch outcome.ending {
        case .exited(0):
            step.details.append("rootlesskit started \(launch.net) and ran the command in \(Int((outcome.seconds * 1000).rounded())) ms"
                                + (outcome.log.contains(probeOK) ? ": tap0 is up" : "")
                                + (outcome.log.contains(probeServed) ? ", the port driver and the API socket are served" : ""))
        case .exited(let status):
            let line = known?.evidence ?? FailureCause.rootlessKitErrorLines(outcome.log).first ?? outcome.log.split(separator: "\n").last.map(String.init) ?? "no output"
            step.fail("rootlesskit exited with status \(status): \(line)",
                      cause: known ?? FailureCause(.unknown, cause: "rootlesskit exited with status \(status): \(line)",
                                                   fix: "read the log below; run the command line above by hand as the user with --debug", evidence: line))
        case .killed(let signal):
            step.fail("rootlesskit was killed by signal \(signal)", cause: known ?? FailureCause(.killedBySignal, cause: "rootlesskit was killed by signal \(signal)", fix: "see dmesg"))
        case .timedOut(let seconds):
            step.fail("rootlesskit did not finish within \(FailureCause.formatSeconds(seconds)) s (stopped it)",
                      cause: known ?? FailureCause(.readyTimeout, cause: "rootlesskit did not bring up \(launch.net) and run a shell within \(FailureCause.formatSeconds(seconds)) s",
                                                   fix: "read the log below; on a loaded host retry with a longer --timeout"))
        case .setupFailed(let why):
            step.fail("the trial could not be set up: \(why)", cause: FailureCause(.unknown, cause: why, fix: "fix the problem named", evidence: why))
        }
    }
}
