import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// The monitor's refresh keeps what cannot change while a process runs, and a namespace's
/// addresses for a while: what it shows must still be what is there.
@Suite("What a refresh keeps for the next", .enabled(if: isRoot, "needs root for ip netns"))
struct InventoryCacheTests {
    func inventory(_ cache: InventoryCache, readAlways: Set<ProcessIdentity> = []) -> Inventory {
        Inventory(options: Inventory.Options(purpose: .monitor(cache: cache, selected: readAlways.first)))
    }

    func instance(_ pid: Int32, _ inventory: Inventory) throws -> SlirpInstance {
        try #require(try inventory.collect().first { $0.pid == pid }, "pid \(pid) not found")
    }

    @Test("a cached scan says what a fresh scan says, and still sees state changes (stopped, killed)")
    func cachedScanEqualsFreshScan() throws {
        let lab = try TestLab("cscan")
        let a = try lab.start(.init(name: "a"))
        let b = try lab.start(.init(name: "b", cidr: "10.66.1.0/24"))
        let cache = InventoryCache()
        let warm = ProcessScanner(cache: cache)
        _ = try warm.scan()
        #expect(cache.counts.processes >= 2)
        kill(a.pid, SIGSTOP)
        defer { kill(a.pid, SIGCONT) }
        #expect(eventually { ProcessScanner().process(pid: a.pid)?.state == "T" }, "SIGSTOP takes effect")
        let cached = try warm.scan().filter { [a.pid, b.pid].contains($0.pid) }
        let fresh = try ProcessScanner().scan().filter { [a.pid, b.pid].contains($0.pid) }
        #expect(cached.count == 2)
        for (c, f) in zip(cached, fresh) {
            #expect(c.identity == f.identity)
            #expect(c.arguments == f.arguments)
            #expect(c.configuration == f.configuration)
            #expect(c.stdoutTarget == f.stdoutTarget && c.stderrTarget == f.stderrTarget)
            #expect(c.socketInodes == f.socketInodes)
            #expect(c.user == f.user && c.uid == f.uid)
        }
        #expect(cached.first { $0.pid == a.pid }?.state == "T", "the stopped instance shows as stopped")
        kill(a.pid, SIGCONT)
        let killed = try #require(cached.first { $0.pid == b.pid }).identity
        #expect(cache.isKept(killed))
        lab.lab.signal(b, SIGKILL)
        #expect(eventually { ((try? warm.scan()) ?? []).allSatisfy { $0.pid != b.pid || $0.isZombie } })
        // Defunct: its facts stay while it is there, shown as last seen (its command line is gone).
        #expect(cache.isKept(killed), "the defunct instance's facts are kept while it is there")
        let defunct = try #require(try warm.scan().first { $0.pid == b.pid })
        #expect(defunct.configuration.cidr == "10.66.1.0/24" && defunct.configurationSource.lastSeenAt != nil)
        lab.lab.stop(b) // reaped
        #expect(eventually { ((try? warm.scan()) ?? []).allSatisfy { $0.pid != b.pid } })
        #expect(!cache.isKept(killed), "the reaped instance's facts are dropped")
    }

