import SlirpCore
import SlirpMetrics
import SlirpServe
#if canImport(Glibc)
import Glibc
#endif

// `slirpmon serve`, in its own executable so that no other subcommand loads SwiftNIO: `slirpmon
// serve` execs this file from its own directory (see Serve.swift), with its arguments checked.

/// One line on stderr, as every slirpmon command writes its errors (through `TerminalText`).
func say(_ line: String) {
    TerminalOutput.errorLine("slirpmon serve: \(line)")
}

let arguments: ServeArguments
do {
    arguments = try ServeArguments(Array(CommandLine.arguments.dropFirst()))
} catch {
    say(error.description)
    exit(error.exitStatus)
}
if geteuid() == 0 && !arguments.listen.isLoopback {
    say("warning: listening on \(arguments.listen) as root: anyone who reaches this port reads every user's containers, pods and user names; prefer 127.0.0.1 or [::1] behind a reverse proxy, or a firewall rule for your Prometheus")
}
// Blocked before the server's threads start, so that they inherit the mask and this thread alone takes them.
TerminationSignals.block()
// One collector for every page: what holds between pages is kept in memory (`MetricsCollector`).
let collector = MetricsCollector(MetricsOptions(perForward: arguments.perForward), addressMaxAge: MetricsCollector.serverAddressMaxAge)
// Podman's failures, as `slirpmon metrics` says them, but once per failure per 5 minutes: renders come every few seconds.
let failures = FailureLog()
let server: MetricsServer
do {
    server = try MetricsServer(listen: arguments.listen, limits: arguments.limits) {
        let made = try collector.make()
        failures.note(made.podmanFailures)
        return made.text
    }
} catch {
    say(error.description)
    exit(error.exitStatus)
}
say("serving http://\(server.address)/metrics")
let signal = TerminationSignals.wait()
server.stop()
say("stopped (\(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "SIGHUP"))")
exit(0)
