#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Walks Podman's `setupSlirp4netns` step by step, for real, and explains a failure.
///
/// Steps: `binary` (network_cmd_path or PATH, version), `options` (containers.conf
/// `network_cmd_options` then the container's, parsed as Podman does), `features`
/// (`--help`, and the argument list Podman would build), `trial` (a real start in a
/// scratch namespace, see `TrialRun`), `host` (see `HostChecks`). The verdict names
/// the first failing step, its cause and the fix.
public enum StartupDoctor {
    /// What to examine.
    public struct Request: Sendable {
        /// The container's (or the given) slirp4netns options, without containers.conf's.
        public var options: [String]
        /// The container, for `doctor CONTAINER`.
        public var container: ContainerNetworkOptions?
        public var readyTimeout: Double = 10
        public var environment: [String: String]
        public var isRoot: Bool
        public var uid: UInt32
        /// False: stop before the trial run (the other steps still run).
        public var runTrial = true

        public init(options: [String], container: ContainerNetworkOptions? = nil, readyTimeout: Double = 10,
                    environment: [String: String] = ContainersConf.processEnvironment,
                    isRoot: Bool = geteuid() == 0, uid: UInt32 = getuid()) {
            self.options = options
            self.container = container
            self.readyTimeout = readyTimeout
            self.environment = environment
            self.isRoot = isRoot
            self.uid = uid
        }
    }

