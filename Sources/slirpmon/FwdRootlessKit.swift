import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// Where `fwd` sends for TARGET: slirp4netns's own API socket, or, for a slirp4netns started by
/// RootlessKit, RootlessKit's REST API (`$STATE/api.sock`) whatever its port driver.
///
/// With the slirp4netns port driver, slirp4netns has an API socket of its own
/// (`$STATE/.s4nn.sock`): a port added there works but RootlessKit does not list it and its
/// next id skips it, so slirpmon never sends there; every request goes to RootlessKit's socket.
enum FwdRoute {
    case slirp(APIEndpoint)
    case rootlessKit(RootlessKitTarget)

    /// TARGET's route: its process is read once, and its parent's executable (one readlink) tells RootlessKit's.
    static func of(_ target: String) throws -> FwdRoute {
        let process = try Targets.process(target)
        if let kit = RootlessKitParent.of(process) { return .rootlessKit(RootlessKitTarget(process: process, kit: kit)) }
        // Its ports would be RootlessKit's: slirp4netns's own socket is not theirs, and RootlessKit's is not proven.
        if let why = RootlessKitParent.untrusted(parentOf: process) {
            throw CLIError.failed(("slirp4netns pid \(process.pid): \(why); slirpmon sends to neither its API socket nor slirp4netns's own, "
                + "whose ports RootlessKit would not list: run `rootlessctl` as its owner").terminalSafe)
        }
        return .slirp(APIEndpoint.of(process))
    }
}

/// A slirp4netns started by RootlessKit, and its RootlessKit.
struct RootlessKitTarget {
    let process: SlirpProcess
    let kit: RootlessKitParent

    /// The client of RootlessKit's socket, refusing (before anything is sent) one whose owner is not proven.
    func session(timeout: Double, unverified: Bool) throws -> RootlessKitSession {
        guard let endpoint = kit.endpoint(justRead: true) else {
            throw CLIError.failed("rootlesskit pid \(kit.pid) (parent of slirp4netns pid \(process.pid)): its state directory is unknown (\(kit.problems["state_dir"] ?? "?")), so its API socket is not found; nothing was sent")
        }
        if let blocker = endpoint.blocker(allowingUnverified: unverified) {
            let override = endpoint.ownership.isUnverified ? "; `--unverified` sends anyway (SO_PEERCRED still checks that pid \(kit.pid) listens)" : ""
            throw CLIError.failed("slirp4netns pid \(process.pid): \(blocker)\(override)")
        }
        guard let api = endpoint.client(timeout: timeout, allowingUnverified: unverified) else {
            throw CLIError.failed("rootlesskit pid \(kit.pid) has no usable API socket")
        }
        let network = IPv4Network(process.configuration.effectiveCIDR) ?? ChildAddressRule.defaultSlirpNetwork
        return RootlessKitSession(api: api, parentPID: kit.pid, slirpNetwork: network)
    }

    /// The ports joined with Docker (for Docker rootless: its proxies and its daemon's containers, asked once per command).
    func forwards(_ ports: [RootlessKitPort]) -> (forwards: [RootlessKitForward], problem: String?) {
        let facts = DockerFacts.of(kit)
        return (RootlessKitForward.join(ports, facts: facts), facts.problem)
    }

    /// The line that keeps a live port to a container: Docker keeps ports only in how a container
    /// was created, so the `-p` must be given when it is created again (as its owner, on its daemon).
    func persistLine(_ forward: RootlessKitForward) -> String? {
        guard let argument = forward.publishArgument, let name = forward.container?.name else { return nil }
        let host = kit.dockerSocket.map { "; as \(kit.user ?? "its owner"), with \(Shell.quoted("DOCKER_HOST=unix://" + $0))" } ?? ""
        return "port \(forward.id) reaches container \(name) live only (until RootlessKit restarts). It is kept only if given when \(name) is created again: "
            + "`\(Shell.command(["docker", "run", "-p", argument])) ...` with its other options\(host) (a container's ports cannot be changed while it exists)"
    }
}

extension RootlessKitPortSpec {
    /// `127.0.0.1:8080`, `[::1]:8080`, `*:8080` (all addresses).
    var hostColumn: String { Format.hostPort(parentIP ?? "*", parentPort) }

