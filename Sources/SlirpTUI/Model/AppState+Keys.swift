import SlirpCore

extension AppState {
    var layout: Layout { layout(size: size) }

    /// Where everything goes at `size` (a third header line when Podman reports failures).
    func layout(size: Size) -> Layout {
        Layout(size: size, rowCount: visibleCount, headerRows: 2 + podman.headerLines.count)
    }

    /// Applies a key; returns what the runtime must do. Pure: no I/O happens here.
    public mutating func handle(_ key: Key) -> Reaction {
        if key == .resize { return .none }
        // Too small, nothing but "terminal too small ... (q quits)" shows: only the quit keys act
        // (Ctrl-C is the runtime's); any other key would change what the operator cannot see.
        if Layout(size: size, rowCount: 0).isTooSmall {
            return KeyBindings.action(for: key, readOnly: readOnly) == .quit ? Reaction([.quit]) : .none
        }
        switch mode {
        case .normal: return handleNormal(key)
        case .help(let top): return handleHelp(key, top: top)
        case .prompt(let prompt): return handlePrompt(key, prompt)
        case .form(let form): return handleForm(key, form)
        case .confirmRemove(let target, let forward): return handleConfirm(key, target, forward)
        case .confirmRemovePort(let target, let port): return handleConfirmPort(key, target, port)
        case .doctor(let top): return handleDoctor(key, top: top)
        }
    }

    private mutating func handleNormal(_ key: Key) -> Reaction {
        switch key {
        case .click(let x, let y): return click(x: x, y: y)
        case .wheelUp(let x, let y): return wheel(x: x, y: y, by: -3)
        case .wheelDown(let x, let y): return wheel(x: x, y: y, by: 3)
        default: break
        }
        guard let action = KeyBindings.action(for: key, readOnly: readOnly, pane: pane) else { return .none }
        return perform(action)
    }