    /// Runs every step; `progress` sees each step as it finishes. Everything the trial
    /// creates is registered in `cleanup` and removed before this returns.
    public static func run(_ request: Request, cleanup: TrialCleanup = TrialCleanup(),
                           progress: (DoctorStep) -> Void = { _ in }) -> DoctorReport {
        var steps: [DoctorStep] = []
        func finish(_ step: DoctorStep) { steps.append(step); progress(step) }
        var subject = DoctorReport.Subject(container: request.container?.name, containerID: request.container?.id,
                                           options: request.options, engineOptions: [], portMappings: request.container?.portMappings ?? 0,
                                           mode: request.isRoot ? "root" : "rootless", containersConf: [])

        // 1. The binary.
        var binaryStep = DoctorStep(name: "binary", title: "slirp4netns binary")
        var conf = ContainersConf()
        var confFailed = false
        do {
            conf = try ContainersConf.load(environment: request.environment, isRoot: request.isRoot)
            subject.containersConf = conf.files
            subject.engineOptions = conf.networkCommandOptions
            binaryStep.details.append("containers.conf: " + (conf.files.isEmpty ? "none found (Podman's built-in defaults)" : conf.files.joined(separator: ", ")))
        } catch {
            confFailed = true
            binaryStep.fail(error.description, cause: FailureCause(.containersConf, cause: "Podman cannot read its configuration: \(error.description)",
                                                                  fix: "fix the file (or CONTAINERS_CONF) and run the doctor again", evidence: error.description))
        }
        var binary: SlirpBinary?
        if !confFailed {
            if let configured = conf.networkCommandPath {
                let origin = conf.origins["network_cmd_path"] ?? "containers.conf"
                if access(configured, X_OK) != 0 {
                    binaryStep.fail("\(configured) (engine.network_cmd_path in \(origin)): \(SystemError("access", configured).reason)",
                                    cause: FailureCause.binaryMissing(path: configured, evidence: "\(configured): \(SystemError("access", configured).reason)"))
                } else {
                    binaryStep.details.append("\(configured) (engine.network_cmd_path in \(origin))")
                }
            } else if let found = Executables.find("slirp4netns", path: request.environment["PATH"]) {
                binaryStep.details.append("\(found) (found in PATH)")
            } else {
                binaryStep.fail("slirp4netns: not in PATH (\(request.environment["PATH"] ?? "PATH unset"))",
                                cause: FailureCause.binaryMissing(path: nil, evidence: "could not find slirp4netns, the network namespace can't be configured"))
            }
        }
        if binaryStep.status != .failed {
            let path = conf.networkCommandPath ?? Executables.find("slirp4netns", path: request.environment["PATH"])
            switch SlirpBinary.probe(path: path) {
            case .success(let probed):
                binary = probed
                binaryStep.details.append("version \(probed.version ?? "unknown (no \"slirp4netns version\" line in --version)")")
            case .failure(let error):
                binaryStep.fail("\(error)", cause: FailureCause(.binaryBroken, cause: "Podman's `\(path ?? "slirp4netns") --help` check fails: \(error)",
                                                                fix: "reinstall slirp4netns (apt-get install --reinstall slirp4netns) or fix engine.network_cmd_path",
                                                                evidence: "\(error)"))
            }
        }
        finish(binaryStep)

        // 2. The options.
        var optionsStep = DoctorStep(name: "options", title: "options, parsed as Podman does")
        var options: SlirpNetworkOptions?
        if confFailed {
            optionsStep.status = .skipped
            optionsStep.details.append("skipped: containers.conf could not be read")
        } else {
            optionsStep.details.append("containers.conf network_cmd_options: " + (conf.networkCommandOptions.isEmpty ? "none" : conf.networkCommandOptions.joined(separator: ",")))
            optionsStep.details.append((request.container == nil ? "given" : "container's") + " options: " + (request.options.isEmpty ? "none (defaults)" : request.options.joined(separator: ",")))
            do {
                let parsed = try SlirpNetworkOptions.parse(request.options, engineOptions: conf.networkCommandOptions, noPivotRoot: conf.noPivotRoot)
                options = parsed
                optionsStep.details.append("effective: " + describe(parsed))
                for (detail, cause) in slirpLimits(parsed) { optionsStep.fail(detail, cause: cause) }
            } catch {
                optionsStep.fail("Podman: \(error.message)", cause: FailureCause.podmanOption(error.message))
            }
        }
        finish(optionsStep)

        // 3. Features and the argument list.
        var featuresStep = DoctorStep(name: "features", title: "features from --help, and Podman's argument list")
        var basic: [String]?
        let hasPorts = request.container.map { $0.portMappings > 0 } ?? true
        let apiSocket = (options?.isSlirpHostForward ?? false) && hasPorts
        let tmpDir = conf.effectiveTmpDir(environment: request.environment, isRoot: request.isRoot, uid: request.uid)
        let realID = request.container.flatMap { $0.id.count == 64 ? $0.id : nil }
        let podmanID = realID ?? "<64-hex-ID>"
        if let binary, let options {
            let features = binary.features
            let all = SlirpFeatures.all.names
            let missing = all.filter { !features.names.contains($0) }
            featuresStep.details.append("supported: \(features.names.joined(separator: ", "))" + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))"))
            do {
                let args = try SlirpCommandBuilder.basicArguments(options, features: features)
                basic = args
                var full = [binary.path] + args + ["-c", "-e", "3", "-r", "4"]
                if apiSocket { full += ["--api-socket", SlirpCommandBuilder.apiSocketPath(tmpDir: tmpDir, containerID: podmanID)] }
                let netnsDir = request.isRoot ? "/run/netns" : "\(request.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(request.uid)")/netns"
                full += ["--netns-type=path", "\(netnsDir)/netns-<uuid>", "tap0"]
                featuresStep.details.append("Podman would run: " + full.joined(separator: " "))
            } catch {
                featuresStep.fail("Podman: \(error.message)", cause: FailureCause.featureMissing(error.message, binary: binary.path, version: binary.version))
            }
        } else {
            featuresStep.status = .skipped
            featuresStep.details.append("skipped: " + (binary == nil ? "no usable slirp4netns binary" : "the options are refused"))
        }
        finish(featuresStep)

