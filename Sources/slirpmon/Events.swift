import ArgumentParser
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

extension Slirpmon {
    /// `slirpmon events`: what changed among the instances, and when; `--follow` keeps watching.
    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "events",
            abstract: "Print what changed, and when: instances started, died or defunct, containers that lost their slirp4netns, forwards added or removed.",
            discussion: """
            Without --follow: the state now, as events marked seen (each instance's start at its \
            process's own start time; those defunct, the forwards present and the containers running \
            without a slirp4netns as of now: when they happened is not known). With --follow: the \
            same, then each change as it is noticed (every --interval seconds), until Ctrl-C, \
            SIGTERM or SIGHUP (exit 0). The shape of --json (a JSON object a line) is in the README.
            """)

        @OptionGroup var common: CommonOptions

        @Flag(name: .shortAndLong, help: "Keep watching and print each change as it is noticed, until Ctrl-C/SIGTERM.")
        var follow = false

        @Option(name: .customLong("interval"), parsing: .unconditional,
                help: ArgumentHelp("Seconds between two looks with --follow (a change is noticed at most this late).", valueName: "seconds"))
        var intervalArgument = WrittenNumber<Double>(1)
        var interval: Double { intervalArgument.value }

        func validate() throws {
            guard intervalArgument.isNumber(within: { $0 >= 0.1 && $0 <= 3600 }) else {
                throw ValidationError("--interval must be from 0.1 to 3600 seconds, got \(intervalArgument.written)")
            }
        }

        func run() throws {
            // Blocked before any thread starts: a signal waits, pending, until the loop sleeps
            // (`wait(upTo:)`), so it never cuts a line in two.
            if follow { TerminationSignals.block() }
            // A reader that goes away (`| grep -m1 died`, `| head`) ends the run with status 0 at the
            // next line (EPIPE, `FileHandleOutput.jsonLine`), not with SIGPIPE's 141.
            signal(SIGPIPE, SIG_IGN)
            // The monitor's way of looking (`Inventory.Purpose.monitor`): each instance's forwards asked
            // when first seen, then again only when its log shows a request since (another client's
            // add or remove); contacted at every look, so a change is noticed within one interval.
            var options = Inventory.Options(purpose: .monitor(cache: InventoryCache(addressMaxAge: InventoryCache.monitorAddressMaxAge),
                                                              selected: nil))
            options.apiTimeout = common.timeout
            options.readAddresses = false
            options.readLogs = false
            options.podman = PodmanCatalog(maxAge: 60)
            let inventory = Inventory(options: options)
            var previous = try look(inventory)
            for failure in previous.failures { FileHandleOutput.error("slirpmon: \(failure)") }
            try write(previous.facts.seen)
            guard follow else { return }
            while TerminationSignals.wait(upTo: interval) == nil {
                let next = try look(inventory)
                try write(next.facts.events(since: previous.facts))
                previous = next
            }
        }

        /// One snapshot's facts, and the Podmans that could not be asked.
        private func look(_ inventory: Inventory) throws -> (facts: EventSnapshot, failures: [String]) {
            do {
                let snapshot = try inventory.snapshot()
                return (EventSnapshot(snapshot, at: InventoryCache.wallNow()), snapshot.podmanFailures)
            } catch {
                throw CLIError.failed("cannot scan /proc: \(error)")
            }
        }

        private func write(_ events: [InventoryEvent]) throws {
            for event in events {
                if common.json { try FileHandleOutput.jsonLine(event) } else { FileHandleOutput.streamLine(Self.line(event)) }
            }
        }

        /// `06:01:02  died             web1  pid 1234  slirp4netns exited`
        static func line(_ event: InventoryEvent) -> String {
            let pid = event.process.map { "pid \($0.pid)" } ?? "no pid"
            let note = event.seen && event.timing == .noticed ? " (so at the first look; since when is not known)" : ""
            return "\(Format.wallTime(at: event.time))  \(event.kind.word.padding(toLength: 16, withPad: " ", startingAt: 0))  \(event.name)  \(pid)  \(event.message)\(note)"
        }
    }
}