    /// Performs one action of the key table.
    public mutating func perform(_ action: Action) -> Reaction {
        switch action {
        case .quit: return Reaction([.quit])
        case .help: mode = .help(top: 0)
        case .refresh: return Reaction([.refreshInventory])
        case .search:
            mode = .prompt(Prompt(kind: focus == .pane && pane == .log ? .logSearch : .search, text: ""))
        case .searchNext:
            if focus == .pane && pane == .log { nextLogMatch(after: true) } else { searchList(search, from: 1) }
        case .filter: mode = .prompt(Prompt(kind: .filter, text: filter))
        case .sortNext:
            sortColumn = Column(rawValue: (sortColumn.rawValue + 1) % Column.allCases.count) ?? .pid
            status = StatusMessage("sorted by \(sortColumn.title) \(sortAscending ? "ascending" : "descending")")
            keepSelectionVisible()
        case .sortReverse:
            sortAscending.toggle()
            status = StatusMessage("sorted by \(sortColumn.title) \(sortAscending ? "ascending" : "descending")")
            keepSelectionVisible()
        case .cyclePane: return show(Pane(rawValue: (pane.rawValue + 1) % Pane.allCases.count) ?? .details)
        case .showDetails: return show(.details)
        case .showLog: return show(.log)
        case .showForwards: return show(.forwards)
        case .showEvents: return show(.events)
        case .toggleFocus: focus = focus == .list ? .pane : .list
        case .up: return move(-1)
        case .down: return move(1)
        case .pageUp: return move(-max(1, (focus == .list ? layout.listHeight : layout.paneHeight) - 1))
        case .pageDown: return move(max(1, (focus == .list ? layout.listHeight : layout.paneHeight) - 1))
        case .home: return move(Int.min / 2)
        case .end: return move(Int.max / 2)
        case .follow:
            guard pane == .log else { return .none }
            log.follow.toggle()
            if !log.follow { log.top = max(0, log.lines.count - layout.paneHeight) }
            status = StatusMessage(log.follow ? "following the log" : "log follow off")
        case .saveLog:
            guard pane == .log, let row = selectedRow else { return .none }
            if row.isGone || row.snapshot.isZombie || row.snapshot.isDetached {
                status = StatusMessage("cannot save: the process has exited and its log closed with it", kind: .error)
                return .none
            }
            status = StatusMessage("saving the log of pid \(row.snapshot.pid)...", kind: .waiting)
            return Reaction([.saveLog(row.snapshot.identity)])
        case .addForward:
            guard !readOnly else { return .none }
            if pane != .forwards { _ = show(.forwards) }
            if let blocker = addBlocker {
                status = StatusMessage("cannot add a forward: \(blocker)", kind: .error)
                return .none
            }
            guard let row = selectedRow else { return .none }
            mode = .form(ForwardForm(target: row.snapshot.identity, rootlessKit: row.snapshot.rootlessKit != nil))
        case .removeForward:
            guard !readOnly, pane == .forwards, let target = selectedTarget else { return .none }
            if let blocker = addBlocker {
                status = StatusMessage("cannot remove a forward: \(blocker)", kind: .error)
                return .none
            }
            if target.rootlessKit != nil {
                guard let port = selectedPort else {
                    status = StatusMessage("no port selected", kind: .error)
                    return .none
                }
                mode = .confirmRemovePort(target, port)
                return .none
            }
            guard let forward = selectedForward else {
                status = StatusMessage("no forward selected", kind: .error)
                return .none
            }
            mode = .confirmRemove(target, forward)
        case .doctor:
            return startDoctor()
        case .checkDNS:
            guard let row = selectedRow else { return .none }
            if row.isGone || row.snapshot.isZombie || row.snapshot.isDetached {
                status = StatusMessage("no DNS to ask: no slirp4netns is running for \(row.snapshot.name)", kind: .error)
                return .none
            }
            if let running = dnsCheck, running.isRunning {
                status = StatusMessage("the DNS check of pid \(running.identity.pid) is still waiting for its answer", kind: .waiting)
                return .none
            }
            dnsCheck = DNSCheckRun(identity: row.snapshot.identity)
            status = StatusMessage("DNS: asking pid \(row.snapshot.pid)'s DNS address from inside its namespace...", kind: .waiting)
            return Reaction([.checkDNS(row.snapshot.identity)])
        case .probeForward:
            return probeSelected()
        case .dismiss: status = nil
        case .accept, .cancel, .erase, .nextField, .previousField, .confirm, .close:
            break // the keys of the modes on top (`KeyBindings.modes`), never bound on the main screen
        }
        return .none
    }

    /// Opens the doctor's report for the selected container, starting a run unless one is
    /// already running for it (a second run waits for the first: one trial at a time).
    mutating func startDoctor() -> Reaction {
        guard let row = selectedRow else { return .none }
        guard let container = row.snapshot.container else {
            status = StatusMessage("the doctor examines Podman containers; for this instance run `slirpmon doctor --options OPTS`", kind: .error)
            return .none
        }
        if let running = doctor, running.isRunning {
            if running.containerID == container.id {
                mode = .doctor(top: 0)
            } else {
                status = StatusMessage("the doctor is still examining \(running.name): wait for it (D shows it)", kind: .error)
            }
            return .none
        }
        let ports = container.ports.reduce(0) { $0 + $1.range }
        let request = ContainerNetworkOptions(id: container.id, name: container.name, networkMode: container.networkMode,
                                              options: container.networkOptions, portMappings: ports, state: container.state, ports: container.ports)
        var note: String?
        if let owner = container.ownerName, owner != host.userName, container.ownerUID != 0 {
            note = "\(container.name) belongs to \(owner): the trial runs as \(host.userName), a rootless start may differ (\(Shell.command(["slirpmon", "doctor", container.name])) as root examines it as \(owner))"
        }
        doctor = DoctorRun(containerID: container.id, name: row.snapshot.name, note: note)
        mode = .doctor(top: 0)
        status = StatusMessage("doctor: replaying \(container.name)'s slirp4netns start-up in a scratch namespace, waiting...", kind: .waiting)
        return Reaction([.runDoctor(request)])
    }

