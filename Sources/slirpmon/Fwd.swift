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
            abstract: "List, add, remove and probe port forwards of a running instance through its API socket.",
            subcommands: [ListForwards.self, AddForwards.self, RemoveForwards.self, ProbeForwards.self]
        )
    }
}

extension Slirpmon.Fwd {
    /// The line for a request of `fwd add` or `fwd rm` that did not go through: sent whole but not
    /// answered (it may still be carried out), refused by slirp4netns, or never sent (only that one is
    /// "not added"); then what was done before it and what was not sent after it.
    static func failure(_ failure: ForwardSession.Failure, adding: Bool, _ subject: String, target: String,
                        done: String?, notSent: String?) -> String {
        // APIError's hint names `fwd list TARGET` (the monitor has no TARGET to type); here the
        // operator's own TARGET is the command to run.
        let explanation = failure.explanation.replacingOccurrences(
            of: "`slirpmon fwd list TARGET`", with: "`\(Shell.command(["slirpmon", "fwd", "list", target]))`")
        var refused = false
        if case .slirp = failure.error { refused = true }
        return Self.failure(explanation: explanation, sentWithoutAnswer: failure.sentWithoutAnswer, refusedByPeer: refused,
                            adding: adding, subject, target: target, done: done, notSent: notSent)
    }

    /// The same line from its parts (for RootlessKit's API too): `refusedByPeer`, the program answered with a refusal.
    static func failure(explanation: String, sentWithoutAnswer: Bool, refusedByPeer: Bool, adding: Bool, _ subject: String, target: String,
                        done: String?, notSent: String?) -> String {
        let (verb, past) = adding ? ("adding", "added") : ("removing", "removed")
        var message: String
        if sentWithoutAnswer {
            message = ForwardSession.sentNoAnswer(adding: adding, subject)
                + "; `\(Shell.command(["slirpmon", "fwd", "list", target]))` shows whether it was. \(explanation)"
        } else if refusedByPeer {
            message = "\(verb) \(subject) failed: \(explanation)"
        } else {
            message = "\(subject) not \(past) (never sent): \(explanation)"
        }
        if let done { message += ". \(past.prefix(1).uppercased() + past.dropFirst()) before it: \(done)" }
        if let notSent { message += ". Not sent: \(notSent)" }
        return message
    }

    struct ListForwards: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the forwards (list_hostfwd).", discussion: TargetHelp.rules)

        @Argument(help: TargetHelp.argument) var target: String
        @Flag(help: "Send even when the API socket's owner cannot be proven (another user's instance whose file descriptors are not readable); SO_PEERCRED still checks the listener's PID.")
        var unverified = false
        @OptionGroup var common: CommonOptions

