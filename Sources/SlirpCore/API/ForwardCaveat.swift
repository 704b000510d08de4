/// What an operator should know about forwards slirp4netns accepts but will not fully carry.
public enum ForwardCaveat {
    /// A note for UDP forwards that clients on the host's loopback can reach (bound to 127.x or
    /// 0.0.0.0) on an instance run with `--disable-host-loopback` (Podman's default), or nil.
    ///
    /// libslirp shows a datagram from a loopback client to the guest as coming from the gateway
    /// address (10.0.2.2), and `--disable-host-loopback` drops everything the guest sends there:
    /// the datagram arrives, the reply never does (Podman issue 4586). TCP is not affected (its
    /// replies belong to the forwarded connection), nor are clients on the host's other addresses.
    public static func loopbackUDPReplies(_ requests: [ForwardRequest], configuration: SlirpConfiguration) -> String? {
        loopbackUDPReplies(requests, disableHostLoopback: configuration.disableHostLoopback)
    }

    /// The same, for an instance known to run with `--disable-host-loopback` or not.
    public static func loopbackUDPReplies(_ requests: [ForwardRequest], disableHostLoopback: Bool) -> String? {
        guard disableHostLoopback else { return nil }
        let reachable = requests.filter { $0.proto == .udp && ($0.hostAddr.isLoopback || $0.hostAddr.isUnspecified) }
        guard let first = reachable.first else { return nil }
        let which = reachable.count == 1 ? first.summary : "\(reachable.count) UDP forwards (\(first.summary), ...)"
        return "note: \(which): this slirp4netns runs with --disable-host-loopback, so the container's UDP replies "
            + "to clients on the host's loopback (127.0.0.1) are dropped; clients using the host's other addresses get them"
    }
}
