/// Checks on a running instance that need no trial and change nothing: whether the
/// process is defunct, whether its API socket is there and held by it, and whether its
/// log shows a known failure (the startup doctor's classifier on the log tail).
public enum PassiveChecks {
    /// How much of the log's end is classified.
    public static let logTailBytes = 64 << 10

    /// Every finding for `instance`, most serious first; empty when all is well.
    public static func run(on instance: SlirpInstance) -> [Finding] {
        var findings: [Finding] = []
        let pid = instance.pid
        if instance.process.isZombie { findings.append(defunct(instance)) }
        if let socket = instance.apiSocket, let ownership = instance.socketOwnership, !instance.process.isZombie {
            switch ownership {
            case .held, .unknown:
                break
            case .missing:
                findings.append(Finding(check: "api-socket", severity: .failure,
                                        message: "API socket \(socket) is missing: port forwards cannot be added or listed",
                                        cause: FailureCause(.unknown, cause: "the socket file was removed (a tmp_dir cleaner such as systemd-tmpfiles, or a manual rm)",
                                                            fix: "restart the container to get a new socket; exclude Podman's tmp_dir from tmp cleaners")))
            case .notHeld:
                findings.append(Finding(check: "api-socket", severity: .failure,
                                        message: "API socket \(socket) is not held by slirp4netns \(pid): the path was replaced or the socket closed",
                                        cause: FailureCause(.unknown, cause: "another file or socket now sits at the API socket path",
                                                            fix: "restart the container; find what replaced the path (\(Shell.command(["ls", "-l", socket])))")))
            case .ambiguous:
                findings.append(Finding(check: "api-socket", severity: .warning,
                                        message: "API socket \(socket): held by slirp4netns \(pid), but another socket was bound to the same path since"))
            }
        }
        if let log = try? UnlinkedLog(pid: pid), let tail = try? log.tail(maxBytes: logTailBytes),
           let cause = FailureCause.classify(log: tail.text, cidr: instance.configuration.cidr) {
            findings.append(Finding(check: "log", severity: instance.process.isZombie ? .failure : .warning,
                                    message: "the log shows a known failure: \(cause.evidence ?? cause.cause)", cause: cause))
        }
        return findings.sorted { ($0.severity == .failure ? 0 : 1) < ($1.severity == .failure ? 0 : 1) }
    }

