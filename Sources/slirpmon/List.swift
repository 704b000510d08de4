import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon list`: every slirp4netns instance, one line each, and Podman containers that should have one.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List slirp4netns instances (with their Podman containers and pods) and containers whose slirp4netns is not running.")

        @OptionGroup var common: CommonOptions

        @Flag(name: .customLong("no-forwards"), help: "Do not ask API sockets for their forwards (nothing is written to the instances' logs).")
        var noForwards = false

        @Flag(name: .customLong("no-podman"), help: "Do not ask Podman for container names and failed containers.")
        var noPodman = false

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

        func run() throws {
            var options = common.inventory(listForwards: !noForwards, readAddresses: false).options
            options.podman = noPodman ? nil : PodmanCatalog(persistent: true)
            let snapshot: InventorySnapshot
            do { snapshot = try Inventory(options: options).snapshot() } catch { throw CLIError.failed("cannot scan /proc: \(error)") }
            for failure in snapshot.podmanFailures { FileHandleOutput.error("slirpmon: \(failure)") }
            if common.json {
                let rows = snapshot.instances.map { Row.instance(InstanceReport($0, detailed: false)) }
                    + snapshot.detachedContainers.map { Row.detached(DetachedReport($0)) }
                try FileHandleOutput.json(rows)
                return
            }
            if snapshot.instances.isEmpty && snapshot.detachedContainers.isEmpty {
                FileHandleOutput.print("No slirp4netns instance is running. `slirpmon demo` starts a few to look at.")
                return
            }
            if !snapshot.instances.isEmpty {
                var table = TextTable(header: ["PID", "NAME", "USER", "STATE", "UPTIME", "CIDR", "GUEST", "GATEWAY", "DNS", "IPV6", "MTU", "API", "FWD"])
                for i in snapshot.instances {
                    let r = InstanceReport(i, detailed: false)
                    table.rows.append([
                        String(r.pid), i.displayName, r.user ?? r.uid.map(String.init) ?? "?",
                        r.zombie ? "defunct" : r.state, Format.duration(r.uptimeSeconds), r.cidr,
                        r.guest ?? "error", r.gateway ?? "error", r.dns ?? "error", r.ipv6 ? "yes" : "no", String(r.mtu),
                        r.apiSocket == nil ? (i.rootlessPorts.isEmpty ? "-" : "rootlessport") : (r.apiSocketStatus ?? "?"),
                        r.forwardCount.map(String.init) ?? (r.apiSocket == nil ? "-" : "?"),
                    ])
                }
                FileHandleOutput.print(table.rendered)
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
}