    /// Switches the pane; listing forwards when the forwards pane opens.
    mutating func show(_ newPane: Pane) -> Reaction {
        if pane != newPane { paneTop = 0 }
        pane = newPane
        return reconcile()
    }

    // MARK: Movement

    mutating func move(_ delta: Int) -> Reaction {
        if focus == .list { return moveSelection(delta) }
        switch pane {
        case .details:
            paneTop = max(0, paneTop + delta)
        case .log:
            let height = layout.paneHeight
            let last = max(0, log.lines.count - height)
            var top = log.follow ? last : log.top
            top = min(max(0, top + delta), last)
            log.top = top
            log.follow = top >= last && delta > 0
        case .forwards:
            let count = selectedForwards?.count ?? selectedRow?.snapshot.configuredPorts.count ?? 0
            forwardIndex = min(max(0, forwardIndex + delta), max(0, count - 1))
        case .events:
            paneTop = min(max(0, paneTop + delta), max(0, events.count - 1))
        }
        return .none
    }

    mutating func moveSelection(_ delta: Int) -> Reaction {
        let rows = visibleRows
        guard !rows.isEmpty else { return .none }
        let current = selectedIndex ?? 0
        let index = min(max(0, current + delta), rows.count - 1)
        return select(rows[index].snapshot.identity)
    }

    /// Selects an instance; a new selection resets the pane's position and lists its forwards if shown.
    mutating func select(_ identity: ProcessIdentity) -> Reaction {
        if selected != identity {
            selected = identity
            paneTop = 0
            forwardIndex = 0
        }
        keepSelectionVisible()
        return reconcile()
    }

    mutating func keepSelectionVisible() {
        let height = layout.listHeight
        guard let index = selectedIndex, height > 0 else { listTop = 0; return }
        if index < listTop { listTop = index }
        if index >= listTop + height { listTop = index - height + 1 }
        listTop = max(0, min(listTop, max(0, visibleCount - height)))
    }

    mutating func searchList(_ text: String, from offset: Int) {
        let needle = text.lowercased()
        let rows = visibleRows
        guard !needle.isEmpty, !rows.isEmpty else { return }
        let start = selectedIndex ?? 0
        for step in 0..<rows.count {
            let row = rows[(start + offset + step) % rows.count]
            if searchText(row).contains(needle) {
                _ = select(row.snapshot.identity)
                return
            }
        }
        status = StatusMessage("no instance matches \(quoted(text))", kind: .error)
    }

    mutating func nextLogMatch(after: Bool) {
        let matches = logMatches
        guard !matches.isEmpty else {
            if !log.search.isEmpty { status = StatusMessage("no log line matches \(quoted(log.search))", kind: .error) }
            return
        }
        let height = max(1, layout.paneHeight)
        let current = log.follow ? max(0, log.lines.count - height) : log.top
        let next = matches.first { after ? $0 > current : $0 >= current } ?? matches[0]
        log.follow = false
        log.top = min(next, max(0, log.lines.count - 1))
        status = StatusMessage("match at line \(next + 1) of \(log.lines.count) (\(matches.count) matching lines; n: next)")
    }

    /// The screen the operator sees, with what each area reaches (`HitArea`). The screen is a
    /// pure function of the state, and the runtime draws it before it reads a key: drawn again
    /// here, it is the screen the mouse was used on. (One frame per mouse event: the cost of one
    /// refresh's drawing, paid only when the mouse is used.)
    var drawn: Screen { render(self, size: size) }

