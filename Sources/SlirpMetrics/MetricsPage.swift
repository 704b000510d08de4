import Prometheus
import SlirpCore

/// The Prometheus text exposition of every slirp4netns instance and of every Podman container in
/// slirp4netns mode without one (every user's when run as root): `slirpmon metrics`, its
/// `--textfile`, and `slirpmon serve`'s `/metrics`.
///
/// The inventory is `list --json`'s (the same scan, Podman join and `list_hostfwd` answers kept
/// between runs while an instance's log proves them current), plus each namespace's addresses
/// and tap counters (`show`'s reading). The text is swift-prometheus's (`PrometheusCollectorRegistry`):
/// it writes HELP and TYPE lines and escapes label values.
public enum MetricsPage {
    /// A page, and what could not be read for it.
    public struct Made: Sendable {
        /// The exposition text (UTF-8).
        public let text: [UInt8]
        /// One line per user whose Podman could not be asked (`slirpmon_scrape_errors{source="podman"}` counts them).
        public let podmanFailures: [String]
    }

    /// One page, as a command run once makes it: every value read anew, reusing only what `list`
    /// keeps between runs (`InventoryCache.persistentFacts()`, Podman's answer for up to 5 s), and
    /// writing those facts back.
    public static func make(_ options: MetricsOptions) throws(MetricsError) -> Made {
        try MetricsCollector(options).make()
    }

    /// The page for `snapshot`; `proven`: earlier joins for instances Podman was not asked about;
    /// `collectSeconds`: how long collecting it took; `kept`: the instances' parts of the page
    /// before (a server's), updated for this one.
    static func page(_ snapshot: InventorySnapshot, _ options: MetricsOptions, proven: [ProcessIdentity: InventoryCache.ProvenContainer] = [:],
                     collectSeconds: Double, kept: InstanceParts = InstanceParts()) -> [UInt8] {
        var parts: [[UInt8]] = []
        parts.reserveCapacity(snapshot.instances.count + 1)
        for instance in snapshot.instances {
            let labels = InstanceLabels(instance, proven: proven[instance.identity])
            let part = kept.part(instance.identity, labels: labels)
            add(instance, labels, to: part, options: options)
            part.endPage()
            parts.append(part.registry.emitToBuffer())
        }
        kept.endPage()
        let host = ExpositionPart()
        for detached in snapshot.detachedContainers where containerWithoutSlirpStates.contains(detached.container.state) {
            let c = detached.container
            host.gauge(.containerWithoutSlirp, [("container", c.name), ("pod", c.podName ?? ""), ("user", c.ownerName ?? String(c.ownerUID)),
                                                ("container_id", Format.shortID(c.id)), ("state", c.state)], 1)
        }
        if options.podman { host.gauge(.scrapeErrors, [("source", "podman")], Double(snapshot.podmanFailures.count)) }
        host.gauge(.scrapeDuration, [], collectSeconds)
        parts.append(host.registry.emitToBuffer())
        return Exposition.merge(headers: Exposition.headers, parts)
    }

    /// Podman states in which a container without a live slirp4netns is a series: a slirp4netns
    /// should run (`running`, `paused`), or the start did not complete (`created`, `configured`,
    /// `initialized`: Podman 4.3 leaves a container whose slirp4netns failed at startup
    /// `created`, with State.Error empty). A stopped or exited one is not (every exited container
    /// of every user would stay a series forever), nor one in passing (`stopping`, `removing`).
    static let containerWithoutSlirpStates: Set<String> = ["running", "paused", "created", "configured", "initialized"]

