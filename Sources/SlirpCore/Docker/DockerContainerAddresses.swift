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

    /// At most this many running containers are taken from one answer.
    public static let containerLimit = 1000

    /// The running containers of the Docker rootless daemon `dockerd` listening on `socket` (its
    /// `$XDG_RUNTIME_DIR/docker.sock`): one request to the daemon's own API, proven held by it
    /// (`DockerEngineAPI`), within `timeout` seconds. No `docker` CLI is run, so nothing runs as
    /// the user and the user's `~/.docker/config.json` plays no part; the answer is still hostile (see `parse`).
    public static func ask(dockerdPID: Int32, socket: String, timeout: Double = 2,
                           procRoot: String = "/proc") -> Result<[DockerContainerAddress], DockerError> {
        DockerEngineAPI.of(dockerdPID: dockerdPID, socket: socket, timeout: timeout, procRoot: procRoot).flatMap { $0.containers() }
    }

    /// Decodes `GET /containers/json`: an array of `{"Id", "Names": ["/NAME", ...],
    /// "NetworkSettings": {"Networks": {NET: {"IPAddress"}}}}` (other keys ignored). A user's daemon
    /// answers what it likes, so every field is checked: a 64-hex ID, names in Docker's own alphabet
    /// (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 255 bytes; a legacy link's `/a/b` is skipped, one plain
    /// name is required), strict IPv4 addresses (an empty one: a container without address on that
    /// network), at most `containerLimit` containers. One bad entry fails the whole answer, and no
    /// error repeats the daemon's text beyond a printable excerpt.
    public static func parse(containersJSON body: [UInt8], context: String = "GET /containers/json") -> Result<[DockerContainerAddress], DockerError> {
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            return .failure(DockerError(context, "the reply is not JSON (at byte \(error.offset)): \(HTTPReply.excerpt(body[...]))"))
        }
        guard let items = value.array else { return .failure(DockerError(context, "the container list is not an array")) }
        guard items.count <= containerLimit else { return .failure(DockerError(context, "more than \(containerLimit) running containers")) }
        var result: [DockerContainerAddress] = []
        result.reserveCapacity(items.count)
        for (number, item) in items.enumerated() {
            let at = "container \(number + 1)"
            guard let id = item["Id"]?.string, isContainerID(id) else { return .failure(DockerError(context, "\(at): Id is not a container ID")) }
            guard let names = item["Names"]?.strings else { return .failure(DockerError(context, "\(at): Names is not a list of names")) }
            var name: String?
            for full in names {
                let parts = full.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count >= 2, parts[0].isEmpty, parts.dropFirst().allSatisfy({ isContainerName($0) }) else {
                    return .failure(DockerError(context, "\(at): not a Docker container name"))
                }
                if name == nil, parts.count == 2 { name = String(parts[1]) }
            }
            guard let name else { return .failure(DockerError(context, "\(at): no plain name")) }
            var addresses: [String] = []
            switch item["NetworkSettings"] {
            case nil, .null?: break
            case let settings?:
                switch settings["Networks"] {
                case nil, .null?: break
                case let networks?:
                    guard let byName = networks.object else { return .failure(DockerError(context, "\(at): Networks is not an object")) }
                    for network in byName.values {
                        guard let text = network["IPAddress"]?.string else { return .failure(DockerError(context, "\(at): a network without IPAddress")) }
                        if text.isEmpty { continue }
                        guard let address = IPv4Address(text) else { return .failure(DockerError(context, "\(at): not an IPv4 address")) }
                        addresses.append(address.description)
                    }
                }
            }
            result.append(DockerContainerAddress(id: id, name: name, addresses: addresses.sorted()))
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
