import ArgumentParser
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

extension Slirpmon {
    /// `slirpmon fwd list|add|rm`: port forwards through the API socket.
    struct Fwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fwd",
            abstract: "List, add and remove port forwards of a running instance through its API socket.",
            subcommands: [ListForwards.self, AddForwards.self, RemoveForwards.self]
        )
    }
}

extension Slirpmon.Fwd {
    struct ListForwards: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the forwards (list_hostfwd).")

        @Argument(help: "PID, container ID or unique ID prefix.") var target: String
        @Flag(help: "Send even when the API socket's owner cannot be proven (another user's instance whose file descriptors are not readable); SO_PEERCRED still checks the listener's PID.")
        var unverified = false
        @OptionGroup var common: CommonOptions

        func run() throws {
            let (_, client) = try Targets.client(target, common: common, unverified: unverified)
            let forwards: [HostForward]
            do { forwards = try client.list() } catch { throw CLIError.failed(error.description) }
            if common.json { return try FileHandleOutput.json(forwards) }
            guard !forwards.isEmpty else { return FileHandleOutput.print("No forwards (only forwards added through the API socket are listed).") }
            var table = TextTable(header: ["ID", "PROTO", "HOST", "GUEST"])
            for f in forwards { table.rows.append([String(f.id), f.proto.rawValue, "\(f.hostAddr):\(f.hostPort)", "\(f.guestAddr):\(f.guestPort)"]) }
            FileHandleOutput.print(table.rendered)
        }
    }

    struct AddForwards: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add forwards (add_hostfwd), in Podman's -p syntax.",
            discussion: """
            MAPPING is [HOSTIP:]HOSTPORT[-END]:CONTAINERPORT[-END][/tcp|/udp|/tcp,udp]; a range adds \
            one forward per port. HOSTIP defaults to 0.0.0.0. Every mapping is validated before \
            anything is sent; on a failure, the forwards already added stay and are listed.
            """
        )

        @Argument(help: "PID, container ID or unique ID prefix.") var target: String
        @Argument(help: "One or more mappings, e.g. 127.0.0.1:8080:80 or 30000-30009:30000-30009/udp.") var mappings: [String]
        @Option(name: .customLong("guest-addr"), help: "The guest address to forward to (IPv4; default: slirp4netns's guest address).")
        var guestAddr: String?
        @Flag(help: "Send even when the API socket's owner cannot be proven (another user's instance whose file descriptors are not readable); SO_PEERCRED still checks the listener's PID.")
        var unverified = false
        @OptionGroup var common: CommonOptions

        func run() throws {
            guard !mappings.isEmpty else { throw CLIError.usage("give at least one MAPPING, e.g. 8080:80") }
            var guest: IPv4Address?
            if let guestAddr {
                guard let address = IPv4Address(guestAddr) else {
                    throw CLIError.usage("--guest-addr \(guestAddr.abbreviatedQuote) is not an IPv4 address (the slirp4netns API takes IPv4 only)")
                }
                guest = address
            }
            var requests: [ForwardRequest] = []
            for text in mappings {
                do { requests += try PortMapping.parse(text).requests(guestAddr: guest) } catch { throw CLIError.usage(error.description) }
            }
            let (endpoint, client) = try Targets.client(target, common: common, unverified: unverified)
            let showProgress = requests.count > 1 && isatty(2) != 0 && !common.json
            let outcome = ForwardSession(client: client, pid: endpoint.process.pid).add(requests) { n in
                if showProgress && (n % 25 == 0 || n == requests.count - 1) {
                    FileHandleOutput.progress("added \(n + 1)/\(requests.count)")
                }
            }
            if showProgress { FileHandleOutput.error("") }
            let added = outcome.added.map { ($0.request, $0.id) }
            if let (request, failure) = outcome.failure {
                var message = "adding \(request.summary) failed: \(failure.explanation)"
                if !added.isEmpty { message += ". Added before the failure: ids \(Format.idRanges(added.map(\.1)))" }
                throw CLIError.failed(message)
            }
            if let note = ForwardCaveat.loopbackUDPReplies(added.map(\.0), configuration: endpoint.process.configuration) {
                FileHandleOutput.error("slirpmon: \(note)")
            }
            // Root on a rootless user's instance: what keeps the forward is that user's Podman, not root's.
            if !added.isEmpty, let acting = Acting(owner: endpoint.process.uid, ownerName: endpoint.process.user) {
                let keep = endpoint.process.containerID == nil ? ""
                    : "; live only until the container restarts: `\(Shell.command(["slirpmon", "show", target]))` prints the podman command that keeps it, to run as \(acting.ownerWord)"
                FileHandleOutput.error("slirpmon: \(acting.note)\(keep)".terminalSafe)
            }
            if common.json {
                return try FileHandleOutput.json(added.map { AddedForward(id: $0.1, proto: $0.0.proto.rawValue, hostAddr: $0.0.hostAddr.description,
                                                                          hostPort: Int($0.0.hostPort.value), guestAddr: $0.0.guestAddr?.description,
                                                                          guestPort: Int($0.0.guestPort.value)) })
            }
            if added.count <= 20 {
                for (request, id) in added { FileHandleOutput.print("added [\(id)] \(request.summary)") }
            } else {
                // The ids as they are: another client adding at the same time leaves gaps that first-last would hide.
                FileHandleOutput.print("added \(added.count) forwards, ids \(Format.idRanges(added.map(\.1)))")
            }
        }
    }

    struct RemoveForwards: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove forwards by id, or all of them (remove_hostfwd).")

        @Argument(help: "PID, container ID or unique ID prefix.") var target: String
        @Argument(help: "Forward ids (see `fwd list`), or `all`.") var ids: [String]
        @Flag(help: "Send even when the API socket's owner cannot be proven (another user's instance whose file descriptors are not readable); SO_PEERCRED still checks the listener's PID.")
        var unverified = false
        @OptionGroup var common: CommonOptions

        func run() throws {
            guard !ids.isEmpty else { throw CLIError.usage("give forward ids or `all`") }
            var numbers: [Int] = []
            let all = ids == ["all"]
            if !all {
                for text in ids {
                    guard let id = Int(text), id >= 0, id <= Int(Int32.max) else {
                        throw CLIError.usage("\(text.abbreviatedQuote) is not a forward id (a number from `slirpmon fwd list`) or `all`")
                    }
                    numbers.append(id)
                }
            }
            let (endpoint, client) = try Targets.client(target, common: common, unverified: unverified)
            if all {
                do { numbers = try client.list().map(\.id) } catch { throw CLIError.failed(error.description) }
            }
            let outcome = ForwardSession(client: client, pid: endpoint.process.pid).remove(numbers)
            let removed = outcome.removed
            if let (id, failure) = outcome.failure {
                var message = "removing forward \(id) failed: \(failure.explanation)"
                if !removed.isEmpty { message += ". Removed before the failure: ids \(Format.idRanges(removed))" }
                throw CLIError.failed(message)
            }
            if common.json { return try FileHandleOutput.json(["removed": removed]) }
            // Ids as `fwd add` prints them: `removed 1000 forwards, ids 1-1000`, not 1000 numbers on a line.
            FileHandleOutput.print(removed.isEmpty ? "No forwards to remove."
                                   : removed.count == 1 ? "removed \(removed[0])" : "removed \(removed.count) forwards, ids \(Format.idRanges(removed))")
        }
    }
}

/// The JSON shape of one added forward.
struct AddedForward: Encodable {
    let id: Int
    let proto: String
    let hostAddr: String
    let hostPort: Int
    @NullWhenAbsent var guestAddr: String?
    let guestPort: Int

    enum CodingKeys: String, CodingKey {
        case id, proto
        case hostAddr = "host_addr"
        case hostPort = "host_port"
        case guestAddr = "guest_addr"
        case guestPort = "guest_port"
    }
}
