/// What a RootlessKit port forwards: `{"proto","parentIP","parentPort","childIP","childPort"}` of `/v1/ports`.
///
/// Encoded as RootlessKit reads it: an absent address is left out (the synthesized `encodeIfPresent`), not `null`.
public struct RootlessKitPortSpec: Sendable, Hashable, Encodable {
    /// The protocols RootlessKit's API knows; a port driver supports a subset (`RootlessKitInfo.protocols`).
    public static let protocols = ["tcp", "tcp4", "tcp6", "udp", "udp4", "udp6"]

    /// `tcp`, `tcp4`, `tcp6`, `udp`, `udp4` or `udp6`.
    public let proto: String
    /// The host address listened on; nil: all (RootlessKit listens on `*`).
    public let parentIP: String?
    public let parentPort: Int
    /// The address inside the child's namespace; nil: RootlessKit's default (the child's own).
    public let childIP: String?
    public let childPort: Int

    public init(proto: String, parentIP: String? = nil, parentPort: Int, childIP: String? = nil, childPort: Int) {
        self.proto = proto
        self.parentIP = parentIP
        self.parentPort = parentPort
        self.childIP = childIP
        self.childPort = childPort
    }

    /// `tcp4`, `sctp`: 1-8 lowercase letters and digits, a letter first (RootlessKit may know more than `protocols`).
    static func isProtocolName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, (97...122).contains(first), bytes.count <= 8 else { return false }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) }
    }

    /// Why RootlessKit should not be sent this spec, or nil: an unknown protocol or a port out of range.
    public var problem: String? {
        if !Self.protocols.contains(proto) { return "unknown protocol \"\(proto)\": RootlessKit knows \(Self.protocols.joined(separator: ", "))" }
        if !(1...65535).contains(parentPort) { return "parent port \(parentPort) is not between 1 and 65535" }
        if !(1...65535).contains(childPort) { return "child port \(childPort) is not between 1 and 65535" }
        if parentIP?.isEmpty == true { return "the parent address is empty (leave it out to listen on all addresses)" }
        if childIP?.isEmpty == true { return "the child address is empty (leave it out for the child's own address)" }
        return nil
    }

    /// Why this instance's port driver (`info`) would take the spec but not carry it, or nil. RootlessKit
    /// checks neither: the slirp4netns driver answers `tcp6` with an error, but it accepts a
    /// loopback `childIP` despite its own `disallowLoopbackChildIP`, and connections then time out.
    public func problem(on info: RootlessKitInfo) -> String? {
        if let problem { return problem }
        if !info.protocols.isEmpty, !info.protocols.contains(proto) {
            return "the \(info.portDriver ?? "?") port driver does not take \(proto) (it takes \(info.protocols.joined(separator: ", ")))"
        }
        if info.disallowsLoopbackChildIP, let childIP, IPv4Address(childIP)?.isLoopback == true || IPv6Address(childIP) == IPv6Address("::1") {
            return "the \(info.portDriver ?? "?") port driver cannot reach the child's loopback (\(childIP)): leave childIP out for \(info.childIP ?? "the child's own address")"
        }
        return nil
    }

    /// The spec in a `/v1/ports` entry; nil when a member is missing, of the wrong type, or not what
    /// RootlessKit writes: the peer is the user's process, so only a short lowercase protocol name,
    /// ports 1-65535 and real IPv4/IPv6 addresses (kept in their canonical form) are taken: nothing
    /// it sends can put a line or an escape on root's terminal.
    init?(_ value: JSONValue) {
        guard value.object != nil, let proto = value["proto"]?.string, Self.isProtocolName(proto),
              let parentPort = value["parentPort"]?.integer, (1...65535).contains(parentPort),
              let childPort = value["childPort"]?.integer, (1...65535).contains(childPort) else { return nil }
        func optionalString(_ key: String) -> String?? {
            switch value[key] {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return DockerProxyProcess.address(s).map { .some($0) }
            default: return nil
            }
        }
        guard let parentIP = optionalString("parentIP"), let childIP = optionalString("childIP") else { return nil }
        self.init(proto: proto, parentIP: parentIP, parentPort: parentPort, childIP: childIP, childPort: childPort)
    }
}

/// One port of `GET /v1/ports`: RootlessKit's id and what it forwards.
public struct RootlessKitPort: Sendable, Equatable {
    /// RootlessKit's id: ids grow and are never reused while the instance runs.
    public let id: Int
    /// What it forwards, as RootlessKit echoes it (`proto` `tcp4` and `childIP` `127.0.0.1` for Docker's own ports).
    public let spec: RootlessKitPortSpec
}

extension RootlessKitPort {
    /// `{"id":N,"spec":{...}}`; nil when it is not that shape.
    init?(_ value: JSONValue) {
        guard let id = value["id"]?.integer, let specValue = value["spec"], let spec = RootlessKitPortSpec(specValue) else { return nil }
        self.init(id: id, spec: spec)
    }
}

/// What `GET /v1/info` tells about a RootlessKit instance.
public struct RootlessKitInfo: Sendable, Equatable {
    /// The REST API's version (`1.1.1` for rootlesskit 1.1.0).
    public let apiVersion: String
    /// rootlesskit's own version.
    public let version: String
    public let stateDir: String?
    /// The rootlesskit child (`/proc/self/exe`), whose namespaces the ports lead into.
    public let childPID: Int32?
    /// `slirp4netns`, `vpnkit`, `lxc-user-nic`, ...; nil with `--net=host`.
    public let networkDriver: String?
    public let dns: [String]
    /// The child's address on the network driver (`10.0.2.100`).
    public let childIP: String?
    /// `builtin` or `slirp4netns`; nil without a port driver.
    public let portDriver: String?
    /// The protocols the port driver takes (`tcp`, `tcp4`, ...).
    public let protocols: [String]
    /// True when the port driver cannot reach the child's loopback (the slirp4netns driver).
    public let disallowsLoopbackChildIP: Bool

    /// The info in a `/v1/info` reply; nil without `apiVersion` and `version`, or with a member of the wrong type.
    init?(_ value: JSONValue) {
        guard let apiVersion = value["apiVersion"]?.string, let version = value["version"]?.string else { return nil }
        self.apiVersion = apiVersion
        self.version = version
        stateDir = value["stateDir"]?.string
        childPID = value["childPID"]?.integer.flatMap { Int32(exactly: $0) }
        // The peer is the user's process: names and addresses are taken only in the forms RootlessKit writes.
        func driverName(_ text: String?) -> String? {
            guard let text, (1...32).contains(text.utf8.count),
                  text.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "-") }) else { return nil }
            return text
        }
        let network = value["networkDriver"]
        networkDriver = driverName(network?["driver"]?.string)
        dns = (network?["dns"]?.strings ?? []).compactMap(DockerProxyProcess.address)
        childIP = network?["childIP"]?.string.flatMap(DockerProxyProcess.address)
        let port = value["portDriver"]
        portDriver = driverName(port?["driver"]?.string)
        protocols = (port?["protos"]?.strings ?? []).filter(RootlessKitPortSpec.isProtocolName)
        disallowsLoopbackChildIP = port?["disallowLoopbackChildIP"]?.bool ?? false
    }
}
