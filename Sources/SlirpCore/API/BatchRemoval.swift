/// Removals of a batch of ids, in order, stopping at the first failure: the one rule of
/// slirp4netns's API (`ForwardSession`) and RootlessKit's (`RootlessKitSession`), whose `Failure`
/// each explains its API's errors.
public struct BatchRemoval<Failure: Sendable>: Sendable {
    /// The ids removed, in order.
    public var removed: [Int] = []
    /// The id whose removal failed and why; nil when every one was removed.
    public var failure: (id: Int, Failure)?
    /// The ids never sent: those after the failure, or all when the batch was refused.
    public var notSent: [Int] = []
    /// Why nothing was sent: ids the instance does not list, or the listing that could not be made.
    public var refusal: Refusal?

    /// Why a batch of removals was not sent at all.
    public enum Refusal: Sendable {
        /// Ids the instance does not list.
        case unknownIDs([Int])
        case listFailed(Failure)
    }

    /// Sends `remove` for each id in order; stops at the first failure. More than one id (unless
    /// `listed`: the ids come from the list just read) is checked against `list` first: an id it
    /// does not have refuses them all, nothing sent, rather than removing the ones before it.
    static func run<E: Error>(_ ids: [Int], listed: Bool, list: () throws(E) -> [Int], remove: (Int) throws(E) -> Void,
                              failure explain: (E) -> Failure) -> BatchRemoval {
        var outcome = BatchRemoval()
        if ids.count > 1 && !listed {
            let existing: Set<Int>
            do throws(E) { existing = Set(try list()) } catch {
                outcome.refusal = .listFailed(explain(error))
                outcome.notSent = ids
                return outcome
            }
            let unknown = ids.filter { !existing.contains($0) }
            guard unknown.isEmpty else {
                outcome.refusal = .unknownIDs(unknown)
                outcome.notSent = ids
                return outcome
            }
        }
        for (n, id) in ids.enumerated() {
            do throws(E) { try remove(id) } catch {
                outcome.failure = (id, explain(error))
                outcome.notSent = Array(ids[(n + 1)...])
                return outcome
            }
            outcome.removed.append(id)
        }
        return outcome
    }
}