    /// A click selects a list row, switches pane on a tab, picks a forward, or presses a function key:
    /// whatever was drawn under the pointer.
    mutating func click(x: Int, y: Int) -> Reaction {
        switch drawn.clickTarget(x: x, y: y) {
        case .instance(let identity):
            focus = .list
            return select(identity)
        case .list: focus = .list
        case .paneTab(let pane): return show(pane)
        case .pane: focus = .pane
        case .forward(let index):
            focus = .pane
            forwardIndex = index
        case .functionKey(let n): return handle(.function(n))
        case .scrolls, nil: break
        }
        return .none
    }

    /// The wheel scrolls what was drawn under the pointer (the list, or the pane), and focuses it.
    mutating func wheel(x: Int, y: Int, by lines: Int) -> Reaction {
        if let area = drawn.wheelTarget(x: x, y: y) { focus = area }
        return move(lines)
    }

    // MARK: Modes

    private mutating func handleHelp(_ key: Key, top: Int) -> Reaction {
        // Scrolls within what is drawn: past the end, Up moves at once (the top is kept in range).
        let count = HelpView.lines(readOnly: readOnly, width: size.width).count
        let shown = HelpView.page(lineCount: count, size: size, top: top)
        let page = max(1, shown.rows - 1)
        func scroll(_ delta: Int) { mode = .help(top: HelpView.page(lineCount: count, size: size, top: shown.first + delta).first) }
        switch KeyBindings.action(for: key, in: .help, readOnly: readOnly) {
        case .down: scroll(1)
        case .up: scroll(-1)
        case .pageDown: scroll(page)
        case .pageUp: scroll(-page)
        case .quit: return Reaction([.quit])
        default: mode = .normal
        }
        return .none
    }

    private mutating func handleDoctor(_ key: Key, top: Int) -> Reaction {
        let page = max(1, size.height - 8)
        // The mouse: the wheel scrolls three lines, a click closes.
        let action: Action?
        switch key {
        case .wheelDown: mode = .doctor(top: top + 3); return .none
        case .wheelUp: mode = .doctor(top: max(0, top - 3)); return .none
        case .click: action = .close
        default: action = KeyBindings.action(for: key, in: .doctor, readOnly: readOnly)
        }
        switch action {
        case .down: mode = .doctor(top: top + 1)
        case .up: mode = .doctor(top: max(0, top - 1))
        case .pageDown: mode = .doctor(top: top + page)
        case .pageUp: mode = .doctor(top: max(0, top - page))
        case .home: mode = .doctor(top: 0)
        case .end: mode = .doctor(top: Int.max / 2)
        case .quit: return Reaction([.quit])
        case .close:
            mode = .normal
            if doctor?.isRunning == true { status = StatusMessage("the doctor keeps running; D shows it again", kind: .waiting) }
        default: break
        }
        return .none
    }

    private mutating func handlePrompt(_ key: Key, _ prompt: Prompt) -> Reaction {
        var prompt = prompt
        switch KeyBindings.action(for: key, in: .prompt, readOnly: readOnly) {
        case .cancel:
            mode = .normal
            if prompt.kind == .filter {
                filter = ""
                keepSelectionVisible()
            }
            return .none
        case .accept:
            mode = .normal
            switch prompt.kind {
            case .search:
                search = prompt.text
                if !search.isEmpty { searchList(search, from: 0) }
            case .filter:
                filter = prompt.text
                return fixSelectionAfterFilter()
            case .logSearch:
                log.search = prompt.text
                nextLogMatch(after: false)
            }
            return .none
        case .erase:
            if !prompt.text.isEmpty { prompt.text.removeLast() }
        default:
            guard case .character(let c) = key, !c.isControlLike, prompt.text.count < 200 else { return .none }
            prompt.text.append(c)
        }
        mode = .prompt(prompt)
        // Live: the filter narrows as typed, the search jumps as typed.
        switch prompt.kind {
        case .filter:
            filter = prompt.text
            return fixSelectionAfterFilter()
        case .search:
            if !prompt.text.isEmpty { searchList(prompt.text, from: 0) }
        case .logSearch:
            log.search = prompt.text
        }
        return .none
    }

