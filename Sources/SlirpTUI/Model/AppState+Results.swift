import SlirpCore

extension AppState {
    /// What the current view needs that it does not have: forwards of the shown instance, its log.
    public mutating func reconcile() -> Reaction {
        var effects: [Effect] = []
        if pane == .forwards, let row = selectedRow, !row.isGone, row.snapshot.forwardBlocker == nil,
           let socket = row.snapshot.apiSocket {
            let identity = row.snapshot.identity
            let entry = forwards[identity] ?? ForwardsEntry()
            if !entry.pending && (entry.forwards == nil && entry.error == nil || now - entry.fetchedAt >= Self.forwardsInterval) {
                forwards[identity, default: ForwardsEntry()].pending = true
                effects.append(.listForwards(EffectTarget(identity: identity, apiSocket: socket, apiSocketFile: row.snapshot.apiSocketFile)))
            }
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
            if let pinned = snapshots.first(where: { $0.load?.pinned == true && !wasPinned.contains($0.identity) }) {
                status = StatusMessage("slirp4netns \(pinned.pid) (\(pinned.name)) is pinned at a whole CPU: see its details (1)", kind: .error)
            }
            if error == nil || !snapshots.isEmpty { merge(snapshots) }
            loaded = true
        case .forwards(let identity, let list, let error):
            guard rows.contains(where: { $0.snapshot.identity == identity }) else { break }
            var entry = forwards[identity] ?? ForwardsEntry()
            entry.pending = false
            entry.fetchedAt = now
            if let list {
                entry.forwards = list.sorted { $0.id < $1.id }
                entry.error = nil
                if let request = unanswered.removeValue(forKey: identity) {
                    status = StatusMessage(request.outcome(in: list))
                }
            } else {
                entry.error = error
            }
            forwards[identity] = entry
            if identity == selected {
                forwardIndex = min(forwardIndex, max(0, (entry.forwards?.count ?? 1) - 1))
            }
        case .added(let target, let added, let failure, let sentNoAnswer):
            busy = nil
            let ids = Format.idRanges(added.map(\.id))
            if let sent = sentNoAnswer {
                let request = UnansweredRequest(target: target, kind: .add(sent.request))
                unanswered[target.identity] = request
                let before = added.isEmpty ? "" : " (added before it: id \(ids))"
                status = StatusMessage("\(request.waiting)\(before). \(sent.explanation)", kind: .waiting)
            } else if let failure {
                let before = added.isEmpty ? "" : " (added before the failure: id \(ids))"
                status = StatusMessage("add failed: \(failure)\(before)", kind: .error)
            } else if added.count == 1, let first = added.first {
                status = StatusMessage("added forward id \(first.id): \(first.summary) (pid \(target.pid))\(addNote.map { "; " + $0 } ?? "")")
            } else {
                status = StatusMessage("added \(added.count) forwards to pid \(target.pid): ids \(ids)\(addNote.map { "; " + $0 } ?? "")")
            }
            addNote = nil
            return invalidateForwards(target.identity)
        case .removed(let target, let forward, let error, let sentWithoutAnswer):
            busy = nil
            if let error, sentWithoutAnswer {
                let request = UnansweredRequest(target: target, kind: .remove(forward))
                unanswered[target.identity] = request
                status = StatusMessage("\(request.waiting). \(error)", kind: .waiting)
            } else if let error {
                status = StatusMessage("removing forward \(forward.id) failed: \(error)", kind: .error)
            } else {
                status = StatusMessage("removed forward \(forward.id): \(forward.summary) (pid \(target.pid))")
            }
            return invalidateForwards(target.identity)
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
        case .doctorStep(let id, let step):
            guard doctor?.containerID == id, doctor?.isRunning == true else { break }
            doctor?.steps.append(step)
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
