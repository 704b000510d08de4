/// The stable JSON shape of a host port holder, for `slirpmon ports --json`
/// (`assets/slirpmon.schema.json`, `$defs/port_holder`): every key always present, snake_case,
/// `null` when unknown. `container_state` is Podman's word or `gone`; `reason` says why a holder
/// is stale, or why its container is unknown; `stop_command` only for a stale one: `kill PID` after a
/// check that the process still has `start_ticks` (a reused PID is not killed).
extension PortHolder: Encodable {
    enum CodingKeys: String, CodingKey {
        case proto, pid, program, uid, user, pod, stale, reason
        case hostAddr = "host_addr"
        case hostPort = "host_port"
        case containerID = "container_id"
        case containerName = "container_name"
        case containerState = "container_state"
        case conmonPID = "conmon_pid"
        case stopCommand = "stop_command"
        case startTime = "start_time"
        case startTicks = "start_ticks"
    }

    /// Why it is stale, else why its container is not known (nil for a running container's).
    public var reason: String? {
        if let why = staleReason { return why }
        if case .unknown(let why) = verdict { return why }
        if case .notInDefaultStorage(_, let why) = verdict { return why }
        return nil
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Every key, in one table; an absent value is written `null`, never left out.
        let values: [(CodingKeys, (any Encodable)?)] = [
            (.proto, proto), (.hostAddr, address), (.hostPort, port), (.pid, pid), (.program, program), (.stale, isStale),
            (.uid, uid), (.user, user), (.containerID, containerID), (.containerName, containerName),
            (.containerState, containerState), (.pod, container?.podName), (.conmonPID, conmon?.pid),
            (.reason, reason), (.stopCommand, stopCommand), (.startTime, startTime.map { ($0 * 100).rounded() / 100 }), (.startTicks, startTicks),
        ]
        for (key, value) in values {
            if let value { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
    }
}
