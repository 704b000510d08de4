import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon list`: every slirp4netns instance, one line each.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List slirp4netns instances with their addresses, API socket and forward count.")

        @OptionGroup var common: CommonOptions

        @Flag(name: .customLong("no-forwards"), help: "Do not ask API sockets for their forwards (nothing is written to the instances' logs).")
        var noForwards = false

        func run() throws {
            let instances: [SlirpInstance]
            do { instances = try common.inventory(listForwards: !noForwards, readAddresses: false).collect() }
            catch { throw CLIError.failed("cannot scan /proc: \(error)") }
            if common.json {
                try FileHandleOutput.json(instances.map { InstanceReport($0, detailed: false) })
                return
            }
            guard !instances.isEmpty else {
                FileHandleOutput.print("No slirp4netns instance is running. `slirpmon demo` starts a few to look at.")
                return
            }
            var table = TextTable(header: ["PID", "CONTAINER", "USER", "STATE", "UPTIME", "CIDR", "GUEST", "GATEWAY", "DNS", "IPV6", "MTU", "API", "FWD"])
            for i in instances {
                let r = InstanceReport(i, detailed: false)
                table.rows.append([
                    String(r.pid), Format.shortID(r.containerID), r.user ?? r.uid.map(String.init) ?? "?",
                    r.zombie ? "defunct" : r.state, Format.duration(r.uptimeSeconds), r.cidr,
                    r.guest ?? "error", r.gateway ?? "error", r.dns ?? "error", r.ipv6 ? "yes" : "no", String(r.mtu),
                    r.apiSocket == nil ? "-" : (r.apiSocketStatus ?? "?"),
                    r.forwardCount.map(String.init) ?? (r.apiSocket == nil ? "-" : "?"),
                ])
            }
            FileHandleOutput.print(table.rendered)
        }
    }
}
