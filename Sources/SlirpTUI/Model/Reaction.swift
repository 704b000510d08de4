import SlirpCore

/// An instance a side effect is about: its identity and where its API socket is.
public struct EffectTarget: Equatable, Sendable {
    public var identity: ProcessIdentity
    public var apiSocket: String?
    /// The socket file proven held by the process: requests connect to it only.
    public var apiSocketFile: SocketFile? = nil
    /// For a slirp4netns started by RootlessKit: requests go to RootlessKit's API (`$STATE/api.sock`,
    /// proven held by this parent), never to slirp4netns's own socket, whose ports RootlessKit does not list.
    public var rootlessKit: RootlessKitParent? = nil
    /// slirp4netns's `--cidr` (the slirp4netns port driver reaches only it); nil: the default.
    public var slirpNetwork: String? = nil
    public var pid: Int32 { identity.pid }
}

/// A side effect the state asks the runtime to perform; the state never performs one itself.
public enum Effect: Equatable, Sendable {
    /// Scan for instances now.
    case refreshInventory
    /// Ask the API socket for its forwards (lands in the instance's log as an audit line); for a
    /// RootlessKit target, `GET /v1/ports` joined with its Docker containers.
    case listForwards(EffectTarget)
    /// Join these RootlessKit ports with Docker rootless's proxies and containers (the opened
    /// pane's; its daemon asked on a queue of its own, never the one adds and removes wait on).
    case joinDocker(EffectTarget, [RootlessKitPort])
    /// Send these validated requests, in order.
    case addForwards(EffectTarget, [ForwardRequest])
    case removeForward(EffectTarget, HostForward)
    /// Send these validated RootlessKit ports (`RootlessKitSession`: checked whole first, then in order).
    case addPorts(EffectTarget, [RootlessKitPortSpec])
    /// `DELETE /v1/ports/{id}` on the target's RootlessKit.
    case removePort(EffectTarget, RootlessKitPort)
    /// Copy the whole log of the instance to a file in the working directory.
    case saveLog(ProcessIdentity)
    /// Re-read the log from its tail.
    case reloadLog(ProcessIdentity)
    /// Run the startup doctor for this container (off the input thread; it changes nothing of the container).
    case runDoctor(ContainerNetworkOptions)
    /// Ask this instance's DNS address from inside its namespace (off the input thread; sends one query).
    case checkDNS(ProcessIdentity)
    /// Probe one forward (off the input thread; a TCP connect is all it sends).
    case probeForward(ProbeRequest)
    case quit
}

/// What a key (or a result) asks to be redone: effects to run, and whether to redraw.
public struct Reaction: Equatable, Sendable {
    public var effects: [Effect]
    public init(_ effects: [Effect] = []) { self.effects = effects }
    public static let none = Reaction()
    public var quits: Bool { effects.contains(.quit) }
    /// True if the reaction sends anything that changes an instance.
    public var sendsChange: Bool {
        effects.contains { effect in
            switch effect {
            case .addForwards, .removeForward, .addPorts, .removePort: true
            default: false
            }
        }
    }
}
