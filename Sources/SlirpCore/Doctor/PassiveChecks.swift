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
        if instance.process.isZombie {
            findings.append(Finding(check: "process", severity: .failure,
                                    message: "slirp4netns \(pid) is defunct (zombie): it has exited and its parent \(instance.process.parentPID) has not reaped it; the container has no network",
                                    cause: FailureCause(.unknown, cause: "slirp4netns exited (a failed start leaves a short-lived defunct process)",
                                                        fix: "restart the container (podman restart NAME); `slirpmon doctor NAME` reproduces the start-up and names the failure")))
        }
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
                                                            fix: "restart the container; find what replaced the path (ls -l \(socket))")))
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
}
