/// The stable JSON shape of one host port holder, for `slirpmon ports --json`
/// (`assets/slirpmon.schema.json`, `$defs/port_holder`): every key always present, snake_case,
/// `null` when unknown.
public struct PortHolderReport: Encodable, Sendable, Equatable {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    public var proto: String
    public var hostAddr: String
    public var hostPort: Int
    public var pid: Int32
    /// `slirp4netns`, `rootlessport` or `rootlesskit`.
    public var program: String
    @NullWhenAbsent public var uid: UInt32?
    @NullWhenAbsent public var user: String?
    @NullWhenAbsent public var containerID: String?
    @NullWhenAbsent public var containerName: String?
    /// Podman's state word (`running`, `exited`, `created`, ...), `gone`, or null when unknown.
    @NullWhenAbsent public var containerState: String?
    @NullWhenAbsent public var pod: String?
    /// The conmon holding a rootlessport's exit pipe (null when none was found).
    @NullWhenAbsent public var conmonPID: Int32?
    /// True when the holder outlived its container (stopped, exited, never started, gone).
    public var stale: Bool
    /// Why it is stale, or why its container is unknown; null for a holder of a running container.
    @NullWhenAbsent public var reason: String?
    /// What frees the port (`kill PID`), for a stale holder only.
    @NullWhenAbsent public var stopCommand: String?

    enum CodingKeys: String, CodingKey {
        case proto, pid, program, uid, user, pod, stale, reason
        case hostAddr = "host_addr"
        case hostPort = "host_port"
        case containerID = "container_id"
        case containerName = "container_name"
        case containerState = "container_state"
        case conmonPID = "conmon_pid"
        case stopCommand = "stop_command"
    }

    public init(_ holder: PortHolder) {
        proto = holder.proto
        hostAddr = holder.address
        hostPort = holder.port
        pid = holder.pid
        program = holder.program.rawValue
        uid = holder.uid
        user = holder.user
        containerID = holder.containerID
        containerName = holder.containerName
        containerState = holder.containerState
        pod = holder.container?.podName
        conmonPID = holder.conmon?.pid
        stale = holder.isStale
        if let why = holder.staleReason {
            reason = why
        } else if case .unknown(let why) = holder.verdict {
            reason = why
        }
        stopCommand = holder.stopCommand
    }
}
