/// A Docker container's name and addresses, as its owner's Docker rootless reports them: what a
/// proxy's `-container-ip` is matched against to name the container a published port serves.
public struct DockerContainerAddress: Sendable, Equatable, Codable {
    /// The full 64-hex ID.
    public let id: String
    /// The name without Docker's leading `/`.
    public let name: String
    /// The container's IPv4 address on each of its networks.
    public let addresses: [String]

    public init(id: String, name: String, addresses: [String]) {
        self.id = id
        self.name = name
        self.addresses = addresses
    }

    /// The Docker CLI of the distribution (`/usr/local/bin/docker` may be another, older one).
    public static let dockerBinary = "/usr/bin/docker"
    /// At most this many running containers are asked about (each ID is 65 bytes of argv).
    public static let containerLimit = 1000
    /// The `docker inspect` template: one line per container, `ID|/NAME|IP IP `.
    static let inspectFormat = "{{.ID}}|{{.Name}}|{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"

    /// The running containers of `account`'s Docker rootless at `socket` (the daemon's
    /// `$XDG_RUNTIME_DIR/docker.sock`): two `docker` runs as that user (`ps`, then `inspect`),
    /// through `UntrustedProgram` (no terminal, no environment of the caller's, a deadline for
    /// both together). The templates are given on the command line, so the user's
    /// `~/.docker/config.json` (`psFormat`) cannot change the shape; the answer is still taken
    /// as hostile (see `parse`).
    public static func ask(account: UntrustedProgram.Account, socket: String, timeout: Double = 5,
                           binary: String = dockerBinary) -> Result<[DockerContainerAddress], DockerError> {
        let context = "\(account.name)'s docker"
        guard socket.hasPrefix("/"), socket.utf8.count < 108, !socket.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) else {
            return .failure(DockerError(context, "the daemon's socket path is not an absolute path of at most 107 plain bytes"))
        }
        let environment = account.environment + ["DOCKER_HOST=unix://\(socket)"]
        let deadline = Deadline.after(seconds: timeout)
        func docker(_ arguments: [String]) -> Result<String, DockerError> {
            let left = max(0.05, Double(deadline.remainingMilliseconds) / 1000)
            switch UntrustedProgram(binary, arguments, as: account, environment: environment).run(timeout: left, limit: 1 << 20) {
            case .failure(let error): return .failure(DockerError(context, "\(arguments.first ?? "") failed: \(error)"))
            case .success(let out) where out.status != 0:
                return .failure(DockerError(context, "\(arguments.first ?? "") exited with status \(out.status)"))
            case .success(let out): return .success(out.stdout)
            }
        }
        let ids: [String]
        switch docker(["ps", "--no-trunc", "--format", "{{.ID}}"]) {
        case .failure(let error): return .failure(error)
        case .success(let text):
            let lines = text.split(separator: "\n").map(String.init)
            guard lines.count <= containerLimit else { return .failure(DockerError(context, "more than \(containerLimit) running containers")) }
            guard lines.allSatisfy(isContainerID) else { return .failure(DockerError(context, "docker ps answered something that is not a container ID")) }
            ids = lines
        }
        if ids.isEmpty { return .success([]) }
        switch docker(["inspect", "--type", "container", "--format", inspectFormat] + ids) {
        case .failure(let error): return .failure(error)
        case .success(let text): return parse(inspectOutput: text, context: context)
        }
    }

    /// Decodes `docker inspect`'s lines in `inspectFormat`. A user's daemon answers what it
    /// likes, so every field is checked: a 64-hex ID, a name in Docker's own alphabet
    /// (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 255 bytes), strict IPv4 addresses (an empty one:
    /// a container without address on that network). One bad line fails the whole answer.
    public static func parse(inspectOutput: String, context: String = "docker inspect") -> Result<[DockerContainerAddress], DockerError> {
        var result: [DockerContainerAddress] = []
        for (number, line) in inspectOutput.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 3 else { return .failure(DockerError(context, "line \(number + 1) is not ID|NAME|ADDRESSES")) }
            let id = String(fields[0])
            guard isContainerID(id) else { return .failure(DockerError(context, "line \(number + 1): not a container ID")) }
            guard fields[1].hasPrefix("/"), isContainerName(fields[1].dropFirst()) else {
                return .failure(DockerError(context, "line \(number + 1): not a Docker container name"))
            }
            var addresses: [String] = []
            for word in fields[2].split(separator: " ") {
                guard let address = IPv4Address(word) else { return .failure(DockerError(context, "line \(number + 1): not an IPv4 address")) }
                addresses.append(address.description)
            }
            result.append(DockerContainerAddress(id: id, name: String(fields[1].dropFirst()), addresses: addresses))
        }
        return .success(result)
    }

    static func isContainerID(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Docker's rule for names (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`; one byte is allowed too).
    static func isContainerName(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        guard let first = bytes.first, alnum(first), bytes.count <= 255 else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}