    /// `172.17.0.2:80`; `child`'s own (`info`'s address, else the word) without childIP.
    func guestColumn(child: String?) -> String { Format.hostPort(childIP ?? child ?? "(child)", childPort) }
}

/// `fwd list|add|rm` for a RootlessKit instance: the same rules, errors and exit statuses as for
/// slirp4netns's API (`Slirpmon.Fwd`), through `RootlessKitSession`.
enum RootlessKitFwd {
    static func list(_ target: RootlessKitTarget, targetText: String, json: Bool, timeout: Double, unverified: Bool) throws {
        let session = try target.session(timeout: timeout, unverified: unverified)
        let ports: [RootlessKitPort]
        do throws(RootlessKitAPIError) { ports = try session.api.ports() } catch {
            throw CLIError.failed(explained(error, target: targetText))
        }
        let (forwards, problem) = target.forwards(ports)
        let docker = target.kit.child?.kind == .docker
        if docker, let problem { FileHandleOutput.error("slirpmon: containers not named: \(problem)".terminalSafe) }
        if json { return try FileHandleOutput.json(forwards.map(RootlessKitForwardJSON.init)) }
        let info = try? session.api.info()
        FileHandleOutput.print("rootlesskit pid \(target.kit.pid), port driver \(info?.portDriver ?? target.kit.portDriver), API socket \(session.api.socketPath)".terminalSafe)
        guard !forwards.isEmpty else { return FileHandleOutput.print("No ports.") }
        var table = TextTable(header: ["ID", "PROTO", "HOST", "GUEST"] + (docker ? ["CONTAINER", "ORIGIN"] : []))
        for f in forwards {
            var row = [String(f.id), f.spec.proto, f.spec.hostColumn, f.spec.guestColumn(child: info?.childIP)]
            if docker { row += [containerCell(f.container), f.origin.rawValue] }
            table.rows.append(row)
        }
        FileHandleOutput.print(table.rendered)
        for line in forwards.compactMap(target.persistLine) { FileHandleOutput.print(line.terminalSafe) }
    }

    /// `name (172.17.0.2:80)`, the address alone when unnamed, `-` for none.
    static func containerCell(_ container: RootlessKitForward.Container?) -> String {
        guard let container else { return "-" }
        let address = Format.hostPort(container.address, container.port)
        return container.name.map { "\($0) (\(address))" } ?? address
    }

    static func add(_ target: RootlessKitTarget, specs: [RootlessKitPortSpec], targetText: String, common: CommonOptions, unverified: Bool) throws {
        let clashes = RootlessKitConflict.find(in: specs)
        if !clashes.isEmpty { throw CLIError.usage("nothing sent: the mappings conflict: \(RootlessKitConflict.described(clashes, limit: 20))") }
        let session = try target.session(timeout: common.timeout, unverified: unverified)
        let showProgress = specs.count > 1 && isatty(2) != 0 && !common.json
        let outcome = session.add(specs) { n in
            if showProgress && (n % 25 == 0 || n == specs.count - 1) { FileHandleOutput.progress("added \(n + 1)/\(specs.count)") }
        }
        if showProgress { FileHandleOutput.error("") }
        switch outcome.refusal {
        case .rejected(let rejected)?:
            let reasons = rejected.prefix(5).map { "\($0.spec.summary): \($0.reason)" }.joined(separator: "; ")
            throw CLIError.failed("nothing sent: \(reasons)\(rejected.count > 5 ? "; and \(rejected.count - 5) more" : "")".terminalSafe)
        case .conflicts(let clashes)?:
            throw CLIError.failed("nothing sent: the mappings conflict with the instance's ports: \(RootlessKitConflict.described(clashes, limit: 20))")
        case .listFailed(let failure)?:
            throw CLIError.failed("nothing sent: the instance's info and ports could not be read to check the \(specs.count) mappings against them: \(explained(failure, target: targetText))")
        case nil: break
        }
        let added = outcome.added
        if let (spec, failure) = outcome.failure {
            let message = failureMessage(failure, adding: true, spec.summary, target: targetText,
                                         done: added.isEmpty ? nil : "ids " + Format.idRanges(added.map(\.id)),
                                         notSent: outcome.notSent.isEmpty ? nil : summaries(outcome.notSent))
            guard failure.sentWithoutAnswer else { throw CLIError.failed(message) }
            if common.json {
                try FileHandleOutput.json(added.map { AddedForward($0.spec, id: $0.id, state: "added") } + [AddedForward(spec, id: nil, state: "sent_no_answer")]
                                          + outcome.notSent.map { AddedForward($0, id: nil, state: "not_sent") })
            }
            throw CLIError.unknownOutcome(message)
        }
        if !added.isEmpty, let acting = Acting(owner: target.process.uid, ownerName: target.process.user) {
            FileHandleOutput.error("slirpmon: \(acting.note)".terminalSafe)
        }
        // A live port to a Docker container: what keeps it when the container is created again.
        if !added.isEmpty, target.kit.child?.kind == .docker {
            for line in target.forwards(added).forwards.compactMap(target.persistLine) { FileHandleOutput.error("slirpmon: \(line)".terminalSafe) }
        }
        if common.json { return try FileHandleOutput.json(added.map { AddedForward($0.spec, id: $0.id, state: "added") }) }
        if added.count <= 20 {
            for port in added { FileHandleOutput.print("added [\(port.id)] \(port.spec.summary)") }
        } else {
            FileHandleOutput.print("added \(added.count) ports, ids \(Format.idRanges(added.map(\.id)))")
        }
    }

