import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon list`: every slirp4netns instance, one line each, and Podman containers that should have one.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List slirp4netns instances (with their Podman containers and pods) and containers whose slirp4netns is not running.")

        @OptionGroup var common: CommonOptions

        @Flag(name: .customLong("no-forwards"), help: "Do not ask API sockets for their forwards (nothing is written to the instances' logs).")
        var noForwards = false

        @Flag(name: .customLong("no-podman"), help: "Do not ask Podman for container names and failed containers.")
        var noPodman = false

        @Flag(name: .customLong("no-cache"), help: ArgumentHelp(
            "Read everything anew: ask every API socket and Podman, and keep nothing for the next run.",
            discussion: "By default `list` keeps, for its next run, what cannot change while an instance runs, Podman's answer for up to 5 s, and each instance's forward list while its log proves that no API request came since (slirp4netns writes every request it takes to its log)."))
        var noCache = false

        @Option(name: .customLong("rates"), help: ArgumentHelp(
            "Measure CPU % and tap traffic over SECONDS (0.1 to 60): two readings that far apart.",
            discussion: "Adds the CPU%, RSS, RX/s and TX/s columns and fills the rates of each JSON row's `load` (otherwise null: one reading has no rate). A slirp4netns that wanted a whole CPU over the interval is flagged.",
            valueName: "seconds"))
        var rates: Double?

        func validate() throws {
            if let rates, !ListRequest.isValidRateWindow(rates) { throw ValidationError(ListRequest.rateWindowRange(got: rates)) }
        }

        /// One row of `list --json`: a running instance, or a container without one.
        enum Row: Encodable {
            case instance(InstanceReport)
            case detached(DetachedReport)
            func encode(to encoder: Encoder) throws {
                switch self {
                case .instance(let r): try r.encode(to: encoder)
                case .detached(let r): try r.encode(to: encoder)
                }
            }
        }

        func run() throws { try ListRequest(self).run() }
    }
}

/// What `slirpmon list` was asked for, however it was parsed.
struct ListRequest: Equatable {
    var json = false
    var timeout = CommonOptions.defaultTimeout
    var forwards = true
    var podman = true
    var cache = true
    /// `--rates`: the seconds between two readings of each instance's load; nil: read once.
    var rates: Double?

    static func isValidRateWindow(_ seconds: Double) -> Bool { Inventory.rateWindows.contains(seconds) }
    static func rateWindowRange(got seconds: Double) -> String { "--rates must be 0.1 to 60 seconds, got \(seconds)" }

    init(_ list: Slirpmon.List) {
        json = list.common.json
        timeout = list.common.timeout
        forwards = !list.noForwards
        podman = !list.noPodman
        cache = !list.noCache
        rates = list.rates
    }

    /// `list` as scripts run it, read without ArgumentParser, or nil: ArgumentParser then parses
    /// the arguments (and explains what is wrong with them).
    ///
    /// ArgumentParser finds a command's options by reflection (`Mirror`, generic metadata, a
    /// protocol-conformance scan per type), a large part of a short run's start-up. `list` is
    /// what a script runs in a loop, so its flags are matched here: each flag at most once, `--timeout` with a value `--timeout`
    /// itself accepts. `QuickParseTests` checks this against ArgumentParser's own parse and help.
    init?(quick arguments: ArraySlice<String>) {
        guard arguments.first == "list" else { return nil }
        var seen = Set<String>()
        var words = arguments.dropFirst()
        while let word = words.popFirst() {
            let (name, attached) = word.hasPrefix("--") ? Self.split(word) : (word, nil)
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "--json" where attached == nil: json = true
            case "--no-forwards" where attached == nil: forwards = false
            case "--no-podman" where attached == nil: podman = false
            case "--no-cache" where attached == nil: cache = false
            case "--rates":
                guard let text = attached ?? words.popFirst(), let value = Double(text), Self.isValidRateWindow(value) else { return nil }
                rates = value
            case "--timeout":
                guard let text = attached ?? words.popFirst(), let value = Double(text),
                      CommonOptions.isValidTimeout(value) else { return nil }
                timeout = value
            default: return nil
            }
        }
    }

    /// `--name=value` as ("--name", "value"); `--name` as ("--name", nil).
    static func split(_ word: String) -> (String, String?) {
        guard let eq = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<eq]), String(word[word.index(after: eq)...]))
    }

    func run() throws {
        // What cannot change while an instance runs is read once, by the first run that sees it; a
        // forward list is asked again only when the instance's log shows a request since.
        let kept = cache ? InventoryCache.persistentFacts() : nil
        var options = Inventory.Options(purpose: .scriptedList(forwards: forwards, cache: kept))
        options.apiTimeout = timeout
        options.readAddresses = false
        options.readLogs = false
        options.podman = podman ? PodmanCatalog(persistent: cache) : nil
        let inventory = Inventory(options: options)
        var snapshot: InventorySnapshot
        do { snapshot = try inventory.snapshot() } catch { throw CLIError.failed("cannot scan /proc: \(error)") }
        if let rates { inventory.measureLoad(&snapshot.instances, over: rates) }
        // What is kept for the next run is written while the output is made.
        if let kept { try kept.persist { try show(snapshot) } } else { try show(snapshot) }
    }

    /// CPU%, RSS, RX/s, TX/s of `list --rates` (`-`: not measured; `!` after CPU%: pinned at a whole CPU).
    static func loadColumns(_ i: SlirpInstance) -> [String] {
        let load = i.load
        let rates = load?.tapRates
        return [load?.cpuPercent.map { Format.percent($0) + (load?.pinned == true ? "!" : "") } ?? "-",
                i.process.isZombie ? "-" : Format.rate(Double(i.process.residentBytes)),
                rates.map { Format.rate($0.rxBytes) } ?? "-", rates.map { Format.rate($0.txBytes) } ?? "-"]
    }

    private func show(_ snapshot: InventorySnapshot) throws {
        for failure in snapshot.podmanFailures { FileHandleOutput.error("slirpmon: \(failure)") }
        if json {
            let rows = snapshot.instances.map { Slirpmon.List.Row.instance(InstanceReport($0, detailed: false)) }
                + snapshot.detachedContainers.map { Slirpmon.List.Row.detached(DetachedReport($0)) }
            try FileHandleOutput.json(rows)
            return
        }
        if snapshot.instances.isEmpty && snapshot.detachedContainers.isEmpty {
            FileHandleOutput.print("No slirp4netns instance is running. `slirpmon demo` starts a few to look at.")
            return
        }
        if !snapshot.instances.isEmpty {
            var table = TextTable(header: ["PID", "NAME", "USER", "STATE", "UPTIME", "CIDR", "GUEST", "GATEWAY", "DNS", "IPV6", "MTU", "API", "FWD"]
                + (rates == nil ? [] : ["CPU%", "RSS", "RX/s", "TX/s"]))
            // A defunct instance's values are last seen (marked `*`) or unknown (`?`, as the monitor says), each said why below the table.
            var notes: [String] = []
            for i in snapshot.instances {
                let r = InstanceReport(i, detailed: false)
                let source = i.process.configurationSource
                let mark = source.lastSeenAt == nil ? "" : "*"
                if let note = source.note { notes.append("\(source.isKnown ? "*" : "?") pid \(r.pid): \(note)") }
                func computed(_ value: String?) -> String { source.isKnown ? (value ?? "error") + mark : "?" }
                let row: [String] = [
                    String(r.pid), i.displayName, r.user ?? r.uid.map(String.init) ?? "?",
                    r.zombie ? "defunct" : r.state, Format.duration(r.uptimeSeconds), computed(r.cidr),
                    computed(r.guest), computed(r.gateway), computed(r.dns), computed(r.ipv6.map { $0 ? "yes" : "no" }), computed(r.mtu.map(String.init)),
                    Slirpmon.List.apiColumn(r, i),
                    Slirpmon.List.forwardColumn(r, i),
                ]
                table.rows.append(row + (rates == nil ? [] : Self.loadColumns(i)))
                if rates != nil, let finding = i.loadFinding { notes.append("! pid \(r.pid): \(finding.message)" + (finding.cause.map { ": \($0.cause); fix: \($0.fix)" } ?? "")) }
            }
            FileHandleOutput.print(table.rendered)
            if !notes.isEmpty { FileHandleOutput.print(notes.map(\.terminalSafe).joined(separator: "\n")) }
        }
        if !snapshot.detachedContainers.isEmpty {
            FileHandleOutput.print("\nContainers in slirp4netns mode without a running slirp4netns:")
            var table = TextTable(header: ["NAME", "ID", "USER", "STATE", "NETWORK OPTIONS", "WHY"])
            for d in snapshot.detachedContainers {
                let c = d.container
                table.rows.append([c.isInfra ? "pod:\(c.podName ?? c.name)" : c.name, c.shortID, c.ownerName ?? String(c.ownerUID),
                                   c.state, c.networkOptions.isEmpty ? "(defaults)" : c.networkOptions.joined(separator: ","), d.reason])
            }
            FileHandleOutput.print(table.rendered)
        }
    }
}

extension Slirpmon.List {
    /// The API column: what takes the instance's forwards. A RootlessKit's slirp4netns is reached
    /// through rootlesskit's api.sock (its own `.s4nn.sock`, with the slirp4netns port driver, is
    /// rootlesskit's and not for other clients); `?` when that socket is not proven to listen.
    static func apiColumn(_ r: InstanceReport, _ i: SlirpInstance) -> String {
        if r.zombie { return "-" }
        if let kit = i.rootlessKit { return kit.apiSocketListening ? "rootlesskit" : "?" }
        if r.apiSocket == nil { return i.rootlessPorts.isEmpty ? "-" : "rootlessport" }
        return r.apiSocketStatus?.rawValue ?? "?"
    }

    /// The FWD column: the count, `-` where there is nothing to count, `?` where it is not known.
    static func forwardColumn(_ r: InstanceReport, _ i: SlirpInstance) -> String {
        if let count = r.forwardCount { return String(count) }
        return i.rootlessKit == nil && (r.apiSocket == nil || r.zombie) ? "-" : "?"
    }
}
