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
            // Blocked before the lab starts a thread: waited for (hold mode) or taken by the monitor,
            // a signal at any moment ends the demo through the tear-down below.
            TerminationSignals.block()

            let lab: SlirpLab
            // Inside each namespace this very binary answers behind the forwards (`demo-server`).
            let me = (try? Files.readLink("/proc/self/exe")) ?? CommandLine.arguments[0]
            do { lab = try DemoFleet.start(server: { name, ports in [me, "demo-server", name] + ports.map(String.init) }) } catch {
                throw CLIError.failed("cannot start the demo: \(error)")
            }
            defer { lab.tearDown() }

            if listOnly {
                var list = try Slirpmon.List.parse([])
                try list.run()
                FileHandleOutput.print(Self.tryCurl(lab))
                return
            }
            let tryLine = Self.tryCurl(lab)
            if hold {
                FileHandleOutput.print("demo running: " + lab.running.map { "\($0.name) pid \($0.pid)" }.joined(separator: ", "))
                FileHandleOutput.print(tryLine)
                FileHandleOutput.print("Ctrl-C (or SIGTERM) stops it and removes everything.")
                // Stopped by a signal, as a script stops it: 128 + the signal, as the monitor (after the tear-down).
                throw ExitCode(128 + TerminationSignals.wait())
            }
            var configuration = monitor.configuration(banner: "demo")
            configuration.greeting = tryLine + " (Esc hides this)"
            let status = runMonitor(configuration)
            if status != 0 { throw ExitCode(status) }
        }

        /// Where the demo's forwards answer: every forward of its instances reaches a server inside.
        static func tryCurl(_ lab: SlirpLab) -> String {
            let forwards = lab.running.flatMap { instance in instance.forwards.map { (instance.name, $0) } }
            guard let (_, first) = forwards.first else { return "the demo has no forwards" }
            let all = forwards.map { name, forward in "\(forward.hostPort.value) -> \(name):\(forward.guestPort.value)" }
            return "try curl 127.0.0.1:\(first.hostPort.value) (every forward answers: " + all.joined(separator: ", ") + ")"
        }
    }
}
