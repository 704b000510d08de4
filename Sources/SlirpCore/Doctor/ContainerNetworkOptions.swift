import Foundation

/// A container's create-time slirp4netns options, read from `podman container inspect`.
///
/// Minimal and self-contained on purpose: `Config.CreateCommand` keeps the
/// `--network slirp4netns:OPTS` the container was created with (Podman stores the
/// parsed options nowhere else it prints), and `HostConfig.PortBindings` the `-p`
/// mappings. To be replaced by the shared Podman metadata layer.
public struct ContainerNetworkOptions: Sendable, Equatable {
    public var id: String
    public var name: String
    /// `HostConfig.NetworkMode`, e.g. `slirp4netns`, `bridge`, `host`.
    public var networkMode: String
    /// The options after `slirp4netns:` (empty when none were given).
    public var options: [String]
    /// How many host port bindings the container has.
    public var portMappings: Int
    public var state: String?
    /// The `-p` mappings, as Podman sets them up (`HostConfig.PortBindings`, or `podman ps`'s `Ports`).
    public var ports: [PodmanPort]
    /// `NetworkSettings.SandboxKey`: the container's network namespace path, when known.
    public var sandboxKey: String?

    public init(id: String, name: String, networkMode: String, options: [String], portMappings: Int, state: String? = nil,
                ports: [PodmanPort] = [], sandboxKey: String? = nil) {
        self.id = id
        self.name = name
        self.networkMode = networkMode
        self.options = options
        self.portMappings = portMappings
        self.state = state
        self.ports = ports
        self.sandboxKey = sandboxKey
    }

    public var usesSlirp4netns: Bool { networkMode == "slirp4netns" || networkMode.hasPrefix("slirp4netns:") }

    /// Why the container's options could not be read.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Runs `podman container inspect NAME --format json` (with a deadline) and reads it.
    public static func inspect(_ name: String, podman: String? = nil, timeout: Double = 20) throws(Failure) -> ContainerNetworkOptions {
        guard let podman = podman ?? Executables.find("podman") else {
            throw Failure(message: "podman is not installed (needed to read container \(name)): apt-get install podman, or pass --options")
        }
        switch Executables.run(podman, ["container", "inspect", name, "--format", "json"], timeout: timeout) {
        case .failure(let error):
            throw Failure(message: "podman container inspect \(name) failed: \(error)")
        case .success(let out) where out.status != 0:
            let first = out.stderr.split(separator: "\n").first.map(String.init) ?? "exit \(out.status)"
            throw Failure(message: "podman container inspect \(name) failed: \(first.replacingOccurrences(of: "Error: ", with: ""))")
        case .success(let out):
            return try parse(inspectJSON: out.stdout, name: name)
        }
    }

    /// Reads the inspect JSON (an array with one container).
    public static func parse(inspectJSON text: String, name: String) throws(Failure) -> ContainerNetworkOptions {
        guard let array = (try? JSONValue.parse(Array(text.utf8)))?.array, let container = array.first, container.object != nil else {
            throw Failure(message: "podman container inspect \(name) printed no container")
        }
        let command = container["Config"]?["CreateCommand"]?.strings ?? []
        let mode = container["HostConfig"]?["NetworkMode"]?.string ?? ""
        let bindings = container["HostConfig"]?["PortBindings"]?.object ?? [:]
        let ports = bindings.values.reduce(0) { $0 + max(1, $1.array?.count ?? 1) }
        let state = container["State"]?["Status"]?.string
        let displayName = container["Name"]?.string ?? name
        return ContainerNetworkOptions(id: container["Id"]?.string ?? "", name: displayName, networkMode: mode,
                                       options: slirpOptions(createCommand: command, image: container["ImageName"]?.string) ?? [], portMappings: ports, state: state,
                                       ports: portBindings(bindings), sandboxKey: container["NetworkSettings"]?["SandboxKey"]?.string)
    }

    /// `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}` as mappings of one port each, ordered by
    /// container port and protocol. Host ports that are not 1-65535 are left out.
    static func portBindings(_ bindings: [String: JSONValue]) -> [PodmanPort] {
        var result: [PodmanPort] = []
        for (key, value) in bindings {
            let parts = key.split(separator: "/", maxSplits: 1)
            guard let containerPort = parts.first.flatMap({ Int($0) }), (1...65535).contains(containerPort) else { continue }
            let proto = parts.count == 2 ? String(parts[1]) : "tcp"
            for binding in value.array ?? [] {
                guard let hostPort = binding["HostPort"]?.string.flatMap({ Int($0) }), (1...65535).contains(hostPort) else { continue }
                result.append(PodmanPort(hostIP: binding["HostIp"]?.string ?? "", hostPort: hostPort, containerPort: containerPort, range: 1, proto: proto))
            }
        }
        return result.sorted { ($0.containerPort, $0.proto, $0.hostPort) < ($1.containerPort, $1.proto, $1.hostPort) }
    }

    /// The slirp4netns options in a create command line (`--network`, `--net`, `=`-joined or not);
    /// nil when it names no slirp4netns network. The last `--network` wins, as in Podman.
    /// Arguments from `image` on (the container's own command) are not looked at.
    public static func slirpOptions(createCommand: [String], image: String? = nil) -> [String]? {
        var value: String?
        var i = 0
        while i < createCommand.count {
            let arg = createCommand[i]
            if arg == "--" || (image != nil && arg == image) { break }
            for flag in ["--network", "--net"] {
                if arg == flag, i + 1 < createCommand.count {
                    value = createCommand[i + 1]
                    i += 1
                } else if arg.hasPrefix(flag + "=") {
                    value = String(arg.dropFirst(flag.count + 1))
                }
            }
            i += 1
        }
        guard let value, value == "slirp4netns" || value.hasPrefix("slirp4netns:") else { return nil }
        return value == "slirp4netns" ? [] : SlirpNetworkOptions.split(String(value.dropFirst("slirp4netns:".count)))
    }
}
