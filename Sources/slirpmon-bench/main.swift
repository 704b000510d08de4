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
        FileHandle.standardError.write(Data("usage: slirpmon-bench raw-add SOCKET FIRST_PORT COUNT\n".utf8))
        exit(2)
    }
    exit(RawClient.addForwards(socket: arguments[1], firstPort: first, count: count))
}

if arguments.first == "profile-refresh" {
    // For `valgrind --tool=callgrind --toggle-collect=*profileRefresh*`: N instances, K refreshes
    // (SECONDS apart, as the monitor's: 0 by default).
    guard arguments.count == 3 || arguments.count == 4, let n = Int(arguments[1]), let k = Int(arguments[2]),
          let spacing = arguments.count == 4 ? Double(arguments[3]) : 0 else {
        FileHandle.standardError.write(Data("usage: slirpmon-bench profile-refresh N K [SECONDS]\n".utf8))
        exit(2)
    }
    exit(ProfileRefresh.run(instances: n, refreshes: k, spacing: spacing))
}

let options: BenchOptions
do { options = try BenchOptions.parse(arguments) } catch {
    FileHandle.standardError.write(Data("slirpmon-bench: \(error)\n\n\(BenchOptions.usage)\n".utf8))
    exit(2)
}
if options.help {
    print(BenchOptions.usage)
    exit(0)
}

// Ctrl-C, SIGTERM, SIGHUP: a dedicated thread waits for them and removes everything we started.
var termination = sigset_t()
sigemptyset(&termination)
for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&termination, s) }
pthread_sigmask(SIG_BLOCK, &termination, nil)
let signalWaiter = Thread {
    var set = sigset_t()
    sigemptyset(&set)
    for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
    var received: Int32 = 0
    sigwait(&set, &received)
    FileHandle.standardError.write(Data("\nslirpmon-bench: signal \(received): cleaning up\n".utf8))
    Cleanup.shared.runAll()
    _exit(128 + received)
}
signalWaiter.start()

let bench: Bench
do { bench = try Bench(options) } catch {
    FileHandle.standardError.write(Data("slirpmon-bench: \(error)\n".utf8))
    Cleanup.shared.runAll()
    exit(1)
}
do {
    try bench.run()
    Cleanup.shared.runAll()
} catch {
    FileHandle.standardError.write(Data("slirpmon-bench: \(error)\n".utf8))
    Cleanup.shared.runAll()
    exit(1)
}