        // 4. The trial run.
        var trialStep = DoctorStep(name: "trial", title: "a real start in a scratch network namespace")
        var log: String?
        var commandLine: [String]?
        if let binary, let basic, let options, request.runTrial {
            var plan = TrialRun.Plan(binary: binary.path, basicArguments: basic, apiSocket: apiSocket, tmpDir: tmpDir,
                                     readyTimeout: request.readyTimeout, asRoot: request.isRoot)
            plan.ports = request.container?.ports ?? []
            plan.slirpHostForward = options.isSlirpHostForward
            plan.own = PortTrial.OwnProcesses(containerID: request.container?.id, sandboxKey: request.container?.sandboxKey)
            let outcome = TrialRun.run(plan, cleanup: cleanup)
            log = outcome.log
            commandLine = outcome.commandLine
            describe(outcome, options: options, timeout: request.readyTimeout, into: &trialStep)
        } else {
            trialStep.status = .skipped
            trialStep.details.append(request.runTrial ? "skipped: an earlier step failed" : "skipped (--no-trial)")
        }
        // 5. The host.
        // Without a container, a 64-character stand-in ID gives the path its real length.
        let socketPath = SlirpCommandBuilder.apiSocketPath(tmpDir: tmpDir, containerID: realID ?? String(repeating: "0", count: 64))
        let note = (options?.isSlirpHostForward ?? false) ? "the container has no -p mappings" : "port_handler=rootlesskit: no API socket"
        let input = HostChecks.Input(isRoot: request.isRoot, uid: request.uid, tmpDir: tmpDir, apiSocketPath: apiSocket ? socketPath : nil,
                                     apiSocketNote: note, outboundAddr: options?.outboundAddr, outboundAddr6: options?.outboundAddr6)
        let hostStep = HostChecks.run(input)
        // The host check knows the specifics (the tun's mode, the path's length) of a failure the trial's log names.
        if let trialCause = trialStep.cause, let hostCause = hostStep.cause, trialStep.status == .failed,
           hostStep.status == .failed, trialCause.kind == hostCause.kind {
            trialStep.cause = FailureCause(hostCause.kind, cause: hostCause.cause, fix: hostCause.fix, evidence: trialCause.evidence)
        }
        finish(trialStep)
        finish(hostStep)


