import SlirpCore

extension AppState {
    /// What the current view needs that it does not have: forwards of the shown instance, its log.
    public mutating func reconcile() -> Reaction {
        var effects: [Effect] = []
        if pane == .forwards, let row = selectedRow, !row.isGone, row.snapshot.forwardBlocker == nil,
           row.snapshot.apiSocket != nil || row.snapshot.rootlessKit != nil {
            let identity = row.snapshot.identity
            let entry = forwards[identity] ?? ForwardsEntry()
            if !entry.pending && (entry.count == nil && entry.error == nil || now - entry.fetchedAt >= Self.forwardsInterval) {
                forwards[identity, default: ForwardsEntry()].pending = true
                effects.append(.listForwards(row.snapshot.effectTarget))
            }
            // Docker rootless: its ports joined with Docker for the opened pane only, after they are listed.
            if row.snapshot.rootlessKit?.child?.kind == .docker, let listed = forwards[identity], let ports = listed.ports,
               !listed.pending, !listed.dockerJoined, !listed.joinPending {
                forwards[identity]?.joinPending = true
                effects.append(.joinDocker(row.snapshot.effectTarget, ports.map(\.port)))
            }
        }
        // A RootlessKit instance's FWD count: its ports listed once when first seen (RootlessKit logs
        // no request, and one `GET /v1/ports` costs about a millisecond), then by the pane while shown.
        // (By index: this runs on every turn of the loop, and a row is large.)
        for i in rows.indices where rows[i].snapshot.rootlessKit != nil && !rows[i].isGone && rows[i].snapshot.forwardBlocker == nil
            && forwards[rows[i].snapshot.identity] == nil {
            forwards[rows[i].snapshot.identity] = ForwardsEntry(pending: true)
            effects.append(.listForwards(rows[i].snapshot.effectTarget))
        }
        // An instance that left a request unanswered is listed at the same cadence, shown or not,
        // until it answers (then `apply` says what became of the request).
        for (identity, request) in unanswered {
            let entry = forwards[identity] ?? ForwardsEntry()
            if !entry.pending && now - entry.fetchedAt >= Self.forwardsInterval {
                forwards[identity, default: ForwardsEntry()].pending = true
                effects.append(.listForwards(request.target))
            }
        }
        if pane == .log, let selected, log.identity != selected, selectedRow?.snapshot.isDetached != true {
            log = LogState()
            log.identity = selected
            effects.append(.reloadLog(selected))
        }
        return Reaction(effects)
    }

