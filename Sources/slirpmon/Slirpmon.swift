import ArgumentParser
import Foundation
import SlirpCore
import SlirpTUI
#if canImport(Glibc)
import Glibc
#endif

/// `slirpmon`: the ncurses monitor, and the scriptable subcommands.
@main
struct Slirpmon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slirpmon",
        abstract: "Monitor slirp4netns instances: addresses, the unlinked log, live port forwards.",
        discussion: """
        Without a subcommand, opens the full-screen monitor. Every view has a scriptable \
        form below; add --json for machine-readable output.
        TARGET (show, log, fwd, dns) is a PID, a container name, ID or unique ID prefix, or a pod name; \
        pid:N, name:NAME, id:PREFIX, pod:NAME name one kind only; a TARGET that matches more than \
        one is refused (`slirpmon help show`).
        """,
        version: SlirpmonVersion.current,
        subcommands: [List.self, Show.self, Log.self, Fwd.self, Ports.self, Addr.self, Doctor.self, DNS.self, Events.self, Metrics.self, Serve.self, Demo.self, DemoServerCommand.self]
    )

    @OptionGroup var monitor: MonitorOptions

    func run() throws {
        let status = runMonitor(monitor.configuration())
        if status != 0 { throw ExitCode(status) }
    }

    /// Runs the command; errors become one line on stderr and exit 1 (failed operation) or 2 (usage).
    static func main() {
        do {
            // `list` and `fwd list` as scripts run them, without ArgumentParser's reflection (see ListRequest(quick:)).
            if let list = ListRequest(quick: CommandLine.arguments.dropFirst()) {
                try list.run()
                return
            }
            if let list = FwdListRequest(quick: CommandLine.arguments.dropFirst()) {
                try list.run()
                return
            }
            if let conflict = RepeatedOption.conflict(in: CommandLine.arguments.dropFirst()) { throw CLIError.usage(conflict) }
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CLIError {
            FileHandleOutput.error("slirpmon: \(error.message)")
            Glibc.exit(error.status)
        } catch {
            let code = exitCode(for: error)
            if code.rawValue == 64 { // ArgumentParser's EX_USAGE: ours is 2, and one line
                let message = (Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage")
                    .replacingOccurrences(of: "Error: ", with: "")
                let explained = DashedValue.explainMissingTarget(message, arguments: CommandLine.arguments.dropFirst()) ?? message
                FileHandleOutput.error("slirpmon: \(explained) (see `slirpmon help`)")
                Glibc.exit(2)
            }
            // ArgumentParser's own message (help, a validation error), through the one output path.
            let message = fullMessage(for: error)
            if code.isSuccess {
                if !message.isEmpty { FileHandleOutput.print(message) }
            } else if !message.isEmpty {
                FileHandleOutput.errorBlock(message)
            }
            Glibc.exit(code.rawValue)
        }
    }
}

/// Options of the monitor, shared by `slirpmon` and `slirpmon demo`.
struct MonitorOptions: ParsableArguments {
    @Option(name: [.customShort("d"), .customLong("delay")], parsing: .unconditional,
            help: ArgumentHelp("Seconds between refreshes (like htop's -d, but in seconds).", valueName: "delay"))
    var delayArgument = WrittenNumber<Double>(1)
    var delay: Double { delayArgument.value }

    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    @Flag(name: .customLong("readonly"), help: "Hide every action that changes state (adding and removing forwards).")
    var readOnly = false

    func validate() throws {
        guard delayArgument.isNumber(within: { $0 >= 0.1 && $0 <= 3600 }) else { throw ValidationError("--delay must be from 0.1 to 3600 seconds, got \(delayArgument.written)") }
    }

    func configuration(banner: String? = nil) -> MonitorConfiguration {
        var config = MonitorConfiguration()
        config.delay = delay
        config.useColor = !noColor && getenv("NO_COLOR") == nil
        config.readOnly = readOnly
        config.banner = banner
        return config
    }
}

/// Options shared by commands that talk to instances.
struct CommonOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (shapes documented in the README).")
    var json = false

    @Option(name: .customLong("timeout"), parsing: .unconditional,
            help: ArgumentHelp("Seconds to wait for an API socket to connect and answer.", valueName: "timeout"))
    var timeoutArgument = WrittenNumber<Double>(CommonOptions.defaultTimeout)
    var timeout: Double { timeoutArgument.value }

    static let defaultTimeout = 2.0
    static func isValidTimeout(_ seconds: Double) -> Bool { seconds > 0 && seconds <= 600 }
    /// The range error of every `--timeout`, with the value as written.
    static func timeoutRange(got text: String) -> String { "--timeout must be more than 0 and at most 600 seconds, got \(text)" }

    func validate() throws {
        guard timeoutArgument.isNumber(within: Self.isValidTimeout) else { throw ValidationError(Self.timeoutRange(got: timeoutArgument.written)) }
    }
}

/// A failure to report as one line, with the exit status to use.
struct CLIError: Error {
    let message: String
    let status: Int32

    static func failed(_ message: String) -> CLIError { CLIError(message: message, status: 1) }
    static func usage(_ message: String) -> CLIError { CLIError(message: message, status: 2) }
    /// A request sent whole but not answered: it may still be carried out (exit 3).
    static func unknownOutcome(_ message: String) -> CLIError { CLIError(message: message, status: 3) }
}
