import ArgumentParser
import SlirpCore

extension Slirpmon.Fwd {
    /// `slirpmon fwd probe TARGET ID|HOSTPORT`: does the forward work, and if not, why.
    struct ProbeForwards: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "Probe a forward: its host side, the listener in the container, a round trip; one verdict with the fix.",
            discussion: """
            FORWARD is the forward's id (`fwd list`) or its host port; id:N or port:N name one kind \
            only. Works for slirp4netns API forwards, the -p ports Podman's rootlessport carries \
            (port_handler=rootlesskit) and RootlessKit's ports. The probe connects to the host side \
            (TCP; nothing is sent, no datagram for UDP), reads the sockets of the container's network \
            namespace through a process inside it, and says which holds: works, nothing_listens, \
            other_process, guest_not_container, udp_replies_dropped, host_port_closed, no_round_trip, \
            no_forward, host_elsewhere. Exit status 0 when every forward probed works, 1 otherwise.
            """ + "\n\n" + TargetHelp.rules
        )

        @Argument(help: TargetHelp.argument) var target: String
        @Argument(help: "The forward's id or host port (id:N, port:N).") var forward: String
        @OptionGroup var common: CommonOptions

        func run() throws {
            let wanted = try Self.selector(forward)
            let instance = try Targets.instance(target, common: common)
            guard !instance.process.isZombie else { throw CLIError.failed("pid \(instance.pid) is defunct: it forwards nothing any more") }
            let site = ProbeSite(instance)
            // Its host side, and its API socket, are in that namespace: nothing here is its (`host_elsewhere`).
            if let elsewhere = ForwardProbe.elsewhere(site) {
                throw CLIError.failed("pid \(instance.pid): its host side is in another network namespace (\(elsewhere)) than slirpmon's: its forwards are not probed from here (`nsenter -t \(instance.pid) -n` and a client there)")
            }
            var forwards = ProbeForward.all(of: instance)
            if let kit = instance.rootlessKit {
                let session = try RootlessKitTarget(process: instance.process, kit: kit).session(timeout: common.timeout, unverified: false)
                do throws(RootlessKitAPIError) {
                    forwards = try session.api.ports().compactMap { ProbeForward($0, portDriver: kit.portDriver) }
                } catch { throw CLIError.failed(RootlessKitFwd.explained(error, target: target)) }
            } else if instance.apiSocket != nil, instance.forwards == nil, instance.container?.portHandler ?? "slirp4netns" == "slirp4netns" {
                throw CLIError.failed("pid \(instance.pid): its forwards could not be listed: \(instance.forwardsError ?? instance.forwardBlocker ?? "?")")
            }
            let chosen = try Self.pick(wanted, among: forwards)
            let reports: [ProbeReport]
            if chosen.isEmpty, let port = wanted.hostPort {
                // No forward has it: who holds that host port, if anyone (a number that is no id is read as one).
                reports = [ForwardProbe.unforwarded(port: port, proto: .tcp, site: site, known: forwards)]
            } else if chosen.isEmpty {
                let ids = forwards.compactMap(\.id)
                throw CLIError.failed("\(Shell.command([target])) has no forward \(wanted.text)\(ids.isEmpty ? "" : "; its ids: \(Format.idRanges(ids))") (`\(Shell.command(["slirpmon", "fwd", "list", target]))`)")
            } else {
                reports = chosen.map { ForwardProbe.run($0, site: site, timeout: min(common.timeout, 2)) }
            }
            if common.json {
                try FileHandleOutput.json(reports)
            } else {
                // Each line one line whatever a user's process name holds (`terminalSafe`).
                let text = reports.map { $0.lines.map { $0.replacingOccurrences(of: "TARGET", with: Shell.command([target])).terminalSafe }.joined(separator: "\n") }
                FileHandleOutput.print(text.joined(separator: "\n\n"))
            }
            if reports.contains(where: { $0.verdict != .works }) { throw ExitCode(1) }
        }

        /// What FORWARD names.
        struct Selector {
            enum Kind { case either(Int), id(Int), hostPort(Int) }
            let kind: Kind
            let text: String
            /// The host port it may name.
            var hostPort: Int? {
                switch kind {
                case .either(let n), .hostPort(let n): n
                case .id: nil
                }
            }
        }

        static func selector(_ text: String) throws -> Selector {
            func number(_ digits: Substring) -> Int? { Int(digits).flatMap { (1...65535).contains($0) ? $0 : nil } }
            if text.hasPrefix("id:"), let n = Int(text.dropFirst(3)), n >= 1 { return Selector(kind: .id(n), text: "id \(n)") }
            if text.hasPrefix("port:"), let n = number(text.dropFirst(5)) { return Selector(kind: .hostPort(n), text: "on host port \(n)") }
            if let n = number(Substring(text)) { return Selector(kind: .either(n), text: "with id or host port \(n)") }
            throw CLIError.usage("\(text.abbreviatedQuote) is not a forward id or a host port (1-65535); id:N and port:N name one kind only")
        }

        /// The forwards FORWARD names: by id, by host port, or a number that is one of them only.
        static func pick(_ selector: Selector, among forwards: [ProbeForward]) throws -> [ProbeForward] {
            switch selector.kind {
            case .id(let n): return forwards.filter { $0.id == n }
            case .hostPort(let n): return forwards.filter { $0.hostPort == n }
            case .either(let n):
                let byID = forwards.filter { $0.id == n }, byPort = forwards.filter { $0.hostPort == n }
                if !byID.isEmpty && !byPort.isEmpty && byID != byPort {
                    throw CLIError.usage("\(n) is both forward id \(n) (\(byID[0].summary)) and the host port of \(byPort[0].summary): give id:\(n) or port:\(n)")
                }
                return byID.isEmpty ? byPort : byID
            }
        }
    }
}