    /// Applies an answer from background work; returns follow-up effects.
    public mutating func apply(_ result: WorkResult) -> Reaction {
        switch result {
        case .inventory(let snapshots, let podman, let error, let clock):
            refreshing = false
            self.podman = podman
            lastRefresh = clock
            inventoryError = error
            // A slirp4netns newly pinned at a whole CPU is said at once (the details pane says why and the fix).
            let wasPinned = Set(rows.filter { $0.snapshot.load?.pinned == true }.map(\.snapshot.identity))
            releaseDeferredStatus()
            releasePendingSummary()
            if let pinned = snapshots.first(where: { $0.load?.pinned == true && !wasPinned.contains($0.identity) }) {
                sayEvent(StatusMessage("slirp4netns \(pinned.pid) (\(pinned.name)) is pinned at a whole CPU: see its details (1)", kind: .error))
            }
            if error == nil || !snapshots.isEmpty { merge(snapshots) }
            loaded = true
        case .forwards(let identity, let list, let error):
            keepListing(identity, error: error, answered: list.map { list in
                { entry in entry.forwards = list.sorted { $0.id < $1.id } }
            }, outcome: { request in list.map { request.outcome(in: $0) } })
        case .ports(let identity, let list, let error, let dockerProblem, let listedAt):
            let before = forwards[identity]
            keepListing(identity, error: error, answered: list.map { list in
                { entry in
                    // The same ports as the last join: that join stays shown while the next runs.
                    if let kept = before?.ports, before?.dockerJoined == true, kept.map(\.port) == list.map(\.port) {
                        entry.ports = kept
                        entry.dockerProblem = before?.dockerProblem
                    } else {
                        entry.ports = list
                        entry.dockerProblem = dockerProblem
                    }
                    entry.dockerJoined = false
                    entry.listedAt = listedAt
                }
            }, outcome: { request in list.map { request.outcome(inPorts: $0.map(\.port)) } })
        case .portsJoined(let identity, let joined, let dockerProblem):
            guard var entry = forwards[identity] else { break }
            entry.joinPending = false
            // Only onto the very ports it joined: a listing since (an add, a removal) is joined again.
            if let ports = entry.ports, ports.map(\.port) == joined.map(\.port) {
                entry.ports = joined
                entry.dockerProblem = dockerProblem
                entry.dockerJoined = true
            }
            forwards[identity] = entry
        case .added(let target, let added, let failure, let sentNoAnswer):
            busy = nil
            let ids = Format.idRanges(added.map(\.id))
            let whom = target.rootlessKit.map { "rootlesskit pid \($0.pid)" } ?? "pid \(target.pid)"
            let what = target.rootlessKit == nil ? "forward" : "port"
            if let sent = sentNoAnswer {
                let request = UnansweredRequest(target: target, kind: sent.kind)
                unanswered[target.identity] = request
                let before = added.isEmpty ? "" : " (added before it: id \(ids))"
                status = StatusMessage("\(request.waiting)\(before). \(sent.explanation)", kind: .waiting)
            } else if let failure {
                let before = added.isEmpty ? "" : " (added before the failure: id \(ids))"
                status = StatusMessage("add failed: \(failure)\(before)", kind: .error)
            } else if added.count == 1, let first = added.first {
                status = StatusMessage("added \(what) id \(first.id): \(first.summary) (\(whom))\(addNote.map { "; " + $0 } ?? "")")
            } else {
                status = StatusMessage("added \(added.count) \(what)s to \(whom): ids \(ids)\(addNote.map { "; " + $0 } ?? "")")
            }
            addNote = nil
            holdStatus()
            return invalidateForwards(target.identity)
        case .removed(let target, let forward, let error, let sentWithoutAnswer):
            return removed(target, .remove(forward), subject: "forward \(forward.id)", summary: forward.summary, error: error, sentWithoutAnswer: sentWithoutAnswer)
        case .removedPort(let target, let port, let error, let sentWithoutAnswer):
            return removed(target, .removePort(port), subject: "port \(port.id)", summary: port.spec.summary, error: error, sentWithoutAnswer: sentWithoutAnswer)
        case .events(let new):
            let (admitted, summarized) = admit(new)
            // A slirp4netns dying leaves its container without a network and nothing else says so
            // (Podman #4488): the status line says it at once, in the warning colour (after an
            // operator's own result, which it does not replace for `operatorResultHold` seconds).
            // With a filter, only the instances it keeps: the operator is looking at those.
            let losses = admitted.filter { $0.kind.isLoss && !$0.seen && filterKeeps($0) }
            if !losses.isEmpty {
                sayLosses(losses)
            } else if let summary = summarized.last(where: filterKeeps) {
                saySummary(StatusMessage("\(Format.wallTime(at: summary.time)) \(summary.message) (4: events)", kind: .warning), user: summary.user ?? Self.unknownUser)
            }
        case .logSaved(let path, let error):
            if let path {
                status = StatusMessage("log saved to \(path)")
            } else {
                status = StatusMessage("saving the log failed: \(error ?? "unknown error")", kind: .error)
            }
        case .logLoaded(let identity, let lines, let truncated, let error):
            guard identity == log.identity else { break }
            let keepSearch = log.search
            let keepFollow = log.follow
            log = LogState()
            log.identity = identity
            log.search = keepSearch
            log.follow = keepFollow
            log.lines = lines
            log.keptBytes = lines.reduce(0) { $0 + $1.utf8.count }
            log.truncatedBefore = truncated
            log.error = error
            trimLog()
        case .logAppended(let identity, let lines):
            guard identity == log.identity, !lines.isEmpty else { break }
            log.lines += lines
            log.keptBytes += lines.reduce(0) { $0 + $1.utf8.count }
            trimLog()
        case .probed(let version, let features, let error):
            host.slirpVersion = version ?? error ?? "unknown"
            host.features = features
        case .dnsChecked(let identity, let report, let error):
            guard dnsCheck?.identity == identity else { break }
            dnsCheck = DNSCheckRun(identity: identity, report: report, error: error ?? (report == nil ? "no answer" : nil))
            if let report {
                status = StatusMessage("DNS, pid \(identity.pid): \(report.verdict.status.rawValue): \(report.verdict.summary)", kind: report.verdict.status == .failure ? .error : .info)
            } else {
                status = StatusMessage("DNS, pid \(identity.pid): not checked: \(error ?? "")", kind: .error)
            }
            holdStatus()
        case .doctorStep(let id, let step):
            guard doctor?.containerID == id, doctor?.isRunning == true else { break }
            doctor?.steps.append(step)
        case .forwardProbed(let identity, let report, let time):
            probed(identity, report, at: time)
        case .doctorFinished(let id, let report):
            guard var run = doctor, run.containerID == id else { break }
            run.steps = report.steps
            run.report = report
            doctor = run
            if let verdict = report.verdict {
                status = StatusMessage("doctor, \(run.name): the \(verdict.step) step fails: \(verdict.cause.kind.rawValue) — \(verdict.cause.cause)", kind: .error)
            } else {
                status = StatusMessage("doctor, \(run.name): healthy: slirp4netns starts as Podman would start it")
            }
        }
        return .none
    }

