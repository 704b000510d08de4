/// Builds the slirp4netns argument list Podman would run (`createBasicSlirp4netnsCmdArgs`
/// and the rest of `setupSlirp4netns`).
public enum SlirpCommandBuilder {
    /// A feature the options need and the binary lacks; Podman's messages.
    public struct UnsupportedError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The options part, in Podman's order.
    public static func basicArguments(_ options: SlirpNetworkOptions, features: SlirpFeatures) throws(UnsupportedError) -> [String] {
        var args: [String] = []
        if options.disableHostLoopback && features.hasDisableHostLoopback { args.append("--disable-host-loopback") }
        if options.mtu > -1 && features.hasMTU { args.append("--mtu=\(options.mtu)") }
        if !options.noPivotRoot && features.hasEnableSandbox { args.append("--enable-sandbox") }
        if features.hasEnableSeccomp { args.append("--enable-seccomp") }
        if let cidr = options.cidr {
            guard features.hasCIDR else { throw UnsupportedError(message: "cidr not supported") }
            args.append("--cidr=\(cidr)")
        }
        if options.enableIPv6 {
            guard features.hasIPv6 else { throw UnsupportedError(message: "enable_ipv6 not supported") }
            args.append("--enable-ipv6")
        }
        if let addr = options.outboundAddr {
            guard features.hasOutboundAddr else { throw UnsupportedError(message: "outbound_addr not supported") }
            args.append("--outbound-addr=\(addr)")
        }
        if let addr6 = options.outboundAddr6 {
            guard features.hasOutboundAddr && features.hasIPv6 else { throw UnsupportedError(message: "outbound_addr6 not supported") }
            guard options.enableIPv6 else { throw UnsupportedError(message: "enable_ipv6=true is required for outbound_addr6") }
            args.append("--outbound-addr6=\(addr6)")
        }
        return args
    }

    /// Where slirp4netns joins the container's network.
    public enum Target: Sendable, Equatable {
        /// `--netns-type=path PATH` (Podman's usual form).
        case netnsPath(String)
        /// A PID (when the namespace is configured after the container starts).
        case pid(Int32)
    }

    /// The full argument vector (without the program), as Podman runs it for a container.
    /// The API socket is added only with `port_handler=slirp4netns` and at least one port mapping.
    public static func fullArguments(_ options: SlirpNetworkOptions, features: SlirpFeatures, containerID: String,
                                     tmpDir: String, target: Target, hasPortMappings: Bool) throws(UnsupportedError) -> [String] {
        var args = try basicArguments(options, features: features)
        args += ["-c", "-e", "3", "-r", "4"]
        if hasPortMappings && options.isSlirpHostForward {
            args += ["--api-socket", apiSocketPath(tmpDir: tmpDir, containerID: containerID)]
        }
        switch target {
        case .netnsPath(let path): args += ["--netns-type=path", path, "tap0"]
        case .pid(let pid): args += [String(pid), "tap0"]
        }
        return args
    }

    /// `<tmpdir>/<ID>.net`
    public static func apiSocketPath(tmpDir: String, containerID: String) -> String { "\(tmpDir)/\(containerID).net" }
    /// `<tmpdir>/slirp4netns-<ID>.log`
    public static func logPath(tmpDir: String, containerID: String) -> String { "\(tmpDir)/slirp4netns-\(containerID).log" }
}
