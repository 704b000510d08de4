/// A process, named so that a reused PID is never mistaken for it: PID plus start time.
public struct ProcessIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public let pid: Int32
    public let startTicks: UInt64
    public init(pid: Int32, startTicks: UInt64) {
        self.pid = pid
        self.startTicks = startTicks
    }
    public var description: String { "\(pid)@\(startTicks)" }
}

/// One slirp4netns process as `/proc` shows it, with what could not be read said per field.
public struct SlirpProcess: Sendable {
    public let identity: ProcessIdentity
    public var pid: Int32 { identity.pid }
    public let parentPID: Int32
    /// The `/proc/PID/stat` state letter.
    public let state: Character
    public var isZombie: Bool { state == "Z" || state == "X" }
    /// Stopped by a signal or a tracer: it takes no API request until continued.
    public var isStopped: Bool { state == "T" || state == "t" }
    public let uid: UInt32?
    public let user: String?
    /// Wall-clock start, seconds since the epoch.
    public let startTime: Double
    public let uptimeSeconds: Double
    public let residentBytes: Int64
    public let cpuSeconds: Double
    /// The raw argument vector (for a zombie: as read while it ran, or empty: `configurationSource`).
    public let arguments: [String]
    public let configuration: SlirpConfiguration
    /// Whether `arguments` and `configuration` are the running process's, last seen while it ran, or
    /// unknown (then `configuration` holds no option, and nothing computed from it is a fact).
    public let configurationSource: ConfigurationSource
    /// The Podman container ID found in the API socket or log file name.
    public let containerID: String?
    /// Where fd 1 and fd 2 point, e.g. `/run/libpod/slirp4netns-ID.log (deleted)`.
    public let stdoutTarget: String?
    public let stderrTarget: String?
    /// Inodes of the sockets among its fds (`socket:[N]`), all of them, or, when the scan knew the
    /// host's listeners, those up to the one listening on its API socket (none without one);
    /// `nil` when they could not be read.
    public let socketInodes: Set<UInt64>?
    /// Field name -> why it could not be read (permission denied, process vanished, ...).
    public let problems: [String: String]
}

extension SlirpProcess {
    /// This process without the container ID its file names claimed, with `reason` among its
    /// problems (`container`): shown as what it is, a process of its user, not the container.
    func withoutContainerClaim(because reason: String) -> SlirpProcess {
        var problems = problems
        problems["container"] = reason
        return SlirpProcess(identity: identity, parentPID: parentPID, state: state, uid: uid, user: user, startTime: startTime,
                            uptimeSeconds: uptimeSeconds, residentBytes: residentBytes, cpuSeconds: cpuSeconds, arguments: arguments,
                            configuration: configuration, configurationSource: configurationSource, containerID: nil, stdoutTarget: stdoutTarget, stderrTarget: stderrTarget,
                            socketInodes: socketInodes, problems: problems)
    }
}
