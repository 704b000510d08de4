@testable import SlirpCore
import Testing
@testable import SlirpTUI

/// The forwards pane of a slirp4netns started by RootlessKit, keys fed to the state (no terminal):
/// what is asked of which socket, what the form and the remove dialog send, what the pane says.
@Suite struct RootlessKitForwardsTests {
    static let identity = ProcessIdentity(pid: 5260, startTicks: 7)

    static func kit(driver: String = "slirp4netns", docker: Bool = false) -> RootlessKitParent {
        RootlessKitParent(pid: 5242, uid: 1009, user: "alice", portDriver: driver, stateDir: "/tmp/rootlesskit77", stateDirSource: .childEnvironment,
                          apiSocket: "/tmp/rootlesskit77/api.sock", apiSocketListening: true,
                          child: .init(pid: 5250, command: docker ? ["dockerd"] : ["sleep", "600"], kind: docker ? .docker : .command, commandPID: 5277),
                          dockerSocket: docker ? "/run/user/1009/docker.sock" : nil, log: "a pipe read by rootlesskit (pid 5242)", problems: [:])
    }

    /// A RootlessKit's slirp4netns; with the slirp4netns port driver it has slirp4netns's own API socket too.
    static func state(driver: String = "slirp4netns", docker: Bool = false) -> AppState {
        var snapshot = InstanceSnapshot(identity: identity, user: "alice", mtu: 1500, netnsPath: "/proc/5250/ns/net",
                                        apiSocket: driver == "slirp4netns" ? "/tmp/rootlesskit77/.s4nn.sock" : nil,
                                        socketStatus: driver == "slirp4netns" ? .held : nil)
        snapshot.rootlessKit = kit(driver: driver, docker: docker)
        var state = AppState(readOnly: false, banner: nil, delay: 1, useColor: true, host: HostInfo(hostName: "h", userName: "root"))
        state.size = Size(width: 140, height: 40)
        _ = state.apply(.inventory([snapshot], error: nil, clock: "12:00:00"))
        return state
    }

    static func port(_ id: Int, _ spec: RootlessKitPortSpec, origin: RootlessKitForward.Origin = .live,
                     container: RootlessKitForward.Container? = nil) -> RootlessKitForward {
        RootlessKitForward(port: RootlessKitPort(id: id, spec: spec), origin: origin, container: container)
    }

