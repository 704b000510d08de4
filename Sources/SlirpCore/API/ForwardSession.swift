/// Forwards added or removed on one instance, in order, stopping at the first failure: what
/// `slirpmon fwd add|rm` and the monitor's forms both do. The outcome carries what was done before
/// the failure and the failure already explained (what to do, and for a host port in use, who holds it).
public struct ForwardSession: Sendable {
    public let client: APIClient
    /// The instance's PID: a host port in use is explained as seen from its network.
    public let pid: Int32

    public init(client: APIClient, pid: Int32) {
        self.client = client
        self.pid = pid
    }

    /// A request that failed and why.
    public struct Failure: Sendable {
        public let error: APIError
        /// The error with what to do (`APIError.hint`) and, for a host port in use, who holds it (`PortConflict`).
        public let explanation: String
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
    }

    public struct RemoveOutcome: Sendable {
        /// The ids removed, in order.
        public var removed: [Int] = []
        /// The id whose removal failed and why; nil when every one was removed.
        public var failure: (id: Int, Failure)?
    }

    /// Sends `add_hostfwd` for each request in order; stops at the first failure. `progress` is told
    /// the index of each request added.
    public func add(_ requests: [ForwardRequest], progress: (Int) -> Void = { _ in }) -> AddOutcome {
        var outcome = AddOutcome()
        for (n, request) in requests.enumerated() {
            do throws(APIError) {
                outcome.added.append(Added(request: request, id: try client.add(request)))
            } catch {
                var explanation = error.description + (error.hint.map { "; " + $0 } ?? "")
                if error.isBindFailure {
                    explanation += ". " + PortConflict.explain(port: Int(request.hostPort.value), proto: request.proto,
                                                               address: request.hostAddr, seenFrom: pid)
                }
                outcome.failure = (request, Failure(error: error, explanation: explanation))
                return outcome
            }
            progress(n)
        }
        return outcome
    }

    /// Sends `remove_hostfwd` for each id in order; stops at the first failure.
    public func remove(_ ids: [Int]) -> RemoveOutcome {
        var outcome = RemoveOutcome()
        for id in ids {
            do throws(APIError) { try client.remove(id: id) } catch {
                outcome.failure = (id, Failure(error: error, explanation: error.description + (error.hint.map { "; " + $0 } ?? "")))
                return outcome
            }
            outcome.removed.append(id)
        }
        return outcome
    }
}