    /// An instance's series. A value not read is absent and named by `instance_value_unknown`.
    static func add(_ i: SlirpInstance, _ labels: InstanceLabels, to page: ExpositionPart, options: MetricsOptions) {
        let l = labels.pairs()
        let p = i.process
        let known = p.configurationSource.isKnown
        page.gauge(.instanceInfo, labels.pairs([("container_id", p.containerID.map(Format.shortID) ?? ""), ("port_handler", portHandler(i)),
                                                ("cidr", known ? cidrLabel(i.configuration.effectiveCIDR) : ""), ("configuration", p.configurationSource.word)]), 1)
        page.gauge(.instanceDefunct, l, p.isZombie ? 1 : 0)
        page.gauge(.instanceStartTime, l, p.startTime)
        func unknown(_ field: String) { page.gauge(.instanceValueUnknown, labels.pairs([("field", field)]), 1) }
        if !known { unknown("configuration") }
        if let container = i.container {
            page.gauge(.instanceConfiguredPorts, l, Double(configuredPorts(container)))
            if let forwards = i.forwards {
                page.gauge(.instanceUnpersistedForwards, l, Double(container.unpersisted(forwards).count))
                if container.portHandler == "slirp4netns" { page.gauge(.instanceUnforwardedPorts, l, Double(unforwardedPorts(container, forwards))) }
            }
        }
        guard !p.isZombie else { return } // defunct: no CPU, memory, socket, forwards or namespace any more
        page.counter(.instanceCPU, l, seconds: p.cpuSeconds)
        page.gauge(.instanceResident, l, Double(p.residentBytes))
        // The slirp4netns API socket only: a RootlessKit's slirp4netns socket is RootlessKit's, its ports are not counted there.
        if let forwards = i.forwards {
            page.gauge(.instanceForwards, l, Double(forwards.count))
            if options.perForward {
                // The lowest ids (the oldest forwards): the same ones on every scrape while they live.
                let listed = forwards.count > options.forwardsPerInstance
                    ? Array(forwards.sorted { $0.id < $1.id }.prefix(options.forwardsPerInstance)) : forwards
                page.gauge(.instanceForwardsUnlisted, l, Double(forwards.count - listed.count))
                for f in listed {
                    page.gauge(.forwardInfo, labels.pairs([("id", String(f.id)), ("proto", f.proto.rawValue), ("host_addr", f.hostAddr),
                                                           ("host_port", String(f.hostPort)), ("guest_addr", f.guestAddr),
                                                           ("guest_port", String(f.guestPort))]), 1)
                }
            }
        }
        if i.rootlessKit == nil, i.apiSocket != nil {
            page.gauge(.instanceAPISocket, labels.pairs([("status", (i.socketOwnership?.status ?? .unverified).rawValue)]), 1)
            if i.forwards == nil { unknown("forwards") }
        }
        if known, i.observed != nil {
            page.gauge(.instanceAddressMismatches, l, Double(i.mismatches.count))
        } else {
            unknown("addresses")
        }
        if let tap = i.observed?.counters {
            page.counter(.tapReceiveBytes, l, count: tap.rxBytes)
            page.counter(.tapTransmitBytes, l, count: tap.txBytes)
            page.counter(.tapReceivePackets, l, count: tap.rxPackets)
            page.counter(.tapTransmitPackets, l, count: tap.txPackets)
        } else {
            unknown("tap")
        }
    }

    /// `--cidr` as a label: a network as slirp4netns reads it, else `invalid` (the command line is
    /// the user's: up to 128 KiB of it would otherwise be stored by Prometheus on every scrape).
    static func cidrLabel(_ text: String) -> String {
        IPv4Network(text) != nil ? text : "invalid"
    }

    /// What takes the instance's forwards: its Podman container's port_handler, `rootlesskit`,
    /// `rootlessport`, `slirp4netns` (its own API socket), or empty (none).
    static func portHandler(_ i: SlirpInstance) -> String {
        if let container = i.container { return container.portHandler }
        if i.rootlessKit != nil { return "rootlesskit" }
        if !i.rootlessPorts.isEmpty { return "rootlessport" }
        return i.apiSocket != nil ? "slirp4netns" : ""
    }

    /// Host ports Podman's configuration forwards: each port of a range, once per protocol.
    static func configuredPorts(_ c: PodmanContainer) -> Int {
        c.ports.reduce(0) { $0 + $1.range * max(1, $1.proto.split(separator: ",").count) }
    }

    /// Configured host ports (as `configuredPorts` counts them) no live forward carries.
    static func unforwardedPorts(_ c: PodmanContainer, _ forwards: [HostForward]) -> Int {
        var missing = 0
        for port in c.ports {
            for proto in port.proto.split(separator: ",") {
                for offset in 0..<port.range {
                    let carried = forwards.contains { f in
                        f.proto.rawValue == proto && f.hostPort == port.hostPort + offset && port.covers(f)
                    }
                    if !carried { missing += 1 }
                }
            }
        }
        return missing
    }
}
