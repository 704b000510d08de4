import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon ports`: every host port held by slirp4netns, rootlessport and RootlessKit, with
    /// its container, pod and user, and the holders whose container is no longer running.
    struct Ports: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ports",
            abstract: "List the host ports held by slirp4netns, rootlessport and RootlessKit, and flag holders whose container is not running.",
            discussion: """
            A holder is stale when its container stopped, exited, never started or is gone \
            (removed from Podman) while it still holds the port: a new container then fails with \
            "address already in use". Each stale holder is printed with the PID to stop. \
            Nothing is sent to any instance (no API request). Exit status 0 also when stale \
            holders are found.
            """)

        @Flag(name: .long, help: "Print JSON (shapes documented in the README).")
        var json = false

        @Flag(name: .customLong("no-podman"), help: "Do not ask Podman (containers are then not named, and none is called stopped or gone).")
        var noPodman = false

        func run() throws {
            var options = Inventory.Options(purpose: .scriptedList(forwards: false, cache: InventoryCache.persistentFacts()))
            options.readAddresses = false
            options.readLogs = false
            options.podman = noPodman ? nil : PodmanCatalog(persistent: true)
            let snapshot: InventorySnapshot
            do { snapshot = try Inventory(options: options).snapshot() } catch { throw CLIError.failed("cannot scan /proc: \(error)") }
            for failure in snapshot.podmanFailures { FileHandleOutput.error("slirpmon: \(failure)") }
            let holders = PortHolders.find(in: snapshot)
            if json { return try FileHandleOutput.json(holders) }
            guard !holders.isEmpty else {
                return FileHandleOutput.print("No host port is held by slirp4netns, rootlessport or RootlessKit.")
            }
            var table = TextTable(header: ["PROTO", "HOST", "PROGRAM", "PID", "USER", "CONTAINER", "POD", "STATE"])
            for h in holders {
                table.rows.append([h.proto, h.hostAddress, h.program.rawValue, String(h.pid), h.user ?? "?",
                                   h.containerName ?? h.containerID.map { Format.shortID($0) } ?? "-", h.container?.podName ?? "-",
                                   h.isStale ? "STALE (\(h.containerState ?? "?"))" : h.containerState ?? "-"])
            }
            FileHandleOutput.print(table.rendered)
            let stale = holders.filter(\.isStale)
            if !stale.isEmpty {
                FileHandleOutput.print("\n" + stale.map { ("stale: " + $0.sentence).terminalSafe }.joined(separator: "\n"))
            }
        }
    }
}
