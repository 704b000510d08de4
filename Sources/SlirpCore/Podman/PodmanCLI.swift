import Foundation

/// Asks Podman about its containers through its stable CLI (`podman ps -a --format json`,
/// `podman container inspect`), as one user, with a deadline.
public struct PodmanCLI: Sendable {
    /// The user whose containers to ask for: nil for the current user.
    public struct User: Sendable, Equatable, Hashable {
        public let uid: UInt32
        public let name: String
        public init(uid: UInt32, name: String) {
            self.uid = uid
            self.name = name
        }
    }

    public let binary: String
    public let user: User?
    public var timeout: Double

    /// Why Podman could not be asked: one line for the operator.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public init(binary: String, user: User? = nil, timeout: Double = 10) {
        self.binary = binary
        self.user = user
        self.timeout = timeout
    }

    /// The Podman binary in PATH, or nil when Podman is not installed.
    public static func installed() -> String? { Executables.find("podman") }

    /// Every container of this user (`-a`: also created and exited ones), oldest first: a pod's
    /// members are created again in this order by its persist steps (`PersistPlan`).
    public func containers() -> Result<[PodmanContainer], Failure> {
        let listed: [JSONValue]
        switch run(["ps", "-a", "--pod", "--sort", "created", "--format", "json"]) {
        case .failure(let f): return .failure(f)
        case .success(let json):
            guard let rows = json.array, rows.allSatisfy({ $0.object != nil }) else { return .success([]) }
            listed = rows
        }
        let ids = listed.compactMap { $0["Id"]?.string }
        guard !ids.isEmpty else { return .success([]) }
        let inspected = inspect(ids)
        let ownerUID = user?.uid ?? UInt32(getuid())
        let ownerName = user?.name ?? UserNames.name(of: ownerUID)
        return .success(listed.compactMap { row in
            guard let id = row["Id"]?.string else { return nil }
            let detail = inspected[id]
            let ports = (row["Ports"]?.array ?? []).map { p in
                PodmanPort(hostIP: p["host_ip"]?.string ?? "", hostPort: Self.int(p["host_port"]), containerPort: Self.int(p["container_port"]),
                           range: Self.int(p["range"]), proto: p["protocol"]?.string ?? "tcp")
            }
            let pod = row["Pod"]?.string ?? ""
            let podName = row["PodName"]?.string ?? ""
            return PodmanContainer(
                id: id, name: row["Names"]?.strings?.first ?? String(id.prefix(12)), image: row["Image"]?.string ?? "",
                state: row["State"]?.string ?? "unknown", pid: Int32(truncatingIfNeeded: Self.int(row["Pid"])),
                podID: pod.isEmpty ? nil : pod, podName: podName.isEmpty ? nil : podName, isInfra: row["IsInfra"]?.bool ?? false,
                ports: ports, createCommand: detail?["Config"]?["CreateCommand"]?.strings ?? [],
                networkMode: detail?["HostConfig"]?["NetworkMode"]?.string ?? "", ownerUID: ownerUID, ownerName: ownerName,
                sandboxKey: detail?["NetworkSettings"]?["SandboxKey"]?.string,
                networks: Self.networks(detail?["NetworkSettings"]?["Networks"]))
        })
    }

    /// `podman container inspect` of `ids`, by ID. A container removed since `ps` listed it makes
    /// Podman exit 125 ("no such container") after printing the others: those are kept, so one
    /// container gone in between does not leave every other without its details.
    func inspect(_ ids: [String]) -> [String: JSONValue] {
        var inspected: [String: JSONValue] = [:]
        if case .success(let json) = run(["container", "inspect", "--format", "json"] + ids, keepingOutputOf: "no such container"),
           let rows = json.array, rows.allSatisfy({ $0.object != nil }) {
            for row in rows { if let id = row["Id"]?.string { inspected[id] = row } }
        }
        return inspected
    }

    /// `NetworkSettings.Networks` (name -> `IPAddress`, `IPPrefixLen`, `Gateway`), sorted by name.
    /// An address Podman left empty stays nil: never a made-up one.
    static func networks(_ value: JSONValue?) -> [PodmanNetworkAttachment] {
        guard case .object(let byName)? = value else { return [] }
        return byName.compactMap { name, settings -> PodmanNetworkAttachment? in
            guard settings.object != nil else { return nil }
            let prefix = int(settings["IPPrefixLen"])
            func withPrefix(_ key: String) -> String? {
                guard let address = settings[key]?.string, !address.isEmpty else { return nil }
                return prefix > 0 ? "\(address)/\(prefix)" : address
            }
            return PodmanNetworkAttachment(network: name, address: withPrefix("IPAddress"), gateway: withPrefix("Gateway"))
        }.sorted { $0.network < $1.network }
    }

    /// A number as Podman writes it (an integer, or a string of one in some versions); 0 otherwise.
    private static func int(_ value: JSONValue?) -> Int {
        switch value {
        case .integer(let n): return n
        case .number(let d): return Int(exactly: d.rounded(.towardZero)) ?? 0
        case .string(let s): return Int(s) ?? 0
        case .bool(let b): return b ? 1 : 0
        default: return 0
        }
    }

    /// Runs podman and parses its JSON output. A user's Podman runs as an `UntrustedProgram`:
    /// it runs the user's own programs (`engine.conmon_path`, checked with `--version` by every
    /// `podman ps`, hooks, helpers), which must reach neither root's terminal nor its environment.
    /// `keepingOutputOf`: a failure whose last error line contains it still yields what Podman printed.
    private func run(_ arguments: [String], keepingOutputOf partialFailure: String? = nil) -> Result<JSONValue, Failure> {
        let result: Result<Executables.Output, SystemError>
        if let user {
            guard let account = UntrustedProgram.Account.of(uid: user.uid) else {
                return .failure(Failure(message: "cannot ask \(user.name)'s Podman: uid \(user.uid) has no passwd entry"))
            }
            result = UntrustedProgram(binary, arguments, as: account).run(timeout: timeout)
        } else {
            result = Executables.run(binary, arguments, timeout: timeout)
        }
        let who = user.map { "\($0.name)'s podman" } ?? "podman"
        switch result {
        case .failure(let error):
            if error.errno == .timedOut { return .failure(Failure(message: "\(who) did not answer within \(Int(timeout)) s (storage locked?)")) }
            return .failure(Failure(message: "cannot run \(who): \(error)"))
        case .success(let output):
            let line = output.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(output.status)"
            guard output.status == 0 || partialFailure.map({ line.contains($0) && !output.stdout.isEmpty }) == true else {
                return .failure(Failure(message: "\(who) failed: \(line)"))
            }
            do {
                return .success(try JSONValue.parse(Array(output.stdout.utf8), fragmentsAllowed: true))
            } catch {
                return .failure(Failure(message: "\(who) printed something that is not JSON"))
            }
        }
    }
}
