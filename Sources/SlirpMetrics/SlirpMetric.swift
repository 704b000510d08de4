/// Every metric slirpmon exports: name, type and help, in one table (the README's "Metrics"
/// table is this one; `MetricNameTests` holds them to each other and to Prometheus's naming rules).
///
/// Rules: names start `slirpmon_`, carry their unit (`_seconds`, `_bytes`) and counters end
/// `_total`. An instance's series carry the bounded labels of `InstanceLabels` (`pid`, `user`,
/// `container`, `pod`, `kind`); nothing per forward unless asked (`forward_info`). A value that
/// could not be read is absent, and `instance_value_unknown{field=...}` says so: never a 0 shown as a fact.
public enum SlirpMetric: String, CaseIterable, Sendable {
    case instanceInfo = "slirpmon_instance_info"
    case instanceDefunct = "slirpmon_instance_defunct"
    case instanceStartTime = "slirpmon_instance_start_time_seconds"
    case instanceCPU = "slirpmon_instance_cpu_seconds_total"
    case instanceResident = "slirpmon_instance_resident_memory_bytes"
    case instanceAPISocket = "slirpmon_instance_api_socket"
    case instanceForwards = "slirpmon_instance_forwards"
    case instanceForwardsUnlisted = "slirpmon_instance_forwards_unlisted"
    case instanceConfiguredPorts = "slirpmon_instance_configured_ports"
    case instanceUnforwardedPorts = "slirpmon_instance_unforwarded_ports"
    case instanceUnpersistedForwards = "slirpmon_instance_unpersisted_forwards"
    case instanceAddressMismatches = "slirpmon_instance_address_mismatches"
    case tapReceiveBytes = "slirpmon_instance_tap_receive_bytes_total"
    case tapTransmitBytes = "slirpmon_instance_tap_transmit_bytes_total"
    case tapReceivePackets = "slirpmon_instance_tap_receive_packets_total"
    case tapTransmitPackets = "slirpmon_instance_tap_transmit_packets_total"
    case instanceValueUnknown = "slirpmon_instance_value_unknown"
    case containerWithoutSlirp = "slirpmon_container_without_slirp4netns"
    case forwardInfo = "slirpmon_forward_info"
    case scrapeErrors = "slirpmon_scrape_errors"
    case scrapeDuration = "slirpmon_scrape_duration_seconds"
    case pageAge = "slirpmon_page_age_seconds"

    public enum Kind: String, Sendable { case gauge, counter }

    public var kind: Kind {
        switch self {
        case .instanceCPU, .tapReceiveBytes, .tapTransmitBytes, .tapReceivePackets, .tapTransmitPackets: .counter
        default: .gauge
        }
    }

    /// The labels beyond an instance's own (`InstanceLabels`), or a container's for `container_without_slirp4netns`.
    public var extraLabels: [String] {
        switch self {
        case .instanceInfo: ["container_id", "port_handler", "cidr", "configuration"]
        case .instanceAPISocket: ["status"]
        case .instanceValueUnknown: ["field"]
        case .forwardInfo: ["id", "proto", "host_addr", "host_port", "guest_addr", "guest_port"]
        case .containerWithoutSlirp: ["container_id", "state"]
        case .scrapeErrors: ["source"]
        default: []
        }
    }

    /// True for the series that carry an instance's labels.
    public var perInstance: Bool { rawValue.hasPrefix("slirpmon_instance_") || self == .forwardInfo }

    public var help: String {
        switch self {
        case .instanceInfo:
            "A running or defunct slirp4netns process, always 1; its labels say what it serves, its port handler, its CIDR and where its configuration comes from (command_line, last_seen for a defunct one, unknown)."
        case .instanceDefunct:
            "1 when the slirp4netns process is defunct (exited, its parent has not reaped it): the network it served is gone; 0 while it runs."
        case .instanceStartTime:
            "When the slirp4netns process started, in seconds since the epoch."
        case .instanceCPU:
            "User plus system CPU time of the slirp4netns process (absent when defunct); rate() near 1 is a whole CPU."
        case .instanceResident:
            "Resident memory of the slirp4netns process (absent when defunct)."
        case .instanceAPISocket:
            "The check of the API socket given on its command line, 1 with status held, missing (no such socket), not-held (another process holds it), ambiguous or unverified; absent when it has none or is defunct."
        case .instanceForwards:
            "Live port forwards, as the instance's API socket lists them (list_hostfwd); absent when not known (value_unknown says so) or when it has no API socket."
        case .instanceForwardsUnlisted:
            "Live forwards without a forward_info series: past the first 256 (lowest ids) of an instance. Only with --per-forward."
        case .instanceConfiguredPorts:
            "Host ports Podman's configuration forwards to the container (each port of a range and each protocol counted); Podman containers only."
        case .instanceUnforwardedPorts:
            "Host ports of Podman's configuration with no live forward: the container is not reachable on them. Podman containers with port_handler=slirp4netns whose forwards are known."
        case .instanceUnpersistedForwards:
            "Live forwards Podman's configuration does not have: lost when the container restarts. Podman containers whose forwards are known."
        case .instanceAddressMismatches:
            "Addresses of the namespace that differ from what the command line configures (guest, gateway, DNS, MTU, IPv6); absent when not read (value_unknown says so)."
        case .tapReceiveBytes:
            "Bytes received on the tap device inside the namespace: traffic slirp4netns brings in from the host side to the container."
        case .tapTransmitBytes:
            "Bytes transmitted on the tap device inside the namespace: traffic of the container going out through slirp4netns."
        case .tapReceivePackets:
            "Packets received on the tap device inside the namespace."
        case .tapTransmitPackets:
            "Packets transmitted on the tap device inside the namespace."
        case .instanceValueUnknown:
            "1 for each value of a running instance that could not be read this time (field: forwards, addresses, tap, configuration); its series is absent rather than a made-up 0."
        case .containerWithoutSlirp:
            "A Podman container in slirp4netns mode with no live slirp4netns, always 1; state running or paused: it has no network; created, configured or initialized: created and never started (its start may have failed, slirp4netns's among the causes, or it was never asked). Stopped and exited containers are not listed."
        case .forwardInfo:
            "One live forward of an instance, always 1 (only with --per-forward; at most 256 per instance, forwards_unlisted counts the rest)."
        case .scrapeErrors:
            "Sources that could not be read this time (source=podman: one per user whose Podman failed)."
        case .scrapeDuration:
            "How long collecting this page took."
        case .pageAge:
            "Seconds since this page was rendered (slirpmon serve only): near 0 for a fresh page; more when a render was slower than the scrape's timeout and the last page was answered instead, while the render goes on."
        }
    }
}
