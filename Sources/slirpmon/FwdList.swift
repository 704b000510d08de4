import SlirpCore

/// `slirpmon fwd list TARGET`: what `Slirpmon.Fwd.ListForwards` parses, or its quick parse.
struct FwdListRequest: Equatable {
    var target: String
    var json = false
    var timeout = CommonOptions.defaultTimeout
    var unverified = false

    init(_ parsed: Slirpmon.Fwd.ListForwards) {
        target = parsed.target
        json = parsed.common.json
        timeout = parsed.common.timeout
        unverified = parsed.unverified
    }

    /// `fwd list` as scripts run it, read without ArgumentParser, or nil: ArgumentParser then
    /// parses the arguments (and explains what is wrong with them). Its reflection costs as much
    /// as the listing itself (see `ListRequest(quick:)`). One TARGET that is not a flag or `help`,
    /// each flag at most once. `QuickParseTests` checks this against ArgumentParser's own parse and help.
    init?(quick arguments: ArraySlice<String>) {
        guard arguments.starts(with: ["fwd", "list"]) else { return nil }
        var target: String?
        var seen = Set<String>()
        var words = arguments.dropFirst(2)
        while let word = words.popFirst() {
            guard word.hasPrefix("-") else {
                guard target == nil, word != "help", !word.isEmpty else { return nil }
                target = word
                continue
            }
            let (name, attached) = word.hasPrefix("--") ? ListRequest.split(word) : (word, nil)
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "--json" where attached == nil: json = true
            case "--unverified" where attached == nil: unverified = true
            case "--timeout":
                guard let text = attached ?? words.popFirst(), let value = Double(text),
                      CommonOptions.isValidTimeout(value) else { return nil }
                timeout = value
            default: return nil
            }
        }
        guard let target else { return nil }
        self.target = target
    }

    func run() throws {
        let route = try FwdRoute.of(target)
        guard case .slirp(let endpoint) = route else {
            if case .rootlessKit(let kit) = route { try RootlessKitFwd.list(kit, targetText: target, json: json, timeout: timeout, unverified: unverified) }
            return
        }
        let (_, client) = try Targets.client(target, timeout: timeout, unverified: unverified, endpoint: endpoint)
        let forwards: [HostForward]
        do { forwards = try client.list() } catch { throw CLIError.failed(error.description) }
        if json { return try FileHandleOutput.json(forwards) }
        guard !forwards.isEmpty else { return FileHandleOutput.print("No forwards (only forwards added through the API socket are listed).") }
        var table = TextTable(header: ["ID", "PROTO", "HOST", "GUEST"])
        for f in forwards { table.rows.append([String(f.id), f.proto.rawValue, "\(f.hostAddr):\(f.hostPort)", "\(f.guestAddr):\(f.guestPort)"]) }
        FileHandleOutput.print(table.rendered)
    }
}
