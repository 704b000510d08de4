/// The JSON shape of the RootlessKit that started an instance (`rootlesskit` of an instance).
public struct RootlessKitReport: Encodable, Sendable, Equatable {
    public var pid: Int32
    @NullWhenAbsent public var user: String?
    /// `builtin`, `slirp4netns` or `none`, from its command line (`none` when it passes no `--port-driver`).
    public var portDriver: String
    @NullWhenAbsent public var stateDir: String?
    /// `command_line`, `child_environment` or `open_files`; null when the state directory is unknown.
    @NullWhenAbsent public var stateDirSource: String?
    @NullWhenAbsent public var apiSocket: String?
    /// True when a socket listens on `api_socket` and this rootlesskit holds it.
    public var apiSocketListening: Bool
    @NullWhenAbsent public var child: Child?
    @NullWhenAbsent public var dockerdPID: Int32?
    /// Docker rootless's socket (dockerd's -H unix://, else its $XDG_RUNTIME_DIR/docker.sock); null for anything else.
    @NullWhenAbsent public var dockerSocket: String?
    /// Where slirp4netns's output goes, in words.
    public var log: String
    public var problems: [String: String]

    public struct Child: Encodable, Sendable, Equatable {
        public var pid: Int32
        public var command: [String]
        /// `docker`, `containerd` or `command`.
        public var kind: String
        @NullWhenAbsent public var commandPID: Int32?

        enum CodingKeys: String, CodingKey {
            case pid, command, kind
            case commandPID = "command_pid"
        }
    }

    enum CodingKeys: String, CodingKey {
        case pid, user, child, log, problems
        case portDriver = "port_driver"
        case stateDir = "state_dir"
        case stateDirSource = "state_dir_source"
        case apiSocket = "api_socket"
        case apiSocketListening = "api_socket_listening"
        case dockerdPID = "dockerd_pid"
        case dockerSocket = "docker_socket"
    }

    public init(_ kit: RootlessKitParent) {
        pid = kit.pid
        user = kit.user ?? kit.uid.map(String.init)
        portDriver = kit.portDriver
        stateDir = kit.stateDir
        stateDirSource = kit.stateDirSource?.rawValue
        apiSocket = kit.apiSocket
        apiSocketListening = kit.apiSocketListening
        child = kit.child.map { Child(pid: $0.pid, command: $0.command, kind: $0.kind.rawValue, commandPID: $0.commandPID) }
        dockerdPID = kit.dockerdPID
        dockerSocket = kit.dockerSocket
        log = kit.log
        problems = kit.problems
    }
}
