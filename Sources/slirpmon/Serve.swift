import ArgumentParser
import SlirpCore
import SlirpMetrics
#if canImport(Glibc)
import Glibc
#endif

extension Slirpmon {
    /// `slirpmon serve`: /metrics over HTTP for Prometheus, served by `slirpmon-serve`.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the Prometheus metrics (slirpmon metrics) over HTTP at /metrics, until Ctrl-C or SIGTERM (exit 0).",
            discussion: """
            Each scrape renders a fresh page; scrapes that arrive while one renders share it. A \
            scrape whose page is not rendered within --scrape-timeout (\(ScrapeTimeout.format(ScrapeTimeout.defaultSeconds)) s, \
            below Prometheus's default scrape_timeout of 10 s), or within the scrape's own \
            X-Prometheus-Scrape-Timeout-Seconds less 10 % (at least 0.25 s), gets the last page with its age \
            (slirpmon_page_age_seconds) while the render goes on, or 503 when there is none yet. \
            Podman's failures are logged (the service's journal), each once per 5 minutes. GET and HEAD of \
            /metrics and / only (404 otherwise). A client gets 10 s to send its request and 10 s to \
            read the answer. As root on an address other than loopback, a warning: the page names \
            every user's containers. The server is the program slirpmon-serve installed next to \
            slirpmon (so no other command loads it).
            """)

        @Option(name: .customLong("listen"), help: ArgumentHelp("Address and port to listen on: 127.0.0.1:9184, [::1]:9184, 0.0.0.0:9184 (port 0: a free one, printed at start).", valueName: "addr:port"))
        var listen: String

        @Flag(name: .customLong("per-forward"), help: "Add one series per port forward (more series: off by default).")
        var perForward = false

        @Option(name: .customLong("scrape-timeout"), parsing: .unconditional,
                help: ArgumentHelp("Seconds a scrape waits for a fresh page before it gets the last one (\(ScrapeTimeout.format(ScrapeTimeout.range.lowerBound)) to \(ScrapeTimeout.format(ScrapeTimeout.range.upperBound)); keep it below Prometheus's scrape_timeout).", valueName: "seconds"))
        var scrapeTimeoutArgument = WrittenNumber<Double>(ScrapeTimeout.defaultSeconds)

        func validate() throws {
            guard scrapeTimeoutArgument.isNumber(within: ScrapeTimeout.range.contains) else {
                throw ValidationError(ScrapeTimeout.outOfRange(got: scrapeTimeoutArgument.written))
            }
        }

        func run() throws {
            var arguments = ["--listen", listen, "--scrape-timeout", "\(scrapeTimeoutArgument.value)"]
            if perForward { arguments.append("--per-forward") }
            // The server sits beside this very binary (/proc/self/exe), never found through PATH:
            // as root, PATH may name a directory another user can write.
            guard let exe = try? Files.readLink("/proc/self/exe") else { throw CLIError.failed("cannot read /proc/self/exe to find slirpmon-serve") }
            let server = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)]) + "/slirpmon-serve"
            guard access(server, X_OK) == 0 else {
                throw CLIError.failed("no slirpmon-serve next to \(exe): it is installed with slirpmon (assets/install.sh; swift build builds both)")
            }
            // What ArgumentParser checked is handed over as written; slirpmon-serve checks ADDR:PORT
            // itself (exit 2 with the form), since it can be run on its own.
            let argv = ([server] + arguments).map { strdup($0) } + [nil]
            execv(server, argv)
            throw CLIError.failed("cannot run \(server): \(String(cString: strerror(errno)))")
        }
    }
}
