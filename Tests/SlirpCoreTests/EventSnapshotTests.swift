@testable import SlirpCore
import Testing

/// Events are the differences between two looks: what each kind of change gives, and what it does not.
@Suite("What changed between two looks at the instances")
struct EventSnapshotTests {
    static let web = ProcessIdentity(pid: 4242, startTicks: 100)
    static let db = ProcessIdentity(pid: 4243, startTicks: 200)
    static let f1 = HostForward(id: 1, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18080, guestAddr: "10.0.2.100", guestPort: 80)
    static let f2 = HostForward(id: 2, proto: .udp, hostAddr: "0.0.0.0", hostPort: 5353, guestAddr: "10.0.2.100", guestPort: 53)

    static func instance(_ identity: ProcessIdentity, name: String = "web1", container: String? = "c0ffee", defunct: Bool = false,
                         forwards: [HostForward]? = []) -> EventSnapshot.Instance {
        EventSnapshot.Instance(identity: identity, name: name, containerID: container, user: "root", startTime: Double(identity.pid) / 1000,
                               defunct: defunct, forwards: forwards)
    }

    static func look(_ time: Double, _ instances: [EventSnapshot.Instance], stranded: [EventSnapshot.Stranded] = []) -> EventSnapshot {
        EventSnapshot(time: time, instances: instances, stranded: stranded)
    }

    static func kinds(_ events: [InventoryEvent]) -> [InventoryEvent.Kind] { events.map(\.kind) }

    @Test("an instance new since the look before started at its own process start time, and each forward it has was added since")
    func newInstance() throws {
        let events = Self.look(2000, [Self.instance(Self.web, forwards: [Self.f1])]).events(since: Self.look(1990, []))
        try #require(Self.kinds(events) == [.started, .forwardAdded])
        #expect(events[0].time == 4.242 && events[0].timing == .processStart && !events[0].seen)
        #expect(events[1].time == 2000 && events[1].timing == .noticed && events[1].forward == Self.f1)
    }

    @Test("a running instance that is gone died when it was noticed; one turned defunct is defunct, and its reaping later is no news")
    func deathAndDefunct() {
        let before = Self.look(10, [Self.instance(Self.web), Self.instance(Self.db, name: "db")])
        let after = Self.look(11, [Self.instance(Self.db, name: "db", defunct: true)])
        let events = after.events(since: before)
        #expect(Self.kinds(events) == [.defunct, .died])
        #expect(events.first { $0.kind == .died }?.process == Self.web && events.allSatisfy { $0.time == 11 && !$0.seen })
        #expect(events.first { $0.kind == .defunct }?.name == "db")
        #expect(Self.look(12, []).events(since: after).isEmpty, "a defunct process reaped is reported again")
        #expect(after.events(since: after).isEmpty, "nothing changed, yet events")
    }

    @Test("a PID reused by a new process is the old one dying and a new one starting")
    func reusedPID() {
        let reused = ProcessIdentity(pid: Self.web.pid, startTicks: 999)
        let events = Self.look(20, [Self.instance(reused)]).events(since: Self.look(19, [Self.instance(Self.web)]))
        #expect(Set(Self.kinds(events)) == [.died, .started])
    }

    @Test("forwards are compared by id and content: one removed and one added between two looks")
    func forwardChanges() throws {
        let before = Self.look(30, [Self.instance(Self.web, forwards: [Self.f1])])
        let events = Self.look(31, [Self.instance(Self.web, forwards: [Self.f2])]).events(since: before)
        try #require(Self.kinds(events) == [.forwardRemoved, .forwardAdded])
        #expect(events[0].forward == Self.f1 && events[1].forward == Self.f2 && events.allSatisfy { $0.time == 31 })
    }

    @Test("forwards not known at one of the looks (not asked, failed) make no event")
    func unknownForwards() {
        let known = Self.look(40, [Self.instance(Self.web, forwards: [Self.f1])])
        let unknown = Self.look(41, [Self.instance(Self.web, forwards: nil)])
        #expect(unknown.events(since: known).isEmpty)
        #expect(known.events(since: unknown).isEmpty)
    }

    @Test("a container running without its slirp4netns lost it, with the slirp4netns it had; once only")
    func lostSlirp4netns() throws {
        let before = Self.look(50, [Self.instance(Self.web)])
        let stranded = EventSnapshot.Stranded(containerID: "c0ffee", name: "web1", user: "root")
        let after = Self.look(51, [], stranded: [stranded])
        let events = after.events(since: before)
        try #require(Self.kinds(events) == [.died, .lostSlirp4netns])
        let lost = events[1]
        #expect(lost.process == Self.web && lost.containerID == "c0ffee" && lost.time == 51 && lost.kind.isLoss)
        #expect(Self.look(52, [], stranded: [stranded]).events(since: after).isEmpty)
    }

    @Test("the first look gives the state as seen: starts at their process start times, the rest as of now, all marked seen")
    func firstLook() {
        let stranded = EventSnapshot.Stranded(containerID: "dead", name: "db", user: "u1")
        let seen = Self.look(60, [Self.instance(Self.web, forwards: [Self.f1, Self.f2]), Self.instance(Self.db, name: "db2", defunct: true)],
                             stranded: [stranded]).seen
        #expect(seen.allSatisfy { $0.seen })
        #expect(Self.kinds(seen) == [.started, .started, .forwardAdded, .forwardAdded, .defunct, .lostSlirp4netns])
        #expect(seen.filter { $0.kind == .started }.allSatisfy { $0.timing == .processStart })
        #expect(seen.filter { $0.kind != .started }.allSatisfy { $0.timing == .noticed && $0.time == 60 })
    }

    @Test("an event's JSON has every key, null when unknown, and the stable kind names")
    func json() throws {
        let event = InventoryEvent(kind: .lostSlirp4netns, time: 1.23456, timing: .noticed, seen: false, process: nil, name: "web1",
                                   containerID: "c0ffee", user: nil)
        let text = String(decoding: try JSONText.encode(event, pretty: false), as: UTF8.self)
        for part in ["\"kind\":\"lost_slirp4netns\"", "\"time\":1.235", "\"timing\":\"noticed\"", "\"seen\":false", "\"pid\":null",
                     "\"start_ticks\":null", "\"container_id\":\"c0ffee\"", "\"user\":null", "\"forward\":null", "\"message\":"] {
            #expect(text.contains(part), "\(part) missing: \(text)")
        }
        #expect(InventoryEvent.Kind.allCases.map(\.rawValue) == ["started", "died", "defunct", "lost_slirp4netns", "forward_added",
                                                                 "forward_removed", "probe_failed"])
    }
}