    @Test("an address changed in the namespace shows once the kept one is older than its age; the selected instance at once")
    func keptAddressesExpire() throws {
        let lab = try TestLab("cage")
        let inst = try lab.start(.init(name: "m", apiSocket: false))
        let ns = try #require(inst.netnsName)
        // Two caches, so that no step races a clock on a loaded host: one whose age cannot pass
        // during the test (within the age), one whose age passes while the test waits for it.
        let cache = InventoryCache(addressMaxAge: 3600)
        let warm = inventory(cache)
        let expiring = inventory(InventoryCache(addressMaxAge: 1.5))
        let first = try instance(inst.pid, warm)
        #expect(first.observed?.ipv4 == ["10.0.2.100/24"])
        #expect(try instance(inst.pid, expiring).observed?.ipv4 == ["10.0.2.100/24"])
        let identity = first.identity
        #expect(sh("ip", ["netns", "exec", ns, "ip", "addr", "add", "10.0.2.77/24", "dev", "tap0"]).status == 0)
        // Within the age: the kept answer (the namespace file did not change).
        let kept = try instance(inst.pid, warm)
        #expect(kept.observed?.ipv4 == ["10.0.2.100/24"], "kept: \(kept.observed?.ipv4 ?? [])")
        // The instance on screen is read every time.
        let selected = try instance(inst.pid, inventory(cache, readAlways: [identity]))
        #expect(selected.observed?.ipv4.contains("10.0.2.77/24") == true, "selected: \(selected.observed?.ipv4 ?? [])")
        // Past the age, every instance shows the change.
        var later: [String] = []
        #expect(eventually(20) {
            later = ((try? instance(inst.pid, expiring))?.observed?.ipv4) ?? []
            return later.contains("10.0.2.77/24")
        }, "after the age: \(later)")
    }

    @Test("without forwards, an instance's API socket state is kept for the contact age; the selected one is checked every time")
    func keptContactsExpireAndTheSelectedIsAlwaysChecked() throws {
        let lab = try TestLab("ccon")
        let inst = try lab.start(.init(name: "s"))
        let path = try #require(inst.apiSocket)
        // Two caches, so that no step races a clock (the impostor's first start compiles it): one
        // whose contact age cannot pass during the test, one whose age passes while the test waits.
        let cache = InventoryCache(addressMaxAge: 3600, contactMaxAge: 3600)
        let warm = inventory(cache)
        let expiring = inventory(InventoryCache(addressMaxAge: 3600, contactMaxAge: 1.5))
        let first = try instance(inst.pid, warm)
        #expect(first.socketOwnership == .held)
        #expect(try instance(inst.pid, expiring).socketOwnership == .held)
        // The path now names another process's socket.
        let impostor = try StandInSlirp(mode: .ok, tag: "ccon-\(getpid())", commandName: "impostor-api")
        #expect(rename(path, path + ".orig") == 0)
        #expect(link(impostor.socketPath, path) == 0)
        defer { unlink(path); rename(path + ".orig", path) }
        #expect(try instance(inst.pid, warm).socketOwnership == .held, "kept within the contact age")
        let selected = try instance(inst.pid, inventory(cache, readAlways: [first.identity]))
        #expect(selected.socketOwnership == .notHeld, "the instance on screen is checked every time: \(String(describing: selected.socketOwnership))")
        var later: SlirpInstance?
        #expect(eventually(20) {
            later = try? instance(inst.pid, expiring)
            return later?.socketOwnership == .notHeld
        }, "after the age: \(String(describing: later?.socketOwnership))")
        #expect(later?.forwardBlocker != nil, "and adding forwards is refused")
    }

    @Test("a deleted namespace is noticed at once, not after the age")
    func deletedNamespaceIsReadAgainAtOnce() throws {
        let lab = try TestLab("cdel")
        let inst = try lab.start(.init(name: "d", apiSocket: false))
        let ns = try #require(inst.netnsName)
        let warm = inventory(InventoryCache(addressMaxAge: 3600))
        #expect(try instance(inst.pid, warm).observed != nil)
        #expect(sh("ip", ["netns", "delete", ns]).status == 0)
        let after = try instance(inst.pid, warm)
        #expect(after.observed == nil)
        #expect(after.observeError?.contains("no longer exists") == true, "\(after.observeError ?? "no error")")
    }

    @Test("`list`'s facts kept on disk: the next run reads only stat lines and answers the same; facts of another process with the PID are not used")
    func factsKeptOnDisk() throws {
        let lab = try TestLab("cdisk")
        // No forward at start: a port picked free may be taken by a test running beside this one.
        let a = try lab.start(.init(name: "a"))
        let directory = "/tmp/\(lab.tag)-facts"
        defer { _ = try? Files.directoryEntries(directory).forEach { unlink("\(directory)/\($0)") }; rmdir(directory) }
        let file = ProcessFactsDiskCache(path: "\(directory)/facts", scope: try #require(ProcessFactsDiskCache.currentScope()))
        func listed(_ cache: InventoryCache) throws -> SlirpInstance {
            var options = Inventory.Options(purpose: .scriptedList(forwards: true, cache: cache))
            options.readAddresses = false
            options.readLogs = false
            return try #require(try Inventory(options: options).snapshot().instances.first { $0.pid == a.pid })
        }
        let first = InventoryCache(file: file)
        let fresh = try listed(first)
        first.persist()
        let identity = fresh.identity
        // The next run knows the instance before it scans, and says the same of it.
        let second = InventoryCache(file: file)
        #expect(second.isKept(identity), "the facts were read from the file")
        let cached = try listed(second)
        #expect(cached.process.arguments == fresh.process.arguments && cached.configuration == fresh.configuration)
        #expect(cached.process.socketInodes == fresh.process.socketInodes && cached.process.stdoutTarget == fresh.process.stdoutTarget)
        #expect(cached.process.uid == fresh.process.uid && cached.process.user == fresh.process.user && cached.process.user != nil)
        #expect(cached.socketOwnership == .held && cached.forwards == [], "checked and asked as before: \(String(describing: cached.socketOwnership)) \(cached.forwardsError ?? "")")
        // Facts for the same PID with another start time (a reused PID) are never used.
        let bogus = InventoryCache.ProcessFacts(uid: 4242, user: "bogus", arguments: ["slirp4netns", "--api-socket", "/nonexistent.sock", "1", "tap9"],
                                           configuration: SlirpCommandLine.decode(["slirp4netns", "--api-socket", "/nonexistent.sock", "1", "tap9"]),
                                           containerID: nil, stdoutTarget: nil, stderrTarget: nil, socketInodes: [], readAt: 0)
        file.store([ProcessIdentity(pid: a.pid, startTicks: identity.startTicks + 1): bogus])
        let third = try listed(InventoryCache(file: file))
        #expect(third.process.arguments == fresh.process.arguments && third.process.uid == fresh.process.uid, "read anew: \(third.process.arguments)")
        #expect(third.configuration.apiSocket == a.apiSocket)
    }

    @Test("instances known from kept facts are asked while /proc is scanned, each only through a socket it holds now")
    func knownInstancesAskedDuringTheScan() throws {
        let lab = try TestLab("cearly")
        let a = try lab.start(.init(name: "a"))
        let b = try lab.start(.init(name: "b"))
        var options = Inventory.Options(purpose: .scriptedList(forwards: true, cache: nil))
        options.readAddresses = false
        /// Asks ahead with a fresh cache whose facts of b name a's socket (as if the path had been
        /// replaced): b holds no socket there. Returns the answers and how many requests a received.
        func askAhead() throws -> (known: Inventory.KnownForwards, ia: ProcessIdentity, ib: ProcessIdentity, received: Int) {
            let cache = InventoryCache()
            let scanned = try ProcessScanner(cache: cache).scan()
            let ia = try #require(scanned.first { $0.pid == a.pid }).identity
            let ib = try #require(scanned.first { $0.pid == b.pid }).identity
            let factsB = try #require(cache.facts(ib))
            let claimed = factsB.arguments.map { $0 == b.apiSocket ? a.apiSocket! : $0 }
            cache.keep(InventoryCache.ProcessFacts(uid: factsB.uid, user: factsB.user, arguments: claimed, configuration: SlirpCommandLine.decode(claimed),
                                                   containerID: nil, stdoutTarget: factsB.stdoutTarget, stderrTarget: factsB.stderrTarget,
                                                   socketInodes: factsB.socketInodes, readAt: factsB.readAt), for: ib)
            options.purpose = .scriptedList(forwards: true, cache: cache)
            let before = apiRequests(pid: a.pid).count
            let known = try #require(Inventory(options: options).askKnownForwards(listeners: ListeningSockets.now())).wait()
            _ = eventually(2) { apiRequests(pid: a.pid).count > before }
            usleep(300_000)
            return (known, ia, ib, apiRequests(pid: a.pid).count - before)
        }
        // A monitor or `list` of a test beside this one asks each instance when it first sees it: a
        // run during which a received a request of theirs too is run again (ours alone is one).
        var run = try askAhead()
        for _ in 0..<3 where run.received != 1 { run = try askAhead() }
        let (known, ia, ib) = (run.known, run.ia, run.ib)
        #expect(known[ia]?.path == a.apiSocket)
        #expect((try? known[ia]?.result.get()) == [], "a answered (no forwards): \(String(describing: known[ia]?.result))")
        #expect(known[ib] == nil, "b does not hold a's socket: it is not asked through it")
        #expect(run.received == 1, "a received one request: \(run.received)")
        // Without listing forwards, or without kept facts, nothing is asked ahead.
        options.purpose = .scriptedList(forwards: false, cache: options.purpose.cache)
        #expect(Inventory(options: options).askKnownForwards(listeners: nil) == nil)
        options.purpose = .scriptedList(forwards: true, cache: nil)
        #expect(Inventory(options: options).askKnownForwards(listeners: nil) == nil)
    }
    @Test("a forward list is used again while the instance's log shows no request since; a change by another client, or a stopped instance, means asking")
    func forwardListsProvenByTheLog() throws {
        let lab = try TestLab("cproof")
        let a = try lab.start(.init(name: "a"))
        let cache = InventoryCache()
        var options = Inventory.Options(purpose: .scriptedList(forwards: true, cache: cache))
        options.readAddresses = false
        options.readLogs = false
        options.apiTimeout = 1
        func listed() throws -> SlirpInstance {
            try #require(try Inventory(options: options).snapshot().instances.first { $0.pid == a.pid })
        }
        let first = try listed()
        #expect(first.forwards == [], "asked: \(first.forwardsError ?? "")")
        // (A monitor beside this test may ask the instance when it first sees it, between our request
        // and the proof: then the proof fails, and the next run asks again; retried.)
        #expect(eventually(10) {
            (try? listed().forwards) == [] && cache.forwards(first.identity)?.mark == RequestAudit.mark(pid: a.pid)
        }, "kept with the log's mark after the answer")
        // The next run asks nothing while the log stays so. (A `list` of a test running beside
        // this one may ask the instance meanwhile: the log moved, so it is asked again; retried.)
        #expect(eventually(10) {
            let before = apiRequests(pid: a.pid).count
            return (try? listed().forwards) == [] && apiRequests(pid: a.pid).count == before
        }, "a run that sent no request")

        // Another client adds a forward, then removes it: each next run asks and sees it.
        let client = APIClient(socketPath: try #require(a.apiSocket), expectedPID: a.pid)
        var id: Int?
        for _ in 0..<5 where id == nil { // a port picked free may be taken by a test beside this one
            id = try? client.add(ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: try DemoFleet.freeTCPPort(), guestPort: Port(80)!))
        }
        let added = try #require(id)
        #expect(try listed().forwards?.map(\.id) == [added], "the added forward is listed")
        #expect(try listed().forwards?.map(\.id) == [added], "and still, from the kept list")
        try client.remove(id: added)
        #expect(try listed().forwards == [], "the removed forward is gone")

        // A stopped instance is asked (and does not answer) instead of shown as if it did.
        kill(a.pid, SIGSTOP)
        defer { kill(a.pid, SIGCONT) }
        #expect(eventually { ProcessScanner().process(pid: a.pid)?.state == "T" }, "SIGSTOP takes effect")
        let stopped = try listed()
        #expect(stopped.forwards == nil && stopped.forwardsError != nil, "\(String(describing: stopped.forwards))")
        kill(a.pid, SIGCONT)
        #expect(eventually { (try? listed().forwards) == [] }, "answers again once continued")
    }
}
