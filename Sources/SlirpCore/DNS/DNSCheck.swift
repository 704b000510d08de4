/// Does DNS work for an instance, and if not, why: slirp4netns's DNS address asked from inside
/// the namespace (timed), the namespace's resolv.conf against that address, and the host
/// resolver slirp4netns forwards to, joined into one verdict with its fix.
public struct DNSReport: Sendable, Equatable, Encodable {
    /// The slirp4netns process.
    public let pid: Int32
    /// The name asked.
    public let name: String
    /// The network namespace the questions were asked from (the file joined).
    public let namespace: String
    /// The probes: slirp4netns's IPv4 DNS address, then fd00::3 with --enable-ipv6; none with --disable-dns.
    public let probes: [DNSProbe]
    /// The namespace's resolv.conf against slirp4netns's DNS addresses (`dns`, `dns6` rows of `AddressCheck`).
    public let resolvConf: [AddressCheck]
    /// What slirp4netns forwards to.
    public let hostResolver: HostResolver
    /// The IPv4 query's way out of the namespace (its route, the tap's packets), when it was asked.
    @NullWhenAbsent public private(set) var namespaceRoute: DNSRoute?
    public let verdict: DNSVerdict

    enum CodingKeys: String, CodingKey {
        case pid, name, namespace, probes, verdict
        case resolvConf = "resolv_conf", hostResolver = "host_resolver", namespaceRoute = "namespace_route"
    }

    public init(pid: Int32, name: String, namespace: String, probes: [DNSProbe], resolvConf: [AddressCheck],
                hostResolver: HostResolver, namespaceRoute: DNSRoute? = nil, verdict: DNSVerdict) {
        (self.pid, self.name, self.namespace, self.probes, self.resolvConf) = (pid, name, namespace, probes, resolvConf)
        self.hostResolver = hostResolver
        self.namespaceRoute = namespaceRoute
        self.verdict = verdict
    }
}

/// The answer in words: whether DNS works, why not, and what to do.
public struct DNSVerdict: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Encodable {
        case ok, warning, failure
    }

    public let status: Status
    /// One sentence: what was asked, what came back, and what that means.
    public let summary: String
    /// What to do, when something is wrong.
    @NullWhenAbsent public private(set) var fix: String?
    /// Further facts that explain the path (a loopback resolver, nameservers never asked).
    public let notes: [String]

    public init(status: Status, summary: String, fix: String? = nil, notes: [String] = []) {
        self.status = status
        self.summary = summary
        self.fix = fix
        self.notes = notes
    }
}

public enum DNSCheck {
    /// Seconds fd00::3 is waited for when slirp4netns's resolv.conf names no IPv6 nameserver.
    static let unansweredIPv6Wait = 0.25

    /// The name asked when none is given (RFC 2606's; any reply, NXDOMAIN included, proves the path).
    public static let defaultName = "example.com"

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case badName(DNSMessage.NameError)
        /// Nothing to ask: the process is defunct, or its configuration unknown.
        case notRunning(pid: Int32, String)
        case noAddress(pid: Int32, String)
        case namespace(pid: Int32, NamespaceReader.Failure)

