import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon demo-server NAME PORT...`: what `slirpmon demo` runs inside each of its
    /// namespaces (hidden: the demo starts it, an operator does not).
    struct DemoServerCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo-server",
            abstract: "Answer HTTP on PORT... inside a demo namespace, until the demo that started it ends.",
            shouldDisplay: false
        )

        @Argument(help: "The demo instance's name, for the page.")
        var name: String

        @Argument(help: "TCP ports to answer on.")
        var ports: [Int]

        func validate() throws {
            guard !ports.isEmpty, ports.allSatisfy({ (1...65535).contains($0) }) else {
                throw ValidationError("ports must be 1-65535")
            }
        }

        func run() throws {
            let failure = DemoServer.serve(name: name, ports: ports)
            throw CLIError.failed("demo-server \(name): \(failure)")
        }
    }
}