    mutating func fixSelectionAfterFilter() -> Reaction {
        let rows = visibleRows
        if selectedIndex == nil, let first = rows.first { return select(first.snapshot.identity) }
        keepSelectionVisible()
        return .none
    }

    private mutating func handleForm(_ key: Key, _ form: ForwardForm) -> Reaction {
        var form = form
        switch KeyBindings.action(for: key, in: .form, readOnly: readOnly) {
        case .cancel:
            mode = .normal
            status = StatusMessage("add forward cancelled")
            return .none
        case .nextField: form.next()
        case .previousField: form.previous()
        case .erase: form.backspace()
        case .accept:
            return accept(form)
        default:
            if case .character(let c) = key { form.type(c) }
        }
        mode = .form(form)
        return .none
    }

    /// The form sent, once every field is valid: `add_hostfwd` requests, or RootlessKit ports
    /// (`RootlessKitSession` checks those against the instance's drivers and ports before anything is sent).
    private mutating func accept(_ form: ForwardForm) -> Reaction {
        var form = form
        let count = (form.rootlessKit ? form.ports?.count : form.requests?.count) ?? 0
        guard count > 0 else {
            let field = ForwardForm.Field.allCases.first { form.error(for: $0) != nil }
            if let field { form.focus = field }
            status = StatusMessage("not sent: fix \(field?.label.lowercased() ?? "the form") first", kind: .error)
            mode = .form(form)
            return .none
        }
        mode = .normal
        guard let row = rows.first(where: { $0.snapshot.identity == form.target }), !row.isGone else {
            status = StatusMessage("not sent: the instance has exited", kind: .error)
            return .none
        }
        let target = row.snapshot.effectTarget
        let effect: Effect
        if let kit = target.rootlessKit, let specs = form.ports {
            busy = "adding \(count == 1 ? "1 port" : "\(count) ports") (\(form.mappingText)) to rootlesskit pid \(kit.pid)"
            effect = .addPorts(target, specs)
        } else if let requests = form.requests {
            addNote = ForwardCaveat.loopbackUDPReplies(requests, disableHostLoopback: row.snapshot.disableHostLoopback)
            busy = "adding \(count == 1 ? "1 forward" : "\(count) forwards") (\(form.mappingText)) to pid \(target.pid)"
            effect = .addForwards(target, requests)
        } else {
            status = StatusMessage("not sent: the form is not for this instance's API", kind: .error)
            return .none
        }
        status = StatusMessage(busy.map { $0 + ", waiting..." } ?? "", kind: .waiting)
        return Reaction([effect])
    }

    private mutating func handleConfirmPort(_ key: Key, _ target: EffectTarget, _ port: RootlessKitForward) -> Reaction {
        confirm(key, doing: "removing port \(port.id) (\(port.spec.summary)) from rootlesskit pid \(target.rootlessKit.map { String($0.pid) } ?? "?")",
                kept: "port \(port.id) kept", .removePort(target, port.port))
    }

    private mutating func handleConfirm(_ key: Key, _ target: EffectTarget, _ forward: HostForward) -> Reaction {
        confirm(key, doing: "removing forward \(forward.id) (\(forward.summary)) from pid \(target.pid)", kept: "forward \(forward.id) kept",
                .removeForward(target, forward))
    }

    /// The remove question answered: `y` sends `effect` (saying `doing`, waiting), any other key keeps it.
    private mutating func confirm(_ key: Key, doing: String, kept: String, _ effect: Effect) -> Reaction {
        mode = .normal
        guard KeyBindings.action(for: key, in: .confirm, readOnly: readOnly) == .confirm else {
            status = StatusMessage(kept)
            return .none
        }
        busy = doing
        status = StatusMessage(doing + ", waiting...", kind: .waiting)
        return Reaction([effect])
    }
}
