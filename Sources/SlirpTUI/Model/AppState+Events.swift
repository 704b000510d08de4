import SlirpCore

/// One user's events in the current minute: how many went into the Events pane, and those left
/// out (by kind), which one summary line stands for.
public struct EventQuota: Equatable, Sendable {
    /// `AppState.now` when the minute began.
    public var windowStart: Double
    public var admitted = 0
    public var leftOut: [InventoryEvent.Kind: Int] = [:]

    public init(windowStart: Double) { self.windowStart = windowStart }
}

extension AppState {
    /// Keeps the operator's own result (an add, a remove, a probe, a DNS check) in the status line for
    /// `operatorResultHold` seconds: an event noticed meanwhile (a user's process named slirp4netns
    /// dying in a loop) is said after it, not over it.
    mutating func holdStatus() {
        status?.heldUntil = now + Self.operatorResultHold
        deferredStatus = nil
    }

    /// Says an event's message in the status line, or, while an operator's result holds it, once the hold is over.
    mutating func sayEvent(_ message: StatusMessage) {
        if let held = status?.heldUntil, held > now {
            deferredStatus = message
        } else {
            status = message
            deferredStatus = nil
        }
    }

    /// At each refresh: the event message that waited is said once the operator's result has been read.
    mutating func releaseDeferredStatus() {
        guard let waiting = deferredStatus, (status?.heldUntil ?? 0) <= now else { return }
        status = waiting
        deferredStatus = nil
    }

    /// Puts `new` into `events`, at most `maximumEventsPerUserPerMinute` of one user a minute (the
    /// state as first seen is not counted): any user can start and kill processes named slirp4netns
    /// in a loop, and the 5000 entries of the history are everybody's. The rest of a user's minute
    /// is one summary line ("12 more deaths of alice's instances"), updated in place.
    /// Returns the events put in one by one, and the summaries made or updated.
    @discardableResult
    mutating func admit(_ new: [InventoryEvent]) -> (admitted: [InventoryEvent], summaries: [InventoryEvent]) {
        var admitted: [InventoryEvent] = [], summaries: [InventoryEvent] = []
        for event in new {
            guard !event.seen else {
                admitted.append(event)
                events.append(event)
                continue
            }
            let user = event.user ?? "an unknown user"
            var quota = eventQuota[user] ?? EventQuota(windowStart: now)
            if now - quota.windowStart >= 60 { quota = EventQuota(windowStart: now) }
            if quota.admitted < Self.maximumEventsPerUserPerMinute {
                quota.admitted += 1
                admitted.append(event)
                events.append(event)
            } else {
                quota.leftOut[event.kind, default: 0] += 1
                let summary = Self.summary(of: quota, user: user, time: event.time)
                // This minute's summary line of the user (made at its first left out, the newest of its
                // name), when it is still in the history: replaced.
                if let index = events.lastIndex(where: { $0.process == nil && $0.name == summary.name && $0.detail != nil }),
                   quota.leftOut.values.reduce(0, +) > 1 {
                    events[index] = summary
                } else {
                    events.append(summary)
                }
                summaries.removeAll { $0.name == summary.name }
                summaries.append(summary)
            }
            eventQuota[user] = quota
        }
        if events.count > Self.maximumEvents { events.removeFirst(events.count - Self.maximumEvents) }
        // Users whose minute is long over are forgotten (the map stays as small as the users active).
        if eventQuota.count > 256 { eventQuota = eventQuota.filter { now - $0.value.windowStart < 60 } }
        return (admitted, summaries)
    }

    /// The line that stands for a user's events left out this minute.
    static func summary(of quota: EventQuota, user: String, time: Double) -> InventoryEvent {
        let total = quota.leftOut.values.reduce(0, +)
        let deaths = (quota.leftOut[.died] ?? 0) + (quota.leftOut[.defunct] ?? 0)
        let what: String
        if deaths == total {
            what = deaths == 1 ? "death" : "deaths"
        } else {
            let kinds = quota.leftOut.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.word)" }.joined(separator: ", ")
            what = "events (\(kinds))"
        }
        return InventoryEvent(kind: deaths > 0 ? .died : (quota.leftOut.keys.sorted { $0.rawValue < $1.rawValue }.first ?? .died),
                              time: time, timing: .noticed, seen: false, process: nil, name: "\(user)'s instances", containerID: nil, user: user,
                              detail: "\(total) more \(what) of \(user)'s instances (more than \(maximumEventsPerUserPerMinute) events of one user in a minute: the rest of the minute not listed one by one)")
    }
}
