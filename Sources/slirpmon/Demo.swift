import ArgumentParser
import SlirpCore
import SlirpTUI
#if canImport(Glibc)
import Glibc
#endif

extension Slirpmon {
    /// `slirpmon demo`: real slirp4netns instances in namespaces of its own, and the monitor on them.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Start three real slirp4netns instances in new network namespaces and open the monitor on them.",
            discussion: """
            One plain instance with an API socket and two forwards, one with --cidr=10.99.128.0/17 and IPv6, \
            one without an API socket. Everything is removed on exit, also on Ctrl-C, SIGTERM and SIGHUP. \
            As root the namespaces come from `ip netns`; as a user, from `unshare --user --net`.
            """
        )

        @OptionGroup var monitor: MonitorOptions

        @Flag(name: .customLong("list"), help: "Print `slirpmon list` for the demo instances and exit instead of opening the monitor.")
        var listOnly = false

        @Flag(name: .customLong("hold"), help: "Keep the instances running without the monitor until Ctrl-C/SIGTERM (for scripts).")
        var hold = false

        func run() throws {
            // Signals wait in sigwait (hold mode) or are handled by the monitor; either way we clean up.
            var signals = sigset_t()
            sigemptyset(&signals)
            for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
            if hold || listOnly { pthread_sigmask(SIG_BLOCK, &signals, nil) }

            let lab: SlirpLab
            do { lab = try DemoFleet.start() } catch { throw CLIError.failed("cannot start the demo: \(error)") }
            defer { lab.tearDown() }

            if listOnly {
                var list = try Slirpmon.List.parse([])
                try list.run()
                return
            }
            if hold {
                FileHandleOutput.print("demo running: " + lab.running.map { "\($0.name) pid \($0.pid)" }.joined(separator: ", "))
                FileHandleOutput.print("Ctrl-C (or SIGTERM) stops it and removes everything.")
                var received: Int32 = 0
                sigwait(&signals, &received)
                return
            }
            let status = runMonitor(monitor.configuration(banner: "demo"))
            if status != 0 { throw ExitCode(status) }
        }
    }
}
