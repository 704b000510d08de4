/// Ports added or removed on one RootlessKit instance through its REST API, in order, stopping
/// at the first failure: what `ForwardSession` does for slirp4netns's API, for `slirpmon fwd` and
/// the monitor alike. A batch of adds is checked whole before anything is sent: each spec against
/// the instance's port driver (`GET /v1/info`: its protocols, a loopback or foreign `childIP` the
/// slirp4netns driver cannot reach, a privileged parent port), then all of them against each
/// other and the ports it has (`RootlessKitConflict`); any refusal refuses the whole batch.
public struct RootlessKitSession: Sendable {
    public let api: RootlessKitAPI
    /// The rootlesskit parent: it (builtin driver) or its slirp4netns binds the parent ports in its network.
    public let parentPID: Int32
    /// slirp4netns's network (`--cidr`): the only addresses the slirp4netns port driver reaches.
    public let slirpNetwork: IPv4Network
    public let procRoot: String

    public init(api: RootlessKitAPI, parentPID: Int32, slirpNetwork: IPv4Network = ChildAddressRule.defaultSlirpNetwork, procRoot: String = "/proc") {
        self.api = api
        self.parentPID = parentPID
        self.slirpNetwork = slirpNetwork
        self.procRoot = procRoot
    }

    /// A request that failed and why.
    public struct Failure: Sendable {
        public let error: RootlessKitAPIError
        /// The error with what to do (`RootlessKitAPIError.hint`).
        public let explanation: String
        /// True when the request was sent whole but no answer was understood: it may still be carried out.
        public var sentWithoutAnswer: Bool { error.requestWasSent }

        public init(_ error: RootlessKitAPIError) {
            self.error = error
            explanation = error.description + (error.hint.map { "; " + $0 } ?? "")
        }
    }

    /// A spec refused before sending, and why.
    public struct Rejected: Sendable, Equatable {
        public let spec: RootlessKitPortSpec
        public let reason: String
    }

    /// Why a batch was not sent at all.
    public enum Refusal: Sendable {
        /// Specs the instance's port driver cannot carry (or that the host would refuse to bind).
        case rejected([Rejected])
        /// Specs that cannot all listen (among themselves or with existing ports).
        case conflicts([RootlessKitConflict])
        /// The instance's info or ports could not be read to check the batch.
        case listFailed(Failure)
    }

    public struct AddOutcome: Sendable {
        /// The instance's info, when it was read.
        public var info: RootlessKitInfo?
        /// The ports added, in order (before the failure, when there is one: they stay).
        public var added: [RootlessKitPort] = []
        public var failure: (spec: RootlessKitPortSpec, Failure)?
        /// The specs never sent: those after the failure, or all when the batch was refused.
        public var notSent: [RootlessKitPortSpec] = []
        public var refusal: Refusal?
    }

    public typealias RemoveOutcome = BatchRemoval<Failure>

    /// Checks the batch (see the type's rule), then sends `POST /v1/ports` for each spec in order;
    /// stops at the first failure (after an unanswered one too). `progress` is told the index of each spec added.
    public func add(_ specs: [RootlessKitPortSpec], progress: (Int) -> Void = { _ in }) -> AddOutcome {
        var outcome = AddOutcome()
        func refuse(_ refusal: Refusal) -> AddOutcome {
            outcome.refusal = refusal
            outcome.notSent = specs
            return outcome
        }
        let info: RootlessKitInfo, existing: [RootlessKitPort]
        do throws(RootlessKitAPIError) {
            info = try api.info()
            outcome.info = info
            existing = try api.ports()
        } catch {
            return refuse(.listFailed(Failure(error)))
        }
        let start = unprivilegedPortStart()
        let rejected = specs.compactMap { spec in reason(spec, info: info, unprivilegedPortStart: start).map { Rejected(spec: spec, reason: $0) } }
        if !rejected.isEmpty { return refuse(.rejected(rejected)) }
        let conflicts = RootlessKitConflict.find(in: specs, existing: existing)
        if !conflicts.isEmpty { return refuse(.conflicts(conflicts)) }
        // One connection for the batch, as rootlessctl keeps one.
        let connection = api.transport.keptConnection()
        defer { connection.close() }
        for (n, spec) in specs.enumerated() {
            do throws(RootlessKitAPIError) {
                outcome.added.append(try api.add(spec, over: connection))
            } catch {
                outcome.failure = (spec, Failure(error))
                outcome.notSent = Array(specs[(n + 1)...])
                return outcome
            }
            progress(n)
        }
        return outcome
    }

    /// Why `spec` cannot work on this instance, or nil: a protocol or address its port driver does
    /// not carry (`RootlessKitPortSpec.problem(on:)`, `ChildAddressRule`), or a parent port below
    /// `net.ipv4.ip_unprivileged_port_start`, which rootlesskit (never root) cannot bind.
    public func reason(_ spec: RootlessKitPortSpec, info: RootlessKitInfo, unprivilegedPortStart start: Int?) -> String? {
        if let problem = spec.problem(on: info) { return problem }
        if let driver = info.portDriver, let refusal = ChildAddressRule.refusal(childIP: spec.childIP, portDriver: driver, slirpNetwork: slirpNetwork) {
            return refusal
        }
        if let start, spec.parentPort < start {
            return "parent port \(spec.parentPort) is privileged: below net.ipv4.ip_unprivileged_port_start (\(start)), and rootlesskit binds it as its user, not root. "
                + "Use a port of \(start) or more, or lower the limit on the host: sysctl -w net.ipv4.ip_unprivileged_port_start=\(spec.parentPort) (in /etc/sysctl.d/ to keep it)"
        }
        return nil
    }

    /// `net.ipv4.ip_unprivileged_port_start` of the network the rootlesskit parent binds in, or nil
    /// when that is not slirpmon's own (the sysctl is per network namespace; another one's is not read here).
    public func unprivilegedPortStart() -> Int? {
        guard let own = try? Files.readLink("\(procRoot)/self/ns/net"), let its = try? Files.readLink("\(procRoot)/\(parentPID)/ns/net"), own == its,
              let text = try? Files.readText("\(procRoot)/sys/net/ipv4/ip_unprivileged_port_start") else { return nil }
        return Int(text.trimmingSpaces)
    }

    /// Sends `DELETE /v1/ports/{id}` for each id, by `BatchRemoval`'s rule.
    public func remove(_ ids: [Int], listed: Bool = false) -> RemoveOutcome {
        let connection = api.transport.keptConnection()
        defer { connection.close() }
        return BatchRemoval.run(ids, listed: listed, list: { () throws(RootlessKitAPIError) in try api.ports().map(\.id) },
                                remove: { (id) throws(RootlessKitAPIError) in try api.remove(id: id, over: connection) }, failure: Failure.init)
    }
}
