import ArgumentParser
import SlirpCore
import SlirpMetrics

extension Slirpmon {
    /// `slirpmon metrics`: the Prometheus text exposition of every instance, on stdout or as node_exporter's textfile.
    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "metrics",
            abstract: "Print Prometheus metrics of every slirp4netns instance and of containers without their slirp4netns.",
            discussion: """
            The text exposition format (the metric names are in the README's Metrics section). Run as root, \
            every user's instances and Podman containers. With --textfile DIR, the page replaces \
            DIR/slirpmon.prom at once (written aside, synced, renamed) for node_exporter's textfile \
            collector; as root, DIR must be writable by root only (Debian's is /var/lib/prometheus/node-exporter). \
            assets/slirpmon-metrics.timer runs this every minute.
            """)

        @Flag(name: .customLong("per-forward"), help: "Add one slirpmon_forward_info series per live forward (its ports as labels).")
        var perForward = false

        @Option(name: .customLong("textfile"), help: ArgumentHelp("Write DIR/slirpmon.prom atomically instead of printing.", valueName: "dir"))
        var textfile: String?

        func run() throws {
            do throws(MetricsError) {
                // A directory that would be refused is refused before the instances are asked anything.
                if let textfile { try Textfile.check(textfile) }
                let made = try MetricsPage.make(MetricsOptions(perForward: perForward))
                // As `list` says them (with --textfile, in the service's journal); the page counts them.
                for failure in made.podmanFailures { FileHandleOutput.error("slirpmon: \(failure)") }
                let page = made.text
                if let textfile {
                    try Textfile.write(page, into: textfile)
                } else if let exact = FileHandleOutput.ExactOutput.whenNotATerminal() {
                    // Exactly as made: the format escapes what it must, and a reader parses these bytes.
                    exact.write(page)
                } else {
                    FileHandleOutput.print(String(decoding: page, as: UTF8.self))
                }
            } catch {
                throw CLIError.failed(error.description)
            }
        }
    }
}