    static func remove(_ target: RootlessKitTarget, ids given: [Int], all: Bool, targetText: String, common: CommonOptions, unverified: Bool) throws {
        let session = try target.session(timeout: common.timeout, unverified: unverified)
        var ids = given
        if all {
            do throws(RootlessKitAPIError) { ids = try session.api.ports().map(\.id) } catch { throw CLIError.failed(explained(error, target: targetText)) }
        }
        let outcome = session.remove(ids, listed: all)
        if case .unknownIDs(let unknown)? = outcome.refusal {
            throw CLIError.failed("nothing sent: the instance has no port \(Format.idRanges(unknown)); `\(Shell.command(["slirpmon", "fwd", "list", targetText]))` shows the ids")
        }
        if case .listFailed(let failure)? = outcome.refusal {
            throw CLIError.failed("nothing sent: the instance's ports could not be listed to check the \(ids.count) ids against them: \(explained(failure, target: targetText))")
        }
        let (removed, notSent) = (outcome.removed, outcome.notSent)
        let failed = outcome.failure.map { id, failure in
            (id, failure.sentWithoutAnswer, failureMessage(failure, adding: false, "port \(id)", target: targetText,
                                                           done: removed.isEmpty ? nil : "ids " + Format.idRanges(removed),
                                                           notSent: notSent.isEmpty ? nil : "ids " + Format.idRanges(notSent)))
        }
        try Slirpmon.Fwd.RemoveForwards.report(removed: removed, failed: failed, notSent: notSent, json: common.json, noun: "ports")
    }

    /// The line for a request that did not go through, in `Slirpmon.Fwd.failure`'s words.
    static func failureMessage(_ failure: RootlessKitSession.Failure, adding: Bool, _ subject: String, target: String,
                               done: String?, notSent: String?) -> String {
        var refused = false
        if case .rootlesskit = failure.error { refused = true }
        return Slirpmon.Fwd.failure(explanation: explained(failure, target: target), sentWithoutAnswer: failure.sentWithoutAnswer,
                                    refusedByPeer: refused, adding: adding, subject, target: target, done: done, notSent: notSent).terminalSafe
    }

    /// The hint names `slirpmon fwd list TARGET`: here the operator's own TARGET.
    static func explained(_ failure: RootlessKitSession.Failure, target: String) -> String {
        failure.explanation.replacingOccurrences(of: "`slirpmon fwd list TARGET`", with: "`\(Shell.command(["slirpmon", "fwd", "list", target]))`")
    }

    static func explained(_ error: RootlessKitAPIError, target: String) -> String {
        explained(RootlessKitSession.Failure(error), target: target)
    }

    static func summaries(_ specs: [RootlessKitPortSpec]) -> String {
        specs.prefix(5).map(\.summary).joined(separator: ", ") + (specs.count > 5 ? " and \(specs.count - 5) more" : "")
    }
}

/// `fwd list --json` for a RootlessKit instance: the keys of the slirp4netns list (`host_addr`
/// null: all addresses; `guest_addr` null: the child's own address) and what RootlessKit and
/// Docker add: `origin` (`published` by `-p`, or `live`), `container` and `publish` (the `-p`
/// argument that keeps a live port to a named container).
struct RootlessKitForwardJSON: Encodable {
    struct Container: Encodable {
        @NullWhenAbsent var name: String?
        let address: String
        let port: Int
        @NullWhenAbsent var proxyPID: Int32?

