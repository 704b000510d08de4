/// What a slirp4netns 1.2 command line asks for, option by option.
///
/// Produced by `SlirpCommandLine.decode`; every field mirrors one option of
/// `slirp4netns --help`. `nil` / `false` means the option was not given.
public struct SlirpConfiguration: Equatable, Sendable, Codable {
    /// How the positional target is to be read (`--netns-type`).
    public enum NetnsType: String, Sendable, Codable { case pid, path }

    public var configure = false
    public var exitFD: Int?
    public var readyFD: Int?
    public var mtu: Int?
    public var enableIPv6 = false
    public var apiSocket: String?
    public var cidr: String?
    public var disableHostLoopback = false
    public var netnsType: NetnsType = .pid
    public var usernsPath: String?
    public var enableSandbox = false
    public var enableSeccomp = false
    public var outboundAddr: String?
    public var outboundAddr6: String?
    public var disableDNS = false
    public var macAddress: String?
    /// `--target-type`: `netns` (default) or `bess`.
    public var targetType: String?
    /// The positional PID or PATH of the network namespace.
    public var target: String?
    /// The positional TAPNAME (slirp4netns defaults to `tap0`).
    public var tapName: String?
    /// Words slirp4netns would reject or that this version does not know; kept, never fatal.
    public var unrecognized: [String] = []

    public init() {}

    /// slirp4netns's default MTU when `--mtu` is absent.
    public static let defaultMTU = 1500
    /// slirp4netns's default network when `--cidr` is absent.
    public static let defaultCIDR = "10.0.2.0/24"

    public var effectiveMTU: Int { mtu ?? Self.defaultMTU }
    public var effectiveCIDR: String { cidr ?? Self.defaultCIDR }
    public var effectiveTapName: String { tapName ?? "tap0" }

    /// The target as a PID, when `--netns-type` is `pid` (the default).
    public var targetPID: Int32? {
        guard netnsType == .pid, let target else { return nil }
        return Int32(target)
    }

    /// The path of the network namespace: the positional PATH, or `/proc/PID/ns/net`.
    public var netnsPath: String? {
        guard let target else { return nil }
        switch netnsType {
        case .path: return target
        case .pid: return "/proc/\(target)/ns/net"
        }
    }
}