        public var description: String {
            switch self {
            case .badName(let error): error.description
            case .notRunning(let pid, let why): "pid \(pid): \(why): no DNS to ask"
            case .noAddress(let pid, let why): "pid \(pid): slirp4netns's DNS address cannot be computed: \(why)"
            case .namespace(let pid, let failure): "pid \(pid): \(failure)"
            }
        }
    }

    /// Asks slirp4netns `process`'s DNS address(es) for `name` from inside its namespace (waiting at
    /// most `timeout` seconds), reads the namespace's resolv.conf and the host resolver, and judges.
    public static func run(_ process: SlirpProcess, name: String = defaultName, timeout: Double = 2,
                           procRoot: String = "/proc") -> Result<DNSReport, Failure> {
        let labels: [[UInt8]]
        switch DNSMessage.labels(of: name) {
        case .success(let l): labels = l
        case .failure(let error): return .failure(.badName(error))
        }
        if process.isZombie { return .failure(.notRunning(pid: process.pid, "the process is defunct")) }
        if !process.configurationSource.isKnown {
            return .failure(.notRunning(pid: process.pid, "its command line is unknown (\(process.configurationSource.unknownReason ?? "not readable"))"))
        }
        let configuration = process.configuration
        let expected = ExpectedAddresses(configuration)
        let dns: String
        switch expected.dns {
        case .success(let address): dns = address.description
        case .failure(let error): return .failure(.noAddress(pid: process.pid, error.description))
        }
        var options = Inventory.Options(purpose: .show)
        options.procRoot = procRoot
        let inventory = Inventory(options: options)
        let path: String, owner: UInt32?, inside: Int32?
        switch inventory.namespaceSource(process) {
        case .process(let pid): (path, owner, inside) = ("\(procRoot)/\(pid)/ns/net", process.joinOwner, pid)
        case .join(let file, let user): (path, owner, inside) = (file, user, nil)
        case .failure(let failure): return .failure(.namespace(pid: process.pid, failure))
        }
        let observed = inventory.readNamespace(process, nameservers: true)
        let rows = AddressCheck.compare(configuration, observed: try? observed.get(),
                                        reason: { if case .failure(let f) = observed { return f.description }; return nil }())
            .filter { $0.role == "dns" || $0.role == "dns6" }
        let host = HostResolver.of(pid: process.pid, uid: process.uid, procRoot: procRoot)
        // fd00::3 is asked for the record; with no IPv6 nameserver behind it slirp4netns drops the
        // query (seen on 1.2.0), so its wait is short: the common case (Podman's enable_ipv6, a
        // host with IPv4 resolvers only) must not cost the whole timeout.
        let wait6 = host.ipv6 == nil && host.problem == nil ? min(timeout, unansweredIPv6Wait) : timeout
        let servers = configuration.disableDNS ? [] : [(dns, timeout)] + (expected.ipv6.map { [($0.dns.description, wait6)] } ?? [])
        var probes: [DNSProbe] = [], route: DNSRoute?
        if !servers.isEmpty {
            switch DNSProbe.ask(servers, name: labels, inNamespace: path, owner: owner, tap: configuration.effectiveTapName) {
            case .success(let answers): (probes, route) = answers
            case .failure(let failure): return .failure(.namespace(pid: process.pid, failure))
            }
        }
        // Only a verdict about the namespace prints how to enter it: a process inside is looked for then.
        let blamesNamespace = route.map { $0.blockedInNamespace || $0.pathUnknown } ?? false
        let enter = blamesNamespace ? ownersEnter(process, inside: inside ?? NamespaceReader.processInside(netnsPath: path, procRoot: procRoot)) : []
        let verdict = judge(pid: process.pid, probes: probes, resolvConf: rows, host: host, dns: dns, name: name,
                            disableDNS: configuration.disableDNS, disableHostLoopback: configuration.disableHostLoopback,
                            route: route, enter: enter, owner: ownerWords(process.uid))
        return .success(DNSReport(pid: process.pid, name: name, namespace: path, probes: probes, resolvConf: rows,
                                  hostResolver: host, namespaceRoute: route, verdict: verdict))
    }

    /// The owner of an instance in words: "root", "user alice (uid 1000)", "uid 1000".
    static func ownerWords(_ uid: UInt32?) -> String {
        guard let uid else { return "its owner" }
        if uid == 0 { return "root" }
        return UserNames.name(of: uid).map { "user \($0) (uid \(uid))" } ?? "uid \(uid)"
    }

    /// The command with which the namespace's owner enters it (for a read-only look), as that owner
    /// names it: through the process inside (`nsenter -t PID -n`, and into its user namespace first
    /// for a user: `-U --preserve-credentials`), or the namespace file of slirp4netns's command line.
    /// Never for root with a path or PID a user chose: a PID is reused and a path a user controls
    /// may name the host's namespace by the time it is run, so only read-only commands follow it.
    static func ownersEnter(_ process: SlirpProcess, inside: Int32?) -> [String] {
        let user = process.uid != 0
        if let inside { return ["nsenter", "-t", String(inside)] + (user ? ["-U", "-n", "--preserve-credentials"] : ["-n"]) }
        let config = process.configuration
        let net = "--net=\(config.netnsPath ?? "NETNS")"
        guard user else { return ["nsenter", net] }
        if let userns = config.usernsPath { return ["nsenter", "--user=\(userns)", net, "--preserve-credentials"] }
        return ["nsenter", "-t", String(process.pid), "-U", net, "--preserve-credentials"]
    }

    /// The verdict when the namespace itself kept the IPv4 query from slirp4netns (`DNSRoute`): the
    /// cause and its fix are the namespace owner's, the host resolver was never asked.
    /// Only read-only commands are printed (`ownersEnter`); what to change is said in words.
    static func namespaceVerdict(_ route: DNSRoute, probe v4: DNSProbe, dns: String, name: String, enter: [String],
                                 owner: String, notes: [String]) -> DNSVerdict {
        let outcome: String
        switch v4.outcome {
        case .refused: outcome = "was refused"
        case .timeout: outcome = "got no answer"
        case .answered: outcome = "got \(v4.code ?? "?")"
        case .error: outcome = "could not be sent (\(v4.error ?? "?"))"
        }
        let cause: String, fix: String
        let get = Shell.command(enter + ["ip", "route", "get", dns])
        if route.blockedByFirewall {
            cause = "a netfilter rule in the namespace refused to send it (EPERM: a DROP or REJECT in its OUTPUT chain)"
            fix = "remove that rule inside the namespace (\(Shell.command(enter + ["iptables", "-S", "OUTPUT"])) or \(Shell.command(enter + ["nft", "list", "ruleset"])) shows it)"
        } else {
            let shows = "\(get) shows the route taken, \(Shell.command(enter + ["ip", "rule"])) the policy rules and \(Shell.command(enter + ["ip", "route", "show", "table", "all"])) every route"
            switch route.kind {
            case .other:
                cause = "the namespace's routing (its route table or a policy rule) sends \(dns) through \(route.interface ?? "?"), not \(route.tap), so slirp4netns never sees it"
                fix = "delete the route or policy rule inside the namespace that sends \(dns) elsewhere (\(shows)); afterwards \(get) must name dev \(route.tap)"
            case .reject:
                cause = "the namespace's routing has an unreachable, prohibit or blackhole route for \(dns)"
                fix = "delete that route inside the namespace (\(shows)); afterwards \(get) must name dev \(route.tap)"
            case .none:
                cause = "the namespace has no route to \(dns)"
                fix = "restore the route through \(route.tap) (slirp4netns --configure sets a default route via its gateway; \(Shell.command(enter + ["ip", "route"])) shows what is left)"
            case .tap, .unknown:
                cause = "nothing left through \(route.tap) when the query was sent\(route.kind == .tap ? ", though the namespace's route names it" : ""): netfilter in the namespace sends it elsewhere (or slirp4netns does not read its tap: stopped?)"
                fix = "look at the namespace's rules: \(Shell.command(enter + ["iptables", "-S"])), \(Shell.command(enter + ["ip", "rule"])), \(get) (must name dev \(route.tap))"
            }
        }
        return DNSVerdict(status: .failure,
                          summary: "\(dns) \(outcome) for \(name), and the query never reached slirp4netns: \(cause). The cause is in the container's network namespace, which its owner (\(owner)) controls; the host's resolver was not asked",
                          fix: "for the namespace's owner (\(owner)), not the host: \(fix)", notes: notes)
    }

    /// The verdict from what was seen (see `HostResolver` for slirp4netns 1.2's rules it applies).
    static func judge(pid: Int32, probes: [DNSProbe], resolvConf rows: [AddressCheck], host: HostResolver, dns: String, name: String,
                      disableDNS: Bool, disableHostLoopback: Bool, route: DNSRoute? = nil, enter: [String] = ["nsenter", "-t", "PID", "-n"],
                      owner: String = "its owner") -> DNSVerdict {
        let reread = "slirp4netns re-reads it within a second, no restart needed"
        // Whose file slirp4netns forwards by: the host's, or one its owner put in its own mount namespace.
        let hostFile: String
        switch host.controlledBy {
        case .instanceOwner?: hostFile = "the resolv.conf slirp4netns reads (\(host.path): a file in its own mount namespace, set up by its owner, \(owner); not the host's /etc/resolv.conf, which it never reads)"
        case .host?: hostFile = "the host's /etc/resolv.conf (the host's administrator's to fix: slirp4netns reads that very file)"
        case nil: hostFile = "/etc/resolv.conf as slirp4netns sees it (\(host.path))"
        }
        if disableDNS {
            return DNSVerdict(status: .failure, summary: "slirp4netns runs with --disable-dns: nothing answers at \(dns), so the container's DNS works only through a nameserver it can reach itself",
                              fix: "start slirp4netns without --disable-dns (Podman never passes it), or give the container a reachable nameserver (podman run --dns ADDRESS)")
        }
        var notes: [String] = []
        func forwardsTo(_ server: String?, family: String) -> String {
            guard let server else { return "its /etc/resolv.conf names no \(family) nameserver" }
            return "slirp4netns forwards to \(server), the first \(family) nameserver of its /etc/resolv.conf (\(host.path))"
        }
        if let first = host.ipv4, HostResolver.isLoopback(first) {
            notes.append("\(first) is a loopback resolver on the host (127.0.0.53: systemd-resolved's stub): slirp4netns 1.2 asks it from the host's side, so it can serve containers"
                         + (disableHostLoopback ? " (--disable-host-loopback blocks 10.0.2.2, not the DNS address)" : ""))
        }
        if let first = host.ipv4, !host.neverAsked(after: first).isEmpty {
            notes.append("slirp4netns asks only \(first): \(host.neverAsked(after: first).joined(separator: ", ")) after it \(host.neverAsked(after: first).count == 1 ? "is" : "are") never asked (glibc on the host would try them)")
        }
        if let problem = host.problem { notes.append("slirp4netns's resolv.conf not read: \(problem)") }
        if host.controlledBy == .instanceOwner {
            notes.append("slirp4netns reads \(host.path), not the host's /etc/resolv.conf (another file: its own mount namespace): its owner, \(owner), controls what it forwards to")
        }
        guard let v4 = probes.first else {
            return DNSVerdict(status: .failure, summary: "nothing was asked", notes: notes)
        }
        // Before the host resolver is blamed: did the query leave the namespace through the tap?
        if !(v4.outcome == .answered), let route, route.blockedInNamespace {
            return namespaceVerdict(route, probe: v4, dns: dns, name: name, enter: enter, owner: owner, notes: notes)
        }
        // The route was not looked up and the tap sent others' packets too: nobody may be blamed.
        if v4.outcome == .timeout, let route, route.pathUnknown {
            return DNSVerdict(status: .failure,
                              summary: "\(dns) did not answer \(name) within \(milliseconds(v4.milliseconds ?? 0)), and whether the query reached slirp4netns is unknown: the namespace's route to \(dns) could not be looked up and \(route.tap) sent other packets meanwhile (\(route.tapPacketsSent ?? 0))",
                              fix: "the namespace's owner (\(owner)) checks that \(Shell.command(enter + ["ip", "route", "get", dns])) names dev \(route.tap); if it does, \(forwardsTo(host.ipv4, family: "IPv4")), which is to be asked on the host",
                              notes: notes)
        }
        let row4 = rows.first { $0.role == "dns" }, row6 = rows.first { $0.role == "dns6" }
        let time = milliseconds(v4.milliseconds ?? 0)
        switch v4.outcome {
        case .answered where v4.resolverAnswers:
            let what = v4.code == "NXDOMAIN" ? "no such name (NXDOMAIN)" : v4.addresses.isEmpty ? "no \(v4.type) record" : v4.addresses.joined(separator: ", ")
            let summary = "DNS works: \(dns) answered \(name) in \(time): \(what); \(forwardsTo(host.ipv4, family: "IPv4"))"
            if let row4, row4.status == .mismatch {
                return DNSVerdict(status: .warning, summary: summary + "; but the namespace's resolv.conf does not name \(dns): \(row4.note ?? "")",
                                  fix: "let the container's /etc/resolv.conf name \(dns) first (Podman writes it for slirp4netns; `podman run --dns` or a file bound over /etc/resolv.conf replaces it)",
                                  notes: notes)
            }
            if let v6 = probes.dropFirst().first, !v6.resolverAnswers, let row6, row6.status == .match {
                let why = host.ipv6 == nil ? "slirp4netns's /etc/resolv.conf names no IPv6 nameserver, so it drops queries to \(v6.server)"
                    : "\(host.ipv6 ?? "") (its first IPv6 nameserver) gave \(v6.outcome.rawValue)"
                return DNSVerdict(status: .warning, summary: summary + "; the namespace's resolv.conf also names \(v6.server), which does not answer: \(why) (a resolver tries it when \(dns) fails, or first if listed first)",
                                  fix: host.ipv6 == nil ? "add an IPv6 nameserver to \(hostFile) (\(reread)), or drop \(v6.server) from the container's resolv.conf" : "make \(host.ipv6 ?? "") answer, or put a working IPv6 nameserver first in \(hostFile) (\(reread))",
                                  notes: notes)
            }
            return DNSVerdict(status: .ok, summary: summary, notes: notes)
        case .answered:
            return DNSVerdict(status: .failure, summary: "\(dns) answered \(v4.code ?? "?") for \(name) in \(time): slirp4netns forwards, and the host resolver \(host.ipv4 ?? "?") cannot resolve the name (its own upstream unreachable?) or refuses it",
                              fix: "ask the host resolver directly on the host (\(Shell.command(["nslookup", name, host.ipv4 ?? "ADDRESS"]))) and repair it there",
                              notes: notes)
        case .refused:
            return DNSVerdict(status: .failure, summary: "\(dns) refused in \(time): \(forwardsTo(host.ipv4, family: "IPv4")), and nothing listens on its port 53 (ICMP port unreachable, relayed by slirp4netns)",
                              fix: "start the resolver at \(host.ipv4 ?? "that address"), or put a reachable nameserver first in \(hostFile) (\(reread))",
                              notes: notes)
        case .timeout:
            if host.problem != nil {
                return DNSVerdict(status: .failure, summary: "\(dns) did not answer \(name) within \(time), and slirp4netns's /etc/resolv.conf could not be read",
                                  fix: "look at \(host.path): slirp4netns forwards to its first IPv4 nameserver", notes: notes)
            }
            guard let first = host.ipv4 else {
                return DNSVerdict(status: .failure, summary: "\(dns) did not answer \(name) within \(time): slirp4netns's /etc/resolv.conf (\(host.path)) names no IPv4 nameserver, so slirp4netns 1.2 drops every query to \(dns) (it has no fallback)",
                                  fix: "add a reachable IPv4 nameserver to \(hostFile) (\(reread))", notes: notes)
            }
            let later = host.neverAsked(after: first)
            // A loopback resolver that is not running gives no refusal: slirp4netns 1.2 relays an
            // ICMP port unreachable from a host address, not from the host's loopback (seen: timeout).
            let loopback = HostResolver.isLoopback(first)
            return DNSVerdict(status: .failure, summary: "\(dns) did not answer \(name) within \(time): \(forwardsTo(first, family: "IPv4")), and it did not answer"
                                + (loopback ? " (a loopback resolver that is not running looks like this: slirp4netns relays no refusal from the host's loopback; systemd-resolved stopped?)" : "")
                                + (later.isEmpty ? "" : "; slirp4netns never tries \(later.joined(separator: ", ")) listed after it"),
                              fix: (loopback ? "start the resolver at \(first) (systemd-resolved's stub: systemctl start systemd-resolved), or" : "make \(first) answer, or")
                                + " put a working nameserver first in \(hostFile) (\(reread))", notes: notes)
        case .error:
            return DNSVerdict(status: .failure, summary: "\(dns) could not be asked from inside the namespace: \(v4.error ?? "?")",
                              fix: "the namespace has no route to \(dns): `slirpmon show pid:\(pid)` compares its addresses and routes with Podman's", notes: notes)
        }
    }

    /// A probe's time as people read it: "0.42 ms", "3.1 ms", "2000 ms".
    public static func milliseconds(_ value: Double) -> String {
        value < 1 ? "\(Double(Int(value * 100)) / 100) ms" : value < 10 ? "\(Double(Int(value * 10)) / 10) ms" : "\(Int(value.rounded())) ms"
    }
}