        enum CodingKeys: String, CodingKey { case name, address, port, proxyPID = "proxy_pid" }
    }

    let forward: AddedForward
    let origin: String
    @NullWhenAbsent var container: Container?
    @NullWhenAbsent var publish: String?

    enum CodingKeys: String, CodingKey { case origin, container, publish }

    init(_ f: RootlessKitForward) {
        forward = AddedForward(f.spec, id: f.id, state: nil)
        origin = f.origin.rawValue
        container = f.container.map { Container(name: $0.name, address: $0.address, port: $0.port, proxyPID: $0.proxyPID) }
        publish = f.publishArgument
    }

    func encode(to encoder: any Encoder) throws {
        try forward.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(origin, forKey: .origin)
        try c.encode(_container, forKey: .container)
        try c.encode(_publish, forKey: .publish)
    }
}

extension AddedForward {
    /// A RootlessKit port as `fwd add --json` writes it (`state` nil: as `fwd list --json` does).
    init(_ spec: RootlessKitPortSpec, id: Int?, state: String?) {
        self.init(id: id, state: state, proto: spec.proto, hostAddr: spec.parentIP, hostPort: spec.parentPort,
                  guestAddr: spec.childIP, guestPort: spec.childPort)
    }
}

extension RootlessKitFwd {
    /// `show`'s lines for a RootlessKit instance: its API socket, its ports joined with Docker
    /// (container, origin) and the `-p` that keeps each live one; slirp4netns's own socket
    /// (`slirpSocket`, the slirp4netns port driver's) is named as the one not used.
    static func showLines(_ target: RootlessKitTarget, slirpSocket: String?, timeout: Double) -> [String] {
        let kit = target.kit
        let shown = ShownPorts(target, timeout: timeout)
        guard let endpoint = shown.endpoint else { return ["RootlessKit API socket: unknown — \(shown.notListed ?? "?")"] }
        var out = ["RootlessKit API socket: \(endpoint.path) — \(endpoint.ownership.description) (rootlesskit pid \(kit.pid), port driver \(kit.portDriver))"]
        if let slirpSocket {
            out.append("           slirp4netns's own API socket \(slirpSocket) is not used: a port added there works, but RootlessKit neither lists it nor counts its id")
        }
        guard let forwards = shown.forwards else {
            out.append("ports: not listed: \(shown.notListed ?? "?")")
            return out
        }
        let docker = kit.child?.kind == .docker
        out.append("ports (\(forwards.count)):")
        for f in forwards {
            let joined = docker ? "   \(f.origin.rawValue)\(f.container.map { ", container " + containerCell($0) } ?? "")" : ""
            out.append("  [\(f.id)] \(f.spec.summary)\(joined)")
        }
        out += forwards.compactMap(target.persistLine)
        if docker, let problem = shown.dockerProblem { out.append("containers not named: \(problem)") }
        return out
    }

    /// A RootlessKit instance's ports as `show` gives them (text and `--json`), asked once.
    struct ShownPorts {
        let endpoint: RootlessKitEndpoint?
        /// Joined with Docker; nil when not listed (`notListed` says why).
        let forwards: [RootlessKitForward]?
        let notListed: String?
        /// What joining them with Docker's containers missed.
        let dockerProblem: String?

        init(_ target: RootlessKitTarget, timeout: Double) {
            endpoint = target.kit.endpoint(justRead: true)
            var forwards: [RootlessKitForward]?
            var notListed: String?
            var dockerProblem: String?
            if let endpoint {
                if let api = endpoint.client(timeout: timeout) {
                    do throws(RootlessKitAPIError) {
                        (forwards, dockerProblem) = target.forwards(try api.ports())
                    } catch { notListed = RootlessKitSession.Failure(error).explanation }
                } else { notListed = endpoint.blocker() ?? "?" }
            } else {
                notListed = "the state directory is not known (\(target.kit.problems["state_dir"] ?? "?"))"
            }
            (self.forwards, self.notListed, self.dockerProblem) = (forwards, notListed, dockerProblem)
        }
    }
}