        return DoctorReport(subject: subject, steps: steps, log: log, arguments: commandLine.map { Array($0.dropFirst()) }, binary: binary?.path)
    }

    /// The trial's ending as step details and status.
    static func describe(_ outcome: TrialRun.Outcome, options: SlirpNetworkOptions, timeout: Double, into step: inout DoctorStep) {
        step.details.append("namespace \(outcome.namespace.isEmpty ? "-" : outcome.namespace); log and socket in \(outcome.directory)")
        step.details.append("ran: " + outcome.commandLine.joined(separator: " ")
                            + (outcome.privateMountNamespace ? "  (in a private mount namespace, as Podman does for --enable-sandbox)" : ""))
        func classify(_ log: String) -> FailureCause? {
            FailureCause.classify(log: log, cidr: options.cidr, outboundAddr: options.outboundAddr, outboundAddr6: options.outboundAddr6)
        }
        switch outcome.ending {
        case .ready(let seconds):
            step.details.append("ready after \(Int((seconds * 1000).rounded())) ms")
            // DNS is virtual (inside slirp4netns) and the scratch namespace has no container resolv.conf to compare.
            for check in outcome.addressChecks where check.role != "dns" && check.role != "dns6" {
                let line = "\(check.role): expected \(check.expected ?? "-"), observed \(check.observed ?? "-") — \(check.status.rawValue)\(check.note.map { " (\($0))" } ?? "")"
                if check.status == .mismatch { step.warn(line) } else { step.details.append(line) }
            }
            if let error = outcome.observeError { step.warn("addresses not read: \(error)") }
            if let api = outcome.apiResult {
                if outcome.apiFailed {
                    step.fail(api, cause: classify(outcome.log)
                        ?? FailureCause(.unknown, cause: "slirp4netns started but its API socket does not answer: Podman's port setup would fail",
                                        fix: "read the log; check the API socket path and tmp_dir", evidence: api))
                } else {
                    step.details.append(api)
                }
            }
            describe(outcome.portChecks, slirpHostForward: options.isSlirpHostForward, into: &step)
        case .exited(let status):
            let cause = classify(outcome.log) ?? FailureCause.unexplainedExit(status: status, log: outcome.log)
            // Podman's own words, as it prints them.
            step.fail("slirp4netns exited with status \(status) before it was ready; Podman says: "
                      + FailureCause.podmanExitMessage(binary: outcome.commandLine.first ?? "slirp4netns", log: outcome.log), cause: cause)
        case .killed(let signal):
            step.fail("slirp4netns was killed by signal \(signal) (\(signalName(signal))) before it was ready",
                      cause: FailureCause.classify(log: "killed by signal \(signal)") ?? FailureCause(.killedBySignal, cause: "killed by signal \(signal)", fix: "see dmesg"))
        case .timedOut(let seconds):
            step.fail("slirp4netns is running but did not report ready within \(twoDecimals(seconds)) s",
                      cause: FailureCause.readyTimeout(seconds: seconds, evidence: FailureCause.errorLine(in: outcome.log)))
        case .setupFailed(let why):
            let kind: FailureCause.Kind = why.contains("unshare") ? .userNamespacesDisabled : .unknown
            step.fail("the trial could not be set up: \(why)",
                      cause: FailureCause(kind, cause: why, fix: kind == .userNamespacesDisabled
                                          ? "allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)"
                                          : "fix the problem named, or run the doctor as root", evidence: why))
        }
    }

    /// The container's mappings as tried: every failure, and the others one per line up to a few.
    static func describe(_ checks: [PortTrial.Check], slirpHostForward: Bool, into step: inout DoctorStep) {
        guard !checks.isEmpty else { return }
        let how = slirpHostForward ? "add_hostfwd on the trial's API socket, as Podman does with port_handler=slirp4netns; removed afterwards"
                                   : "bound as rootlessport binds them (port_handler=rootlesskit) and released at once"
        step.details.append("the container's \(checks.count) port mapping(s): \(how)")
        let failed = checks.filter { $0.cause != nil }
        let shown = checks.count <= 8 ? checks : failed
        for check in shown.prefix(20) {
            if let cause = check.cause { step.fail(check.detail, cause: cause) } else { step.details.append(check.detail) }
        }
        if shown.count > 20 { step.details.append("... \(shown.count - 20) more failed") }
        if shown.count < checks.count { step.details.append("\(checks.count - failed.count) of \(checks.count) set up") }
    }

    /// The options in words.
    static func describe(_ o: SlirpNetworkOptions) -> String {
        var parts = ["mtu=\(o.mtu)", "cidr=\(o.cidr ?? "10.0.2.0/24 (default)")", "enable_ipv6=\(o.enableIPv6)",
                     "port_handler=\(o.isSlirpHostForward ? "slirp4netns" : "rootlesskit")", "allow_host_loopback=\(!o.disableHostLoopback)"]
        if let a = o.outboundAddr { parts.append("outbound_addr=\(a)") }
        if let a = o.outboundAddr6 { parts.append("outbound_addr6=\(a)") }
        if o.noPivotRoot { parts.append("no_pivot_root (no --enable-sandbox)") }
        return parts.joined(separator: ", ")
    }

    /// Values Podman accepts and slirp4netns 1.x refuses: a start with them fails for certain, so
    /// the options step fails with the trial's cause even under --no-trial.
    static func slirpLimits(_ o: SlirpNetworkOptions) -> [(String, FailureCause)] {
        var refused: [(String, FailureCause)] = []
        if o.mtu > 65521 {
            refused.append(("mtu=\(o.mtu): Podman accepts it, slirp4netns refuses MTUs above 65521", FailureCause.mtuTooLarge(evidence: nil)))
        }
        if let cidr = o.cidr, let network = IPv4Network(cidr) {
            if network.prefixLength < 1 || network.prefixLength > 25 {
                refused.append(("cidr=\(cidr): Podman accepts it, slirp4netns needs a prefix length of 1-25",
                                FailureCause.cidrPrefixLength(cidr, evidence: nil)))
            } else if !network.isNetworkAddress {
                refused.append(("cidr=\(cidr): Podman accepts it, slirp4netns wants the network address \(network)",
                                FailureCause.cidrNotNetworkAddress(cidr, evidence: nil)))
            }
        }
        return refused
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGTERM: "SIGTERM"
        case SIGSYS: "SIGSYS (a seccomp filter)"
        case SIGBUS: "SIGBUS"
        default: "signal \(signal)"
        }
    }
}

/// A number with two decimals.
func twoDecimals(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
