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

/// A flooding user's summary line that waits for another user's loss to be read.
public struct PendingSummary: Equatable, Sendable {
    let message: StatusMessage
    let user: String
}

extension AppState {
    /// Keeps the operator's own result (an add, a remove, a probe, a DNS check) in the status line for
    /// `operatorResultHold` seconds: an event noticed meanwhile (a user's process named slirp4netns
    /// dying in a loop) is said after it, not over it. Losses already waiting stay waiting (each
    /// death is said once); another waiting message gives way to the new result.
    mutating func holdStatus() {
        status?.heldUntil = now + Self.operatorResultHold
        if deferredLosses.isEmpty { deferredStatus = nil }
    }

    /// Says an event's message in the status line, or, while an operator's result holds it, once the
    /// hold is over. It never replaces a loss that waits: a death is said before anything else.
    mutating func sayEvent(_ message: StatusMessage) {
        if let held = status?.heldUntil, held > now {
            if deferredLosses.isEmpty { deferredStatus = message }
        } else {
            status = message
            deferredStatus = nil
        }
    }

    /// Says losses (deaths, containers left without their slirp4netns) in the status line: one by
    /// itself with its message, several as one `N lost: ...` line naming each. While an operator's
    /// result holds the line they wait, merged with those already waiting: none is dropped.
    mutating func sayLosses(_ losses: [InventoryEvent]) {
        guard !losses.isEmpty else { return }
        let held = (status?.heldUntil ?? 0) > now
        let all = (held ? deferredLosses : []) + losses
        func who(_ event: InventoryEvent) -> String { event.name + (event.process.map { " pid \($0.pid)" } ?? "") }
        var message: StatusMessage
        if all.count == 1, let loss = all.first {
            message = StatusMessage("\(Format.wallTime(at: loss.time)) \(who(loss)): \(loss.kind.word): \(loss.message) (4: events)", kind: .warning)
        } else {
            let names = all.map { "\(who($0)) \($0.kind.word)" }.joined(separator: ", ")
            message = StatusMessage("\(Format.wallTime(at: all[all.count - 1].time)) \(all.count) lost: \(names) (4: events)", kind: .warning)
        }
        message.lossSaidAt = now
        message.lossUsers = Set(all.map { $0.user ?? Self.unknownUser })
        if held {
            deferredStatus = message
            deferredLosses = all
        } else {
            status = message
            deferredStatus = nil
            deferredLosses = []
        }
    }

    /// Says a flooding user's summary line ("N more deaths of mallory's instances"), made once a minute:
    /// never over another user's loss said less than `operatorResultHold` seconds ago or one waiting
    /// (the flood must not hide a real death): then it waits (`releasePendingSummary`), the latest one only.
    mutating func saySummary(_ message: StatusMessage, user: String) {
        if hidesOthersLoss(user: user) || !deferredLosses.isEmpty {
            pendingSummary = PendingSummary(message: message, user: user)
            return
        }
        pendingSummary = nil
        sayEvent(message)
    }

    /// True while the status line shows, since less than `operatorResultHold` seconds, a loss of another user than `user`.
    func hidesOthersLoss(user: String) -> Bool {
        guard let shown = status, let said = shown.lossSaidAt else { return false }
        return now - said < Self.operatorResultHold && !shown.lossUsers.subtracting([user]).isEmpty
    }

    /// At each refresh: a summary that waited for another user's loss is said once that loss has been read.
    mutating func releasePendingSummary() {
        guard let pending = pendingSummary, !hidesOthersLoss(user: pending.user), deferredLosses.isEmpty,
              (status?.heldUntil ?? 0) <= now else { return }
        pendingSummary = nil
        sayEvent(pending.message)
    }

    /// At each refresh: the event message that waited is said once the operator's result has been read.
    mutating func releaseDeferredStatus() {
        guard var waiting = deferredStatus, (status?.heldUntil ?? 0) <= now else { return }
        if waiting.lossSaidAt != nil { waiting.lossSaidAt = now }
        status = waiting
        deferredStatus = nil
        deferredLosses = []
    }

    /// Puts `new` into `events`, at most `maximumEventsPerUserPerMinute` of one user a minute (the
    /// state as first seen is not counted): any user can start and kill processes named slirp4netns
    /// in a loop, and the 5000 entries of the history are everybody's. The rest of a user's minute
    /// is one summary line ("12 more deaths of alice's instances"), updated in place. A failed probe
    /// is the operator's own result, not the user's doing: never counted, never summarized.
    /// Returns the events put in one by one, and the summaries first made (this minute) by this call:
    /// one updated later is not said again (it would be said at every refresh of a flood).
    @discardableResult
    mutating func admit(_ new: [InventoryEvent]) -> (admitted: [InventoryEvent], summaries: [InventoryEvent]) {
        var admitted: [InventoryEvent] = [], summaries: [InventoryEvent] = []
        var made = Set<String>()
        for event in new {
            guard !event.seen, event.kind != .probeFailed else {
                admitted.append(event)
                events.append(event)
                continue
            }
            let user = event.user ?? Self.unknownUser
            var quota = eventQuota[user] ?? EventQuota(windowStart: now)
            if now - quota.windowStart >= 60 { quota = EventQuota(windowStart: now) }
            if quota.admitted < Self.maximumEventsPerUserPerMinute {
                quota.admitted += 1
                admitted.append(event)
                events.append(event)
            } else {
                if quota.leftOut.isEmpty { made.insert(user) }
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
                if made.contains(user) {
                    summaries.removeAll { $0.name == summary.name }
                    summaries.append(summary)
                }
            }
            eventQuota[user] = quota
        }
        if events.count > Self.maximumEvents { events.removeFirst(events.count - Self.maximumEvents) }
        // Users whose minute is long over are forgotten (the map stays as small as the users active).
        if eventQuota.count > 256 { eventQuota = eventQuota.filter { now - $0.value.windowStart < 60 } }
        return (admitted, summaries)
    }

    /// Whose events they are when the user is not known.
    static let unknownUser = "an unknown user"

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
