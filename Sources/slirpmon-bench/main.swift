import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

// slirpmon-bench: slirpmon beside its baselines at N real slirp4netns instances.
// `swift run -c release slirpmon-bench [--sizes 1,100,500] [--runs 10] ...` (root; see --help).

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "raw-add" {
    guard arguments.count == 4, let first = Int(arguments[2]), let count = Int(arguments[3]) else {
        TerminalOutput.errorLine("usage: slirpmon-bench raw-add SOCKET FIRST_PORT COUNT")
        exit(2)
    }
    exit(RawClient.addForwards(socket: arguments[1], firstPort: first, count: count))
}

if arguments.first == "list-script" {
    // The shell baseline of `list` for the instances in DIRECTORY (what the benchmark runs).
    guard arguments.count == 2 else {
        TerminalOutput.errorLine("usage: slirpmon-bench list-script DIRECTORY")
        exit(2)
    }
    TerminalOutput.block(Bench.listScript(directory: arguments[1]), to: 1)
    exit(0)
}

if arguments.first == "profile-refresh" {
    // For `valgrind --tool=callgrind --toggle-collect=*profileRefresh*`: N instances, K refreshes
    // (SECONDS apart, as the monitor's: 0 by default).
    guard arguments.count == 3 || arguments.count == 4, let n = Int(arguments[1]), let k = Int(arguments[2]),
          let spacing = arguments.count == 4 ? Double(arguments[3]) : 0 else {
        TerminalOutput.errorLine("usage: slirpmon-bench profile-refresh N K [SECONDS]")
        exit(2)
    }
    exit(ProfileRefresh.run(instances: n, refreshes: k, spacing: spacing))
}

let options: BenchOptions
do { options = try BenchOptions.parse(arguments) } catch {
    TerminalOutput.errorLine("slirpmon-bench: \(error)")
    TerminalOutput.block("\n" + BenchOptions.usage, to: 2)
    exit(2)
}
if options.help {
    TerminalOutput.block(BenchOptions.usage, to: 1)
    exit(0)
}

// Ctrl-C, SIGTERM, SIGHUP: a dedicated thread waits for them and removes everything we started.
TerminationSignals.handle { received in
    TerminalOutput.block("\nslirpmon-bench: signal \(received): cleaning up", to: 2)
    Cleanup.shared.runAll()
    _exit(128 + received)
}

let bench: Bench
do { bench = try Bench(options) } catch {
    TerminalOutput.errorLine("slirpmon-bench: \(error)")
    Cleanup.shared.runAll()
    exit(1)
}
do {
    try bench.run()
    Cleanup.shared.runAll()
} catch {
    TerminalOutput.errorLine("slirpmon-bench: \(error)")
    Cleanup.shared.runAll()
    exit(1)
}