    /// Keeps a listing's answer (`answered` fills the entry; nil: it failed with `error`); a request
    /// sent without an answer is then said to be done or not (`outcome`).
    private mutating func keepListing(_ identity: ProcessIdentity, error: String?, answered: ((inout ForwardsEntry) -> Void)?,
                                      outcome: (UnansweredRequest) -> String?) {
        guard rows.contains(where: { $0.snapshot.identity == identity }) else { return }
        var entry = forwards[identity] ?? ForwardsEntry()
        entry.pending = false
        entry.fetchedAt = now
        if let answered {
            entry.forwards = nil
            entry.ports = nil
            entry.error = nil
            answered(&entry)
            if let request = unanswered.removeValue(forKey: identity), let said = outcome(request) {
                status = StatusMessage(said)
            }
        } else {
            entry.error = error
        }
        forwards[identity] = entry
        if identity == selected {
            forwardIndex = min(forwardIndex, max(0, (entry.count ?? 1) - 1))
        }
    }

    /// A removal answered: done, failed, or sent without an answer (listed again until the instance answers).
    private mutating func removed(_ target: EffectTarget, _ kind: UnansweredRequest.Kind, subject: String, summary: String,
                                  error: String?, sentWithoutAnswer: Bool) -> Reaction {
        busy = nil
        if let error, sentWithoutAnswer {
            let request = UnansweredRequest(target: target, kind: kind)
            unanswered[target.identity] = request
            status = StatusMessage("\(request.waiting). \(error)", kind: .waiting)
        } else if let error {
            status = StatusMessage("removing \(subject) failed: \(error)", kind: .error)
        } else {
            let whom = target.rootlessKit.map { "rootlesskit pid \($0.pid)" } ?? "pid \(target.pid)"
            status = StatusMessage("removed \(subject): \(summary) (\(whom))")
        }
        holdStatus()
        return invalidateForwards(target.identity)
    }

    mutating func invalidateForwards(_ identity: ProcessIdentity) -> Reaction {
        if var entry = forwards[identity] {
            entry.fetchedAt = -1e9
            entry.pending = false // an earlier listing answered (the API queue is serial) or will, harmlessly
            forwards[identity] = entry
        }
        guard pane == .forwards, selected == identity else { return .none }
        return reconcile()
    }

    private mutating func trimLog() {
        var excess = max(0, log.lines.count - LogState.maximumLines)
        var bytes = log.keptBytes - log.lines.prefix(excess).reduce(0) { $0 + $1.utf8.count }
        while bytes > LogState.maximumBytes && excess < log.lines.count - 1 {
            bytes -= log.lines[excess].utf8.count
            excess += 1
        }
        log.keptBytes = bytes
        if excess > 0 {
            log.lines.removeFirst(excess)
            log.truncatedBefore = true
            log.top = max(0, log.top - excess)
        }
    }

    /// Merges a new scan: vanished instances stay greyed for a few refreshes; the selection
    /// follows its identity and falls back to the row at the same place.
    mutating func merge(_ snapshots: [InstanceSnapshot]) {
        let oldIndex = selectedIndex
        let present = Set(snapshots.map(\.identity))
        let previous = Dictionary(rows.map { ($0.snapshot.identity, $0.snapshot) }, uniquingKeysWith: { a, _ in a })
        var merged = snapshots.map { snapshot in
            InstanceRow(snapshot: previous[snapshot.identity].map { snapshot.keepingConfiguration(of: $0) } ?? snapshot)
        }
        for row in rows where !present.contains(row.snapshot.identity) {
            let gone = (row.goneFor ?? 0) + 1
            // Its values stay, as last seen: the process that had them has exited.
            var last = row.snapshot
            last.configuration = last.configuration.afterExit
            if gone <= Self.goneRefreshes { merged.append(InstanceRow(snapshot: last, goneFor: gone)) }
        }
        rows = merged
        let known = Set(rows.map(\.snapshot.identity))
        forwards = forwards.filter { known.contains($0.key) }
        unanswered = unanswered.filter { known.contains($0.key) }
        let visible = visibleRows
        if let selected, visible.contains(where: { $0.snapshot.identity == selected }) {
            keepSelectionVisible()
        } else if !visible.isEmpty {
            let index = min(oldIndex ?? 0, visible.count - 1)
            selected = visible[index].snapshot.identity
            paneTop = 0
            forwardIndex = 0
            keepSelectionVisible()
        } else {
            selected = nil
        }
    }
}

extension AppState {
    /// Whether the list's filter keeps `event` (by name, pid, container ID, kind or words); all without a filter.
    func filterKeeps(_ event: InventoryEvent) -> Bool {
        let needle = filter.lowercased()
        guard !needle.isEmpty else { return true }
        return [event.name, event.process.map { "pid \($0.pid)" } ?? "", event.containerID ?? "", event.kind.word, event.message]
            .joined(separator: " ").lowercased().contains(needle)
    }
}