    @Test("the forwards pane of a RootlessKit instance asks RootlessKit's API (api.sock, its parent's), never slirp4netns's own .s4nn.sock, and the first sight lists it once for the FWD column", arguments: ["builtin", "slirp4netns"])
    func paneAsksRootlessKit(driver: String) throws {
        var state = Self.state(driver: driver)
        let details = render(state, size: state.size).text
        #expect(details.contains("API     /tmp/rootlesskit77/api.sock: RootlessKit's REST API, held by rootlesskit pid 5242"), "\(details)")
        #expect(!details.contains("started without --api-socket"), "\(details)")
        #expect(details.contains("1 running, 0 failed, 1 with API"), "\(details)")
        #expect(details.contains(".s4nn.sock: slirp4netns's own") == (driver == "slirp4netns"), "\(details)")
        // Seen: its ports are listed once for the FWD column (RootlessKit logs no request).
        let first = state.reconcile().effects
        #expect(first.count == 1, "\(first)")
        guard case .listForwards(let target)? = first.first else { Issue.record("no listing: \(first)"); return }
        #expect(target.rootlessKit?.pid == 5242)
        #expect(target.apiSocket == nil, "slirp4netns's own socket must not be asked: \(target)")
        #expect(state.reconcile().effects.isEmpty, "asked again on the next turn of the loop")
        _ = state.apply(.ports(Self.identity, [Self.port(3, RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18080, childPort: 80))],
                               error: nil))
        #expect(state.forwardCount(state.rows[0]) == 1)
        // The pane, shown, asks again at its cadence, RootlessKit again.
        state.now = 100
        let shown = state.press(.character("3"))
        guard case .listForwards(let again)? = shown.first else { Issue.record("the pane did not list: \(shown)"); return }
        #expect(again.rootlessKit != nil && again.apiSocket == nil)
        let text = render(state, size: state.size).text
        #expect(text.contains("GET /v1/ports of rootlesskit pid 5242, port driver \(driver)"), "\(text)")
        #expect(!text.contains("list_hostfwd"), "\(text)")
        #expect(text.contains("3 tcp   127.0.0.1:18080 -> :80"), "\(text)")
        #expect(text.contains("pid 5260 rootlesskit  1 RootlessKit port"), "\(text)")
    }

    @Test("the add form of a RootlessKit instance takes tcp6, an IPv6 host address and an IPv6 childIP, refuses a family that does not match as it is typed, and sends exactly the parsed ports")
    func formTakesWhatRootlessKitTakes() throws {
        var state = Self.state(driver: "builtin")
        _ = state.press(.character("3"))
        _ = state.press(.character("a"))
        guard case .form(var form) = state.mode else { Issue.record("no form: \(state.mode)"); return }
        #expect(form.rootlessKit)
        #expect(form.hint(.proto).contains("tcp6"))
        form.values = [.proto: "tcp4", .hostAddress: "::1", .hostPort: "18090", .guestPort: "80", .guestAddress: ""]
        #expect(form.error(for: .hostAddress)?.contains("IPv6 but tcp4 is IPv4 only") == true, "\(form.error(for: .hostAddress) ?? "-")")
        #expect(form.ports == nil)
        state.mode = .form(form)
        #expect(state.press(.enter).isEmpty, "an invalid form sent something")
        #expect(state.status?.text.contains("not sent") == true)
        form.values[.proto] = "tcp6"
        form.values[.guestAddress] = "fd00::2"
        #expect(form.isValid, "\(ForwardForm.Field.allCases.map { form.error(for: $0) ?? "ok" })")
        #expect(form.mappingText == "[::1]:18090:80/tcp6")
        state.mode = .form(form)
        let effects = state.press(.enter)
        guard case .addPorts(let target, let specs)? = effects.first else { Issue.record("not sent: \(effects)"); return }
        #expect(specs == [RootlessKitPortSpec(proto: "tcp6", parentIP: "::1", parentPort: 18090, childIP: "fd00::2", childPort: 80)])
        #expect(target.rootlessKit?.pid == 5242 && target.apiSocket == nil)
        #expect(state.status?.text.contains("to rootlesskit pid 5242") == true, "\(state.status?.text ?? "-")")
        // A refusal before sending (the session's) is the status line's.
        _ = state.apply(.added(target, [], failure: "nothing sent: tcp6 [::1]:18090 -> [fd00::2]:80: the slirp4netns port driver does not take tcp6"))
        #expect(state.status?.kind == .error && state.status?.text.contains("add failed: nothing sent") == true)
    }

    @Test("the remove dialog names the RootlessKit port and its container and removes it by RootlessKit's id; an unanswered removal is listed again until RootlessKit answers")
    func removeByID() throws {
        var state = Self.state(driver: "builtin", docker: true)
        _ = state.press(.character("3"))
        let web = Self.port(7, RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700),
                            origin: .published, container: .init(name: "web1", address: "172.17.0.2", port: 80, proxyPID: 6001))
        let live = Self.port(9, RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18701, childIP: "172.17.0.2", childPort: 80),
                             container: .init(name: "web1", address: "172.17.0.2", port: 80, proxyPID: nil))
        _ = state.apply(.ports(Self.identity, [web, live], error: nil))
        let text = render(state, size: state.size).text
        #expect(text.contains("CONTAINER"), "\(text)")
        #expect(text.contains("7 tcp4  127.0.0.1:18700 -> 127.0.0.1:18700  web1       published"), "\(text)")
        #expect(text.contains("9 tcp   127.0.0.1:18701 -> 172.17.0.2:80    web1       live"), "\(text)")
        #expect(text.contains("port 9 (web1): docker run -p 127.0.0.1:18701:80 ..."), "\(text)")
        _ = state.press(.tab, .down, .character("d"))
        guard case .confirmRemovePort(let target, let chosen) = state.mode else { Issue.record("no dialog: \(state.mode)"); return }
        #expect(chosen == live)
        #expect(render(state, size: state.size).text.contains("Remove RootlessKit port 9 of rootlesskit pid 5242?"))
        let effects = state.press(.character("y"))
        #expect(effects == [.removePort(target, live.port)])
        _ = state.apply(.removedPort(target, live.port, error: "rootlesskit did not answer within 2 s", unanswered: true))
        #expect(state.unanswered[Self.identity] != nil)
        #expect(state.status?.text.contains("removing port 9: sent, no answer") == true, "\(state.status?.text ?? "-")")
        _ = state.apply(.ports(Self.identity, [web], error: nil))
        #expect(state.status?.text.contains("port 9, whose removal was sent without an answer, is gone: it was removed") == true, "\(state.status?.text ?? "-")")
    }

    @Test("a Docker rootless row's FWD count is listed without reading Docker and shown dimmed as of when it was read; only the opened pane joins its ports with Docker, after they are listed, and a stale join never lands on newer ports")
    func countReadsNoDockerPaneJoinsAfter() throws {
        var state = Self.state(driver: "builtin", docker: true)
        let first = state.reconcile().effects
        guard first.count == 1, case .listForwards(let target)? = first.first else { Issue.record("first sight: \(first)"); return }
        let spec = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        let unread = Self.port(7, spec, origin: .unknown)
        _ = state.apply(.ports(Self.identity, [unread], error: nil, listedAt: "12:00:05"))
        // The count: no Docker join asked while the pane is closed, however many turns of the loop.
        #expect(state.reconcile().effects.isEmpty && state.reconcile().effects.isEmpty)
        let count = InstanceListView.cell(state.rows[0], .forwards, state: state)
        #expect(count.0.trimmingCharacters(in: .whitespaces) == "1" && count.1 == .dim, "\(count)")
        #expect(render(state, size: state.size).text.contains("fwd     1 as of 12:00:05: RootlessKit logs no request"))
        // The pane opened: its ports are joined with Docker, once.
        let opened = state.press(.character("3"))
        #expect(opened == [.joinDocker(target, [unread.port])], "\(opened)")
        #expect(state.reconcile().effects.isEmpty, "joined again while the join runs")
        let published = Self.port(7, spec, origin: .published, container: .init(name: "web1", address: "172.17.0.2", port: 80, proxyPID: 6001))
        _ = state.apply(.portsJoined(Self.identity, [published], dockerProblem: nil))
        #expect(state.forwards[Self.identity]?.ports == [published])
        #expect(render(state, size: state.size).text.contains("web1       published"))
        // Listed again (same ports): the join stays shown while it is joined again.
        state.now = 100
        guard case .listForwards? = state.reconcile().effects.first else { Issue.record("the pane did not list again"); return }
        _ = state.apply(.ports(Self.identity, [unread], error: nil, listedAt: "12:01:45"))
        #expect(state.forwards[Self.identity]?.ports == [published])
        #expect(state.reconcile().effects == [.joinDocker(target, [unread.port])])
        // A port added meanwhile: the join of the old list does not land on the new one.
        let added = Self.port(8, RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18701, childPort: 80), origin: .unknown)
        _ = state.apply(.ports(Self.identity, [unread, added], error: nil, listedAt: "12:01:46"))
        _ = state.apply(.portsJoined(Self.identity, [published], dockerProblem: nil))
        #expect(state.forwards[Self.identity]?.ports == [unread, added])
        #expect(state.reconcile().effects == [.joinDocker(target, [unread.port, added.port])])
    }
}
