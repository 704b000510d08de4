import SlirpCore

/// A request sent whole that the instance did not answer: it may still be carried out.
public struct UnansweredRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case add(ForwardRequest)
        case remove(HostForward)
        /// A RootlessKit `POST /v1/ports`, and `DELETE /v1/ports/{id}`.
        case addPort(RootlessKitPortSpec)
        case removePort(RootlessKitPort)
    }
    public var target: EffectTarget
    public var kind: Kind
    public init(target: EffectTarget, kind: Kind) {
        self.target = target
        self.kind = kind
    }

    /// What the status line and the forwards pane say while it waits for an answer, in the CLI's
    /// words (`ForwardSession.sentNoAnswer`): `adding tcp 127.0.0.1:8080 -> :80: sent, no answer:
    /// it may still be added; listed again every 5 s until pid 4242 answers`.
    public var waiting: String {
        let sent = switch kind {
        case .add(let request): ForwardSession.sentNoAnswer(adding: true, request.summary)
        case .remove(let forward): ForwardSession.sentNoAnswer(adding: false, "forward \(forward.id)")
        case .addPort(let spec): ForwardSession.sentNoAnswer(adding: true, spec.summary)
        case .removePort(let port): ForwardSession.sentNoAnswer(adding: false, "port \(port.id)")
        }
        let who = target.rootlessKit.map { "rootlesskit pid \($0.pid)" } ?? "pid \(target.pid)"
        return sent + "; listed again every \(Int(AppState.forwardsInterval)) s until \(who) answers"
    }

    /// What the instance's list says became of it, once it answers.
    func outcome(in list: [HostForward]) -> String {
        switch kind {
        case .add(let request): verdict(adding: request.summary, addedAs: list.first { request.isAdded(as: $0) }?.id)
        case .remove(let forward): verdict(removing: "forward \(forward.id)", stillListed: list.contains { $0.id == forward.id })
        case .addPort, .removePort: "\(answerer) answers again: the request was sent to RootlessKit, not slirp4netns: see its ports"
        }
    }

    /// What a RootlessKit instance's ports say became of it, once it answers.
    func outcome(inPorts list: [RootlessKitPort]) -> String {
        switch kind {
        case .addPort(let spec): verdict(adding: spec.summary, addedAs: list.first { $0.spec == spec }?.id)
        case .removePort(let port): verdict(removing: "port \(port.id)", stillListed: list.contains { $0.id == port.id })
        case .add, .remove: "\(answerer) answers again: the request was sent to slirp4netns's own socket, not RootlessKit"
        }
    }

    /// Who was asked: the rootlesskit parent for RootlessKit's API, else the slirp4netns process.
    private var answerer: String { target.rootlessKit.map { "rootlesskit \($0.pid)" } ?? "pid \(target.pid)" }

    private func verdict(adding summary: String, addedAs id: Int?) -> String {
        guard let id else { return "\(answerer) answers again: \(summary), sent without an answer, is not listed: it was not added" }
        return "\(answerer) answers again: \(summary), sent without an answer, was added: id \(id)"
    }

    private func verdict(removing subject: String, stillListed: Bool) -> String {
        stillListed ? "\(answerer) answers again: \(subject), whose removal was sent without an answer, is still listed: it was not removed"
            : "\(answerer) answers again: \(subject), whose removal was sent without an answer, is gone: it was removed"
    }
}
