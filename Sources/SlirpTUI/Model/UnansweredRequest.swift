import SlirpCore

/// A request sent whole that the instance did not answer: it may still be carried out.
public struct UnansweredRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case add(ForwardRequest)
        case remove(HostForward)
    }
    public var target: EffectTarget
    public var kind: Kind
    public init(target: EffectTarget, kind: Kind) {
        self.target = target
        self.kind = kind
    }

    /// `tcp 0.0.0.0:8080 -> :80` or `removing forward 3`.
    public var summary: String {
        switch kind {
        case .add(let request): request.summary
        case .remove(let forward): "removing forward \(forward.id)"
        }
    }

    /// What the instance's list says became of it, once it answers.
    func outcome(in list: [HostForward]) -> String {
        let said = "pid \(target.pid) answers again: "
        switch kind {
        case .add(let request):
            if let forward = list.first(where: { request.isAdded(as: $0) }) {
                return said + "\(request.summary), sent without an answer, was added: id \(forward.id)"
            }
            return said + "\(request.summary), sent without an answer, is not listed: it was not added"
        case .remove(let forward):
            if list.contains(where: { $0.id == forward.id }) {
                return said + "forward \(forward.id), whose removal was sent without an answer, is still listed: it was not removed"
            }
            return said + "forward \(forward.id), whose removal was sent without an answer, is gone: it was removed"
        }
    }
}
