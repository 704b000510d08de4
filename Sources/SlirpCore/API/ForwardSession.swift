/// Forwards added or removed on one instance, in order, stopping at the first failure: what
/// `slirpmon fwd add|rm` and the monitor's forms both do. The outcome carries what was done before
/// the failure, the failure already explained (what to do, and for a host port in use, who holds it),
/// whether that request reached slirp4netns (sent but unanswered: it may still be carried out) and
/// the requests never sent. A batch of adds is checked whole first (`ForwardConflict`): a conflict
/// refuses all of it, nothing sent.
public struct ForwardSession: Sendable {
    public let client: APIClient
    /// The instance's PID: a host port in use is explained as seen from its network.
    public let pid: Int32

    /// The words for a request sent whole without an answer, the same in the CLI and the monitor:
    /// `adding tcp 127.0.0.1:8080 -> :80: sent, no answer: it may still be added`, `removing
    /// forward 3: sent, no answer: it may still be removed`. `subject` is the request's summary
    /// (an add) or `forward ID` (a removal); each caller says after it how to learn the outcome.
    public static func sentNoAnswer(adding: Bool, _ subject: String) -> String {
        let (verb, past) = adding ? ("adding", "added") : ("removing", "removed")
        return "\(verb) \(subject): sent, no answer: it may still be \(past)"
    }

    public init(client: APIClient, pid: Int32) {
        self.client = client
        self.pid = pid
    }

    /// A request that failed and why.
    public struct Failure: Sendable {
        public let error: APIError
        /// The error with what to do (`APIError.hint`) and, for a host port in use, who holds it (`PortConflict`).
        public let explanation: String
        /// True when the request was sent whole but no answer was understood (`APIError.requestWasSent`):
        /// the outcome is unknown, it may still be carried out. False: it was refused, or never sent.
        public var sentWithoutAnswer: Bool { error.requestWasSent }
    }

    public struct Added: Sendable, Equatable {
        public let request: ForwardRequest
        public let id: Int
    }

    public struct AddOutcome: Sendable {
        /// The forwards added, in order (before the failure, when there is one: they stay).
        public var added: [Added] = []
        /// The request that failed and why; nil when every one was added.
        public var failure: (request: ForwardRequest, Failure)?
        /// The requests never sent: those after the failure, or all when the batch was refused.
        public var notSent: [ForwardRequest] = []
        /// Why the batch was refused before anything was sent; nil when it was sent.
        public var refusal: Refusal?
    }

    /// Why a batch was not sent at all.
    public enum Refusal: Sendable {
        /// Requests that cannot all be added (among themselves or with existing forwards), each named.
        case conflicts([ForwardConflict])
        /// The existing forwards could not be listed to check the batch against them.
        case listFailed(Failure)
    }

    public typealias RemoveOutcome = BatchRemoval<Failure>

    /// Sends `add_hostfwd` for each request in order; stops at the first failure. `progress` is told
    /// the index of each request added.
    ///
    /// A batch of more than one is checked first, among itself and against the forwards the instance
    /// lists: any conflict, or a list that fails, refuses the whole batch with nothing sent (a
    /// conflict found by slirp4netns halfway would leave the first half added). A single request is
    /// sent without listing: it cannot leave half a change, slirp4netns's refusal is explained
    /// (`PortConflict` names an existing forward), and it reaches a stopped instance, which carries
    /// it out once continued.
    public func add(_ requests: [ForwardRequest], progress: (Int) -> Void = { _ in }) -> AddOutcome {
        var outcome = AddOutcome()
        if requests.count > 1 {
            var existing: [HostForward] = []
            do throws(APIError) { existing = try client.list() } catch {
                outcome.refusal = .listFailed(Failure(error: error, explanation: Self.explain(error)))
                outcome.notSent = requests
                return outcome
            }
            let conflicts = ForwardConflict.find(in: requests, existing: existing)
            guard conflicts.isEmpty else {
                outcome.refusal = .conflicts(conflicts)
                outcome.notSent = requests
                return outcome
            }
        }
        for (n, request) in requests.enumerated() {
            do throws(APIError) {
                outcome.added.append(Added(request: request, id: try client.add(request)))
            } catch {
                var explanation = Self.explain(error)
                if error.isBindFailure {
                    explanation += ". " + PortConflict.explain(port: Int(request.hostPort.value), proto: request.proto,
                                                               address: request.hostAddr, seenFrom: pid)
                }
                outcome.failure = (request, Failure(error: error, explanation: explanation))
                // After an unanswered one too: an instance that does not answer is not sent more.
                outcome.notSent = Array(requests[(n + 1)...])
                return outcome
            }
            progress(n)
        }
        return outcome
    }

    static func explain(_ error: APIError) -> String {
        error.description + (error.hint.map { "; " + $0 } ?? "")
    }

    /// Sends `remove_hostfwd` for each id, by `BatchRemoval`'s rule.
    public func remove(_ ids: [Int], listed: Bool = false) -> RemoveOutcome {
        let failure = { (error: APIError) in Failure(error: error, explanation: Self.explain(error)) }
        return BatchRemoval.run(ids, listed: listed, list: { () throws(APIError) in try client.list().map(\.id) },
                                remove: { (id) throws(APIError) in try client.remove(id: id) }, failure: failure)
    }
}
