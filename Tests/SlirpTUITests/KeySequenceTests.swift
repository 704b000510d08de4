import SlirpCore
import Testing
@testable import SlirpTUI

/// Keys fed to the state, no terminal: what the operator sees change, and what is (not) sent.
@Suite struct KeySequenceTests {
    @Test func arrowsMoveTheSelectionAndItSurvivesARefresh() {
        var state = Fixtures.state()
        #expect(state.selected == Fixtures.web)
        state.press(.down)
        #expect(state.selected == Fixtures.custom)
        // A refresh in another order keeps the selection on the same process.
        _ = state.apply(.inventory([Fixtures.noapiSnapshot(), Fixtures.customSnapshot(), Fixtures.webSnapshot()], error: nil, clock: "12:00:01"))
        #expect(state.selected == Fixtures.custom)
        state.press(.end)
        #expect(state.selected == Fixtures.noapi)
        state.press(.home)
        #expect(state.selected == Fixtures.web)
    }

    @Test func aReusedPIDIsAnotherInstance() {
        var state = Fixtures.state()
        state.press(.down)
        var reborn = Fixtures.customSnapshot()
        reborn.identity = ProcessIdentity(pid: Fixtures.custom.pid, startTicks: 9999)
        _ = state.apply(.inventory([Fixtures.webSnapshot(), reborn, Fixtures.noapiSnapshot()], error: nil, clock: "x"))
        // The old process is listed as gone (greyed), still selected; the new one is a separate row.
        #expect(state.selected == Fixtures.custom)
        #expect(state.selectedRow?.isGone == true)
        #expect(state.rows.count == 4)
    }

    @Test func vanishedInstancesStayGreyedForAFewRefreshes() {
        var state = Fixtures.state()
        for round in 1...AppState.goneRefreshes {
            _ = state.apply(.inventory([Fixtures.webSnapshot(), Fixtures.noapiSnapshot()], error: nil, clock: "x"))
            #expect(state.rows.first { $0.snapshot.identity == Fixtures.custom }?.goneFor == round)
        }
        let screen = render(state, size: Size(width: 80, height: 24))
        #expect(screen.text.contains("gone"))
        _ = state.apply(.inventory([Fixtures.webSnapshot(), Fixtures.noapiSnapshot()], error: nil, clock: "x"))
        #expect(!state.rows.contains { $0.snapshot.identity == Fixtures.custom })
    }

    @Test func sortCyclesColumnsAndInverts() {
        var state = Fixtures.state()
        #expect(state.sortColumn == .pid)
        state.press(.function(6))
        #expect(state.sortColumn == .state)
        state.press(.function(6))
        #expect(state.sortColumn == .uptime)
        #expect(state.visibleRows.map(\.snapshot.pid) == [4243, 4242, 4244])
        state.press(.character("I"))
        #expect(state.visibleRows.map(\.snapshot.pid) == [4244, 4242, 4243])
        #expect(state.selected == Fixtures.web)
    }

    @Test func filterNarrowsAsTypedAndEscClearsIt() {
        var state = Fixtures.state()
        state.press(.function(4))
        state.type("10.99")
        #expect(state.visibleRows.map(\.snapshot.identity) == [Fixtures.custom])
        #expect(state.selected == Fixtures.custom)
        state.press(.enter)
        #expect(state.filter == "10.99")
        state.press(.function(4), .escape)
        #expect(state.filter.isEmpty)
        #expect(state.visibleRows.count == 3)
    }

    @Test func searchJumpsToTheNextMatch() {
        var state = Fixtures.state()
        state.press(.function(3))
        state.type("3f2a")
        state.press(.enter)
        #expect(state.selected == Fixtures.custom)
        state.press(.function(3))
        state.type("zzz")
        state.press(.enter)
        #expect(state.status?.kind == .error)
    }

    @Test func aBadPortShowsAnErrorAndSendsNothing() {
        var state = Fixtures.state()
        state.press(.character("3"))
        var effects = state.press(.character("a"))
        guard case .form(let form) = state.mode else {
            Issue.record("the form did not open")
            return
        }
        #expect(form.focus == .hostPort)
        state.type("70000")
        state.press(.tab)
        state.type("80")
        effects += state.press(.enter)
        #expect(!Reaction(effects).sendsChange)
        guard case .form(let after) = state.mode else {
            Issue.record("the form closed on invalid input")
            return
        }
        #expect(after.error(for: .hostPort)?.contains("out of range") == true)
        #expect(after.focus == .hostPort)
        #expect(state.status?.kind == .error)
    }

