extension ProbeSite {
    /// The site of a live instance: its slirp4netns, the rootlessport processes and rootlesskit parent
    /// that carry its ports, and the processes likely inside its namespace (the container's own, rootlessport-child).
    public init(_ instance: SlirpInstance) {
        let ports = instance.rootlessPorts
        self.init(slirpPID: instance.pid, netnsPath: instance.configuration.netnsPath, guest: instance.expected.guestText, gateway: instance.expected.gatewayText,
                  disableHostLoopback: instance.configuration.disableHostLoopback,
                  carriers: [instance.pid] + ports.filter { !$0.isChild }.map(\.pid) + (instance.rootlessKit.map { [$0.pid] } ?? []),
                  insideHints: (instance.observed?.nameserverSource.map { [$0.pid] } ?? [])
                      + (instance.container.map { $0.pid > 0 ? [$0.pid] : [] } ?? []) + ports.filter(\.isChild).map(\.pid)
                      + (instance.rootlessKit?.child.map { [$0.pid] } ?? []))
    }
}

extension ProbeForward {
    /// The forwards of an instance a probe can take: its API forwards (`list_hostfwd`, when listed) and
    /// the configured `-p` ports rootlessport carries (`port_handler=rootlesskit`). A RootlessKit
    /// instance's ports come from its API (`ProbeForward(_:portDriver:)`).
    public static func all(of instance: SlirpInstance) -> [ProbeForward] {
        var out = (instance.forwards ?? []).map(ProbeForward.init)
        if let container = instance.container, container.portHandler != "slirp4netns" {
            out += container.ports.flatMap(ProbeForward.configured)
        }
        return out
    }
}