        func run() throws { try FwdListRequest(self).run() }
    }

    struct AddForwards: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add forwards (add_hostfwd), in Podman's -p syntax.",
            discussion: """
            MAPPING is [HOSTIP:]HOSTPORT[-END]:CONTAINERPORT[-END][/tcp|/udp|/tcp,udp]; a range adds \
            one forward per port. HOSTIP defaults to 0.0.0.0. Every mapping is validated before \
            anything is sent, and several are checked against each other and against the forwards \
            the instance has (same protocol and host port on the same address or on 0.0.0.0): a \
            conflict refuses them all, nothing sent. On a failure, the forwards already added stay \
            and are listed. Exit status 3: a request was sent but slirp4netns did not answer (a \
            stopped or hung process): it may still be added, `fwd list` shows whether it was; the \
            rest were not sent. For a slirp4netns started by RootlessKit the ports go through \
            RootlessKit's API ($STATE/api.sock): MAPPING also takes tcp4, tcp6, udp4, udp6 and \
            [IPv6] host addresses, and HOSTIP defaults to all addresses.
            """ + "\n\n" + TargetHelp.rules
        )

        @Argument(help: TargetHelp.argument) var target: String
        @Argument(parsing: .allUnrecognized, help: "One or more mappings, e.g. 127.0.0.1:8080:80 or 30000-30009:30000-30009/udp.") var mappings: [String]
        @Option(name: .customLong("guest-addr"), parsing: .unconditional, help: "The guest address to forward to (IPv4; default: slirp4netns's guest address). For a RootlessKit instance: its childIP, IPv4 or IPv6 (e.g. a Docker container's bridge address; default: the child's own address).")
        var guestAddr: String?
        @Flag(help: "Send even when the API socket's owner cannot be proven (another user's instance whose file descriptors are not readable); SO_PEERCRED still checks the listener's PID.")
        var unverified = false
        @OptionGroup var common: CommonOptions

        func run() throws {
            let mappings = try DashedValue.positionals(mappings, of: Self.self)
            guard !mappings.isEmpty else { throw CLIError.usage("give at least one MAPPING, e.g. 8080:80") }
            // Read as slirp4netns's API and as RootlessKit's (a superset: tcp6, [IPv6], an IPv6
            // --guest-addr) before TARGET is looked up: what neither takes is invalid usage, exit 2.
            var slirpRequests: Result<[ForwardRequest], CLIError> = .success([])
            do {
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
                slirpRequests = .success(requests)
            } catch let error as CLIError {
                slirpRequests = .failure(error)
            }
            var kitSpecs: Result<[RootlessKitPortSpec], CLIError> = .success([])
            do {
                var specs: [RootlessKitPortSpec] = []
                for text in mappings {
                    do throws(PortMapping.ParseError) { specs += try RootlessKitMapping.parse(text, childIP: guestAddr) } catch { throw CLIError.usage(error.description) }
                }
                kitSpecs = .success(specs)
            } catch let error as CLIError {
                kitSpecs = .failure(error)
            }
            if case .failure(let error) = slirpRequests, case .failure = kitSpecs { throw error }
            if case .success(let requests) = slirpRequests {
                let clashes = ForwardConflict.find(in: requests)
                if !clashes.isEmpty { throw CLIError.usage("nothing sent: the mappings conflict: \(ForwardConflict.described(clashes, limit: 20))") }
            }
            let route: FwdRoute
            do { route = try FwdRoute.of(target) } catch let lookup as CLIError {
                // Mappings only RootlessKit takes, for a TARGET that names nothing: the slirp4netns
                // API's refusal (any instance not RootlessKit's would give it) is the usage error.
                if case .failure(let refused) = slirpRequests { throw CLIError.usage("\(refused.message); and \(lookup.message)") }
                throw lookup
            }
            if case .rootlessKit(let kit) = route {
                return try RootlessKitFwd.add(kit, specs: kitSpecs.get(), targetText: target, common: common, unverified: unverified)
            }
            guard case .slirp(let found) = route else { return }
            let requests = try slirpRequests.get()
            let (endpoint, client) = try Targets.client(target, timeout: common.timeout, unverified: unverified, endpoint: found)
            let showProgress = requests.count > 1 && isatty(2) != 0 && !common.json
            let outcome = ForwardSession(client: client, pid: endpoint.process.pid).add(requests) { n in
                if showProgress && (n % 25 == 0 || n == requests.count - 1) {
                    FileHandleOutput.progress("added \(n + 1)/\(requests.count)")
                }
            }
            if showProgress { FileHandleOutput.error("") }
            let added = outcome.added.map { ($0.request, $0.id) }
            switch outcome.refusal {
            case .conflicts(let clashes)?:
                throw CLIError.failed("nothing sent: the mappings conflict with the instance's forwards: \(ForwardConflict.described(clashes, limit: 20))")
            case .listFailed(let failure)?:
                throw CLIError.failed("nothing sent: the instance's forwards could not be listed to check the \(requests.count) mappings against them: \(failure.explanation)")
            case nil: break
            }
            if let (request, failure) = outcome.failure {
                let message = Slirpmon.Fwd.failure(failure, adding: true, request.summary, target: target,
                                                   done: added.isEmpty ? nil : "ids " + Format.idRanges(added.map(\.1)),
                                                   notSent: outcome.notSent.isEmpty ? nil : Self.summaries(outcome.notSent))
                guard failure.sentWithoutAnswer else { throw CLIError.failed(message) }
                if common.json {
                    try FileHandleOutput.json(added.map { AddedForward($0.0, id: $0.1, state: "added") } + [AddedForward(request, id: nil, state: "sent_no_answer")]
                                              + outcome.notSent.map { AddedForward($0, id: nil, state: "not_sent") })
                }
                throw CLIError.unknownOutcome(message)
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
            if common.json { return try FileHandleOutput.json(added.map { AddedForward($0.0, id: $0.1, state: "added") }) }
            if added.count <= 20 {
                for (request, id) in added { FileHandleOutput.print("added [\(id)] \(request.summary)") }
            } else {
                // The ids as they are: another client adding at the same time leaves gaps that first-last would hide.
                FileHandleOutput.print("added \(added.count) forwards, ids \(Format.idRanges(added.map(\.1)))")
            }
        }

        /// Requests by their summaries (the first 5 of a long list, and how many more).
        static func summaries(_ requests: [ForwardRequest]) -> String {
            requests.prefix(5).map(\.summary).joined(separator: ", ") + (requests.count > 5 ? " and \(requests.count - 5) more" : "")
        }
    }

    struct RemoveForwards: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove forwards by id, or all of them (remove_hostfwd).",
            discussion: """
            Several ids are checked against the instance's list first: an id it does not have, or \
            one given twice, refuses them all, nothing sent. Exit status 3: a request was sent but \
            slirp4netns did not answer (a stopped or hung process): it may still be removed, \
            `fwd list` shows whether it was; the rest were not sent.
            """ + "\n\n" + TargetHelp.rules
        )

        @Argument(help: TargetHelp.argument) var target: String
        @Argument(parsing: .allUnrecognized, help: "Forward ids (see `fwd list`), or `all`.") var ids: [String]
        @Flag(help: "Send even when the API socket's owner cannot be proven (another user's instance whose file descriptors are not readable); SO_PEERCRED still checks the listener's PID.")
        var unverified = false
        @OptionGroup var common: CommonOptions

        func run() throws {
            let ids = try DashedValue.positionals(ids, of: Self.self)
            guard !ids.isEmpty else { throw CLIError.usage("give forward ids or `all`") }
            var numbers: [Int] = []
            var given = Set<Int>()
            let all = ids == ["all"]
            if !all {
                for text in ids {
                    guard let id = Int(text), id >= 0, id <= Int(Int32.max) else {
                        throw CLIError.usage("\(text.abbreviatedQuote) is not a forward id (a number from `slirpmon fwd list`) or `all`")
                    }
                    // slirp4netns numbers forwards from 1: 0 names none, whether given alone or among others.
                    guard id >= 1 else { throw CLIError.usage("nothing sent: 0 is not a forward id: slirp4netns numbers forwards from 1 (`slirpmon fwd list` shows them)") }
                    // The same id twice: the second removal would fail after the first was done.
                    guard given.insert(id).inserted else { throw CLIError.usage("nothing sent: forward id \(id) is given twice") }
                    numbers.append(id)
                }
            }
            let route = try FwdRoute.of(target)
            if case .rootlessKit(let kit) = route {
                return try RootlessKitFwd.remove(kit, ids: numbers, all: all, targetText: target, common: common, unverified: unverified)
            }
            guard case .slirp(let found) = route else { return }
            let (endpoint, client) = try Targets.client(target, timeout: common.timeout, unverified: unverified, endpoint: found)
            if all {
                do { numbers = try client.list().map(\.id) } catch { throw CLIError.failed(error.description) }
            }
            let outcome = ForwardSession(client: client, pid: endpoint.process.pid).remove(numbers, listed: all)
            switch outcome.refusal {
            case .unknownIDs(let unknown)?:
                throw CLIError.failed("nothing sent: the instance has no forward \(Format.idRanges(unknown)); `\(Shell.command(["slirpmon", "fwd", "list", target]))` shows the ids")
            case .listFailed(let failure)?:
                throw CLIError.failed("nothing sent: the instance's forwards could not be listed to check the \(numbers.count) ids against them: \(failure.explanation)")
            case nil: break
            }
            let removed = outcome.removed
            let failed = outcome.failure.map { id, failure in
                (id, failure.sentWithoutAnswer, Slirpmon.Fwd.failure(failure, adding: false, "forward \(id)", target: target,
                                                                     done: removed.isEmpty ? nil : "ids " + Format.idRanges(removed),
                                                                     notSent: outcome.notSent.isEmpty ? nil : "ids " + Format.idRanges(outcome.notSent)))
            }
            try Self.report(removed: removed, failed: failed, notSent: outcome.notSent, json: common.json, noun: "forwards")
        }

        /// What `fwd rm` prints (slirp4netns's forwards or RootlessKit's ports, `noun`): the ids
        /// removed, or the failure (exit 1; exit 3 with the JSON when sent without an answer).
        static func report(removed: [Int], failed: (id: Int, sentWithoutAnswer: Bool, message: String)?, notSent: [Int], json: Bool, noun: String) throws {
            if let failed {
                guard failed.sentWithoutAnswer else { throw CLIError.failed(failed.message) }
                if json { try FileHandleOutput.json(["removed": removed, "sent_no_answer": [failed.id], "not_sent": notSent]) }
                throw CLIError.unknownOutcome(failed.message)
            }
            if json { return try FileHandleOutput.json(["removed": removed, "sent_no_answer": [], "not_sent": []]) }
            // Ids as `fwd add` prints them: `removed 1000 forwards, ids 1-1000`, not 1000 numbers on a line.
            FileHandleOutput.print(removed.isEmpty ? "No \(noun) to remove."
                                   : removed.count == 1 ? "removed \(removed[0])" : "removed \(removed.count) \(noun), ids \(Format.idRanges(removed))")
        }
    }
}

/// The JSON shape of one forward `fwd add` was asked for: `state` `added` (with its `id`),
/// `sent_no_answer` (sent, unanswered: it may still be added; `id` null) or `not_sent`. Without
/// `state` (left out), one entry of a RootlessKit instance's `fwd list` (`RootlessKitForwardJSON`).
struct AddedForward: Encodable {
    @NullWhenAbsent var id: Int?
    let state: String?
    let proto: String
    /// Null for a RootlessKit port on all addresses; slirp4netns's are always an address.
    @NullWhenAbsent var hostAddr: String?
    let hostPort: Int
    @NullWhenAbsent var guestAddr: String?
    let guestPort: Int

    enum CodingKeys: String, CodingKey {
        case id, state, proto
        case hostAddr = "host_addr"
        case hostPort = "host_port"
        case guestAddr = "guest_addr"
        case guestPort = "guest_port"
    }
}

extension AddedForward {
    init(_ request: ForwardRequest, id: Int?, state: String) {
        self.init(id: id, state: state, proto: request.proto.rawValue, hostAddr: request.hostAddr.description, hostPort: Int(request.hostPort.value),
                  guestAddr: request.guestAddr?.description, guestPort: Int(request.guestPort.value))
    }
}