    @Test func formFieldsValidateWithTheCLIRules() {
        var form = ForwardForm(target: Fixtures.web)
        #expect(form.error(for: .hostPort) != nil)
        form.values[.hostPort] = "8080-8081"
        form.values[.guestPort] = "80"
        #expect(form.error(for: .hostPort) == nil)
        #expect(form.error(for: .guestPort)?.contains("same length") == true)
        form.values[.guestPort] = "80-81"
        form.values[.proto] = "sctp"
        #expect(form.error(for: .proto)?.contains("not tcp or udp") == true)
        form.values[.proto] = "tcp,udp"
        form.values[.hostAddress] = "localhost"
        #expect(form.error(for: .hostAddress)?.contains("not an IPv4 address") == true)
        form.values[.hostAddress] = ""
        form.values[.guestAddress] = "10.0.2.300"
        #expect(form.error(for: .guestAddress) != nil)
        #expect(form.requests == nil)
        form.values[.guestAddress] = "10.0.2.100"
        #expect(form.requests?.count == 4)
        #expect(form.mappingText == "8080-8081:80-81/tcp,udp")
    }

    @Test func aValidFormSendsExactlyTheParsedRequests() throws {
        var state = Fixtures.state()
        state.press(.character("a"))
        state.type("18080")
        state.press(.tab)
        state.type("80")
        let effects = state.press(.enter)
        let expected = try PortMapping.parse("127.0.0.1:18080:80/tcp").requests()
        #expect(effects == [.addForwards(EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock"), expected)])
        #expect(state.mode == .normal)
        #expect(state.busy != nil)
        // The answer lands in the status line and the forwards are listed again.
        let follow = state.apply(.added(EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock"),
                                        [AddedForward(summary: "tcp 127.0.0.1:18080 -> :80", id: 3)], failure: nil))
        #expect(state.status?.text.contains("id 3") == true)
        #expect(follow.effects.contains { if case .listForwards = $0 { true } else { false } })
    }

    @Test func aUDPForwardOnTheLoopbackOfAnInstanceWithoutHostLoopbackSaysItsRepliesAreDropped() throws {
        var state = Fixtures.state()
        let web = try #require(state.rows.firstIndex { $0.snapshot.identity == Fixtures.web })
        let target = EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock")
        func add(_ proto: String) throws -> StatusMessage? {
            state.press(.character("a"))
            guard case .form(var form) = state.mode else { Issue.record("no form"); return nil }
            form.values[.proto] = proto
            form.values[.hostPort] = "18053"
            form.values[.guestPort] = "53"
            state.mode = .form(form)
            state.press(.enter)
            state.apply(.added(target, [AddedForward(summary: "\(proto) 127.0.0.1:18053 -> :53", id: 7)], failure: nil))
            return state.status
        }
        state.rows[web].snapshot.disableHostLoopback = true
        let udp = try #require(try add("udp"))
        #expect(udp.text.contains("id 7") && udp.text.contains("--disable-host-loopback"), "\(udp.text)")
        #expect(try add("tcp")?.text.contains("--disable-host-loopback") == false, "TCP: no note")
        state.rows[web].snapshot.disableHostLoopback = false
        #expect(try add("udp")?.text.contains("--disable-host-loopback") == false, "host loopback allowed: no note")
    }

    @Test func escCancelsTheForm() {
        var state = Fixtures.state()
        state.press(.character("a"))
        state.type("18080")
        let effects = state.press(.escape)
        #expect(effects.isEmpty)
        #expect(state.mode == .normal)
    }

    @Test func instancesThatCannotForwardSayWhyInsteadOfAForm() {
        var state = Fixtures.state()
        state.press(.down, .character("a"))
        #expect(state.mode == .normal)
        #expect(state.status?.text.contains("not held") == true)
    }

    @Test func removingAsksFirstNamingTheForward() {
        var state = Fixtures.state()
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        state.press(.tab, .down, .character("d"))
        guard case .confirmRemove(_, let forward) = state.mode else {
            Issue.record("no confirmation")
            return
        }
        #expect(forward.id == 2)
        #expect(render(state, size: Size(width: 80, height: 24)).text.contains("udp 0.0.0.0:5353 -> 10.0.2.100:53"))
        #expect(state.press(.character("n")).isEmpty)
        state.press(.character("d"))
        let effects = state.press(.character("y"))
        #expect(effects == [.removeForward(EffectTarget(identity: Fixtures.web, apiSocket: "/tmp/lab/lab-web.sock"), Fixtures.webForwards[1])])
    }

    @Test func readOnlyKeysDoNothing() {
        var state = Fixtures.state(readOnly: true)
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        let effects = state.press(.character("a"), .function(7), .tab, .character("d"), .delete, .function(8))
        #expect(effects.isEmpty)
        #expect(state.mode == .normal)
        #expect(!KeyBindings.bar(readOnly: true).contains { $0.1 == "AddFwd" || $0.1 == "DelFwd" })
        #expect(KeyBindings.bar(readOnly: false).contains { $0.1 == "AddFwd" })
    }

