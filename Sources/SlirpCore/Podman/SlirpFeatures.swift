import Foundation

/// What an installed slirp4netns supports, read from its `--help` as Podman does (`checkSlirpFlags`).
public struct SlirpFeatures: Sendable, Equatable, Codable {
    public var hasDisableHostLoopback = false
    public var hasMTU = false
    public var hasEnableSandbox = false
    public var hasEnableSeccomp = false
    public var hasCIDR = false
    public var hasOutboundAddr = false
    public var hasIPv6 = false

    public init() {}

    /// Everything slirp4netns 1.2 has.
    public static let all: SlirpFeatures = {
        var f = SlirpFeatures()
        f.hasDisableHostLoopback = true; f.hasMTU = true; f.hasEnableSandbox = true; f.hasEnableSeccomp = true
        f.hasCIDR = true; f.hasOutboundAddr = true; f.hasIPv6 = true
        return f
    }()

    /// Detects features from `--help` text.
    public init(helpText: String) {
        hasDisableHostLoopback = helpText.contains("--disable-host-loopback")
        hasMTU = helpText.contains("--mtu")
        hasEnableSandbox = helpText.contains("--enable-sandbox")
        hasEnableSeccomp = helpText.contains("--enable-seccomp")
        hasCIDR = helpText.contains("--cidr")
        hasOutboundAddr = helpText.contains("--outbound-addr")
        hasIPv6 = helpText.contains("--enable-ipv6")
    }

    /// Names of the supported features, for display.
    public var names: [String] {
        var n: [String] = []
        if hasMTU { n.append("mtu") }
        if hasCIDR { n.append("cidr") }
        if hasIPv6 { n.append("ipv6") }
        if hasDisableHostLoopback { n.append("disable-host-loopback") }
        if hasEnableSandbox { n.append("sandbox") }
        if hasEnableSeccomp { n.append("seccomp") }
        if hasOutboundAddr { n.append("outbound-addr") }
        return n
    }
}

/// The installed slirp4netns binary: where it is, its version and features.
public struct SlirpBinary: Sendable, Equatable {
    public let path: String
    public let version: String?
    public let features: SlirpFeatures

    /// Finds `slirp4netns` in `PATH` (or uses `path`) and asks it `--version` and `--help`.
    public static func probe(path: String? = nil, timeout: Double = 3) -> Result<SlirpBinary, ProbeError> {
        guard let resolved = path ?? Executables.find("slirp4netns") else { return .failure(.notFound) }
        let help: String
        switch Executables.run(resolved, ["--help"], timeout: timeout) {
        case .success(let output) where output.status == 0: help = output.combined
        case .success(let output): return .failure(.helpFailed(path: resolved, output: output.combined))
        case .failure(let error): return .failure(.cannotRun(path: resolved, error.description))
        }
        var version: String?
        if case .success(let output) = Executables.run(resolved, ["--version"], timeout: timeout),
           let line = output.combined.split(separator: "\n").first(where: { $0.hasPrefix("slirp4netns version") }) {
            version = String(line.dropFirst("slirp4netns version ".count))
        }
        return .success(SlirpBinary(path: resolved, version: version, features: SlirpFeatures(helpText: help)))
    }

    public enum ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
        case notFound
        case cannotRun(path: String, String)
        case helpFailed(path: String, output: String)

        public var description: String {
            switch self {
            case .notFound: "slirp4netns is not installed (not in PATH): apt-get install slirp4netns"
            case .cannotRun(let path, let why): "cannot run \(path): \(why)"
            case .helpFailed(let path, let output): "slirp4netns \(goQuoted(output)): \(path) --help failed"
            }
        }
    }
}