    /// The finding for a defunct slirp4netns, with the fix for whoever started it: Podman's container
    /// is restarted with Podman; one started by hand or by another program is started again the way
    /// it was, and its defunct entry goes once its parent (named) reaps it or exits. Who started it is
    /// told by the container its files named (kept while it ran) and by its parent, never assumed.
    static func defunct(_ instance: SlirpInstance, procRoot: String = "/proc") -> Finding {
        let p = instance.process
        let ppid = p.parentPID
        let parentCommand = (try? Files.readText("\(procRoot)/\(ppid)/stat")).flatMap { ProcessStat($0) }?.command
        let parent = parentCommand.map { "\($0) (pid \(ppid))" } ?? "pid \(ppid)"
        let exited = "slirp4netns \(p.pid) is defunct (zombie): it has exited and its parent \(parent) has not reaped it"
        let reap = "the defunct entry goes once its parent \(parent) waits for it or exits"
        // Every command offered runs as the instance's owner when slirpmon runs as someone else
        // (root on a rootless user's instance: `Acting.asOwner`), its words quoted (`Shell`).
        let asOwner = { (command: String) in instance.acting?.asOwner(command) ?? command }
        if let c = instance.container {
            let name = c.isInfra ? (c.podName ?? c.name) : c.name
            let restart = asOwner(Shell.command(c.isInfra ? ["podman", "pod", "restart", name] : ["podman", "restart", name]))
            let owner = c.ownerUID == 0 ? "" : " as \(c.ownerName ?? "uid \(c.ownerUID)")"
            return Finding(check: "process", severity: .failure,
                           message: "\(exited); \(c.isInfra ? "pod" : "container") \(name) has no network",
                           cause: FailureCause(.unknown, cause: "slirp4netns exited (a failed start leaves a short-lived defunct process)",
                                               fix: "restart it\(owner): \(restart); `\(Shell.command(["slirpmon", "doctor", c.name]))` reproduces the start-up and names the failure"))
        }
        if let id = p.containerID {
            return Finding(check: "process", severity: .failure,
                           message: "\(exited); its files name container \(Format.shortID(id)), which Podman did not report",
                           cause: FailureCause(.unknown, cause: "slirp4netns exited",
                                               fix: "if the container exists, restart it as its owner (\(asOwner(Shell.command(["podman", "restart", Format.shortID(id)])))); \(reap)"))
        }
        // Its files named a container it could not be proven to serve (`ContainerJoin`): said as such.
        if let refused = p.problems["container"] {
            return Finding(check: "process", severity: .failure,
                           message: "\(exited); \(refused)",
                           cause: FailureCause(.unknown, cause: "slirp4netns exited",
                                               fix: "if that container is its owner's, restart it as its owner (podman restart with the ID above); \(reap)"))
        }
        // No container named: Podman's own process as the parent still tells it was Podman's start.
        if let parentCommand, ["podman", "conmon"].contains(parentCommand) {
            return Finding(check: "process", severity: .failure,
                           message: "\(exited); its parent is Podman's, but no container is named in what was seen of it",
                           cause: FailureCause(.unknown, cause: "slirp4netns exited during a Podman start or network set-up",
                                               fix: "restart the containers that use it (`\(asOwner("podman ps -a"))` lists them); \(reap)"))
        }
        // RootlessKit neither restarts nor reaps a slirp4netns that exits: it runs on, and what runs
        // under it (Docker rootless) has no network until it is started again.
        if RootlessKitParent.runsRootlessKit(ppid, procRoot: procRoot) {
            return rootlessKitLost(instance, rootlesskit: ppid, exited: exited, procRoot: procRoot)
        }
        let how = p.configurationSource.isKnown
            ? "start it again as it was started (its command line, last seen: \(asOwner(Shell.command(p.arguments))))"
            : "start it again as it was started (its command line went with it, and none was kept)"
        return Finding(check: "process", severity: .failure,
                       message: "\(exited); its namespace has no network. Not started by Podman: no container is named\(p.configurationSource.isKnown ? " in its command line or log" : "") and its parent is not Podman",
                       cause: FailureCause(.unknown, cause: "slirp4netns exited (killed, or it failed)",
                                           fix: "\(how); \(reap)"))
    }

    /// A defunct slirp4netns whose parent is an installed rootlesskit: the fix restarts what
    /// rootlesskit runs (Docker rootless: the user's daemon), never slirp4netns by hand (it
    /// cannot join rootlesskit again); the doctor explains a start that fails.
    static func rootlessKitLost(_ instance: SlirpInstance, rootlesskit pid: Int32, exited: String, procRoot: String) -> Finding {
        var problems: [String: String] = [:]
        let command = RootlessKitParent.argv(of: pid, procRoot: procRoot, problems: &problems, field: "command_line")
        let docker = command.last?.hasSuffix("/dockerd-rootless.sh") == true
        let user = instance.process.user ?? instance.process.uid.map(String.init) ?? "?"
        let asOwner = { (command: String) in instance.acting?.asOwner(command) ?? command }
        let fix = docker
            ? "restart \(user)'s Docker rootless daemon: \(asOwner("systemctl --user restart docker")) (started by hand: \(asOwner("kill \(pid)")), then run dockerd-rootless.sh again); if it does not come back, `\(Shell.command(["slirpmon", "doctor", "--docker-rootless", user]))` names why slirp4netns fails to start"
            : "stop rootlesskit \(pid) (\(asOwner("kill \(pid)"))) and start the command under rootlesskit again; slirp4netns cannot be started by hand into it"
        return Finding(check: "process", severity: .failure,
                       message: "\(exited); rootlesskit \(pid) runs on without it (it restarts no slirp4netns): \(docker ? "Docker rootless" : "the command under it") has no network",
                       cause: FailureCause(.unknown, cause: "slirp4netns under RootlessKit exited (killed, or it failed)", fix: fix))
    }
}