    @Test func forwardsAreListedOnlyForTheShownInstanceAndNotTooOften() {
        var state = Fixtures.state()
        #expect(state.reconcile().effects.isEmpty) // details pane: nothing asked
        state.now = 100
        let first = state.press(.character("3"))
        #expect(first.count == 1)
        #expect(state.reconcile().effects.isEmpty) // pending
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        state.now = 102
        #expect(state.reconcile().effects.isEmpty) // fresh
        state.now = 100 + AppState.forwardsInterval + 0.1
        #expect(state.reconcile().effects.count == 1)
    }

    @Test func logFollowsAndScrolls() {
        var state = Fixtures.state()
        state.press(.character("2"))
        _ = state.apply(.logLoaded(Fixtures.web, lines: (1...100).map { "line \($0)" }, truncatedBefore: false, error: nil))
        #expect(state.log.follow)
        state.press(.tab, .pageUp)
        #expect(!state.log.follow)
        _ = state.apply(.logAppended(Fixtures.web, lines: ["line 101"]))
        let screen = render(state, size: state.size)
        #expect(!screen.text.contains("line 101"))
        state.press(.end)
        #expect(state.log.follow)
        #expect(render(state, size: state.size).text.contains("line 101"))
        state.press(.function(5))
        #expect(!state.log.follow)
    }

    @Test func saveLogAsksTheRuntimeAndShowsThePath() {
        var state = Fixtures.state()
        state.press(.character("2"))
        #expect(state.press(.character("s")) == [.saveLog(Fixtures.web)])
        _ = state.apply(.logSaved(path: "/tmp/slirp4netns-4242-20260101-000000.log", error: nil))
        #expect(render(state, size: state.size).text.contains("log saved to /tmp/slirp4netns-4242-20260101-000000.log"))
    }

    @Test func quitKeys() {
        var state = Fixtures.state()
        #expect(state.press(.character("q")) == [.quit])
        #expect(state.press(.function(10)) == [.quit])
    }

    @Test func helpListsEveryBindingFromTheTable() {
        let text = HelpView.lines(readOnly: false).map { $0.map(\.text).joined() }.joined(separator: "\n")
        for binding in KeyBindings.all { #expect(text.contains(binding.help)) }
    }
}

@Suite struct ZombieTests {
    @Test func aZombieKeepsTheConfigurationItHadWhileRunning() {
        var state = Fixtures.state()
        state.press(.function(4))
        state.type("lab-web")
        state.press(.enter)
        #expect(state.visibleRows.count == 1)
        // As the core gives a zombie it kept nothing of: its configuration unknown, no values.
        var zombie = InstanceSnapshot(identity: Fixtures.web, state: "Z", isZombie: true, cidr: nil, mtu: nil, guest: nil, gateway: nil, dns: nil)
        zombie.configuration = .unknown(reason: "a zombie keeps no command line")
        zombie.logError = "the process is defunct: its log closed with it"
        _ = state.apply(.inventory([zombie, Fixtures.customSnapshot(), Fixtures.noapiSnapshot()], error: nil, clock: "x"))
        #expect(state.visibleRows.count == 1)
        #expect(state.selectedRow?.snapshot.isZombie == true)
        #expect(state.selectedRow?.snapshot.netnsPath == "/run/netns/lab-web")
        #expect(state.selectedRow?.snapshot.cidr == "10.0.2.0/24")
        #expect(state.selectedRow?.snapshot.configuration == .lastSeen(readAt: 0), "marked last seen")
        #expect(state.counts.failed == 2)
    }
}

@Suite struct MouseTests {
    @Test func clicksSelectRowsSwitchPanesAndPressFunctionKeys() {
        var state = Fixtures.state()
        let layout = Layout(size: state.size, rowCount: state.visibleRows.count)
        state.press(.click(x: 5, y: layout.listTop + 1))
        #expect(state.selected == Fixtures.custom)
        state.press(.click(x: 13, y: layout.paneTitleRow)) // " 2 Log "
        #expect(state.pane == .log)
        state.press(.click(x: 2, y: layout.barRow)) // F1
        #expect(state.mode == .help(top: 0))
    }

    @Test func theWheelScrollsTheAreaUnderThePointer() {
        var state = Fixtures.state()
        let layout = Layout(size: state.size, rowCount: state.visibleRows.count)
        state.press(.wheelDown(x: 0, y: layout.listTop))
        #expect(state.selected == Fixtures.noapi)
        state.press(.wheelDown(x: 0, y: layout.paneTop + 2))
        #expect(state.focus == .pane)
        #expect(state.paneTop == 3)
    }
}
