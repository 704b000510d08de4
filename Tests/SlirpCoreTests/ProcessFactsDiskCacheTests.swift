import Foundation
import Glibc
@testable import SlirpCore
import Testing

@Suite("Process facts kept on disk between runs of `slirpmon list`")
struct ProcessFactsDiskCacheTests {
    let directory = "/tmp/slirpmon-facts-test-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
    let scope = Array("slirpmon-process-facts 2 boot 1700000000.0 pid:[4026531836]\n".utf8)

    func facts(_ arguments: [String], uid: UInt32? = 1000, container: String? = nil, stdout: String? = "/tmp/log (deleted)",
               stderr: String? = nil, inodes: Set<UInt64>? = [7, 123456789012]) -> InventoryCache.ProcessFacts {
        InventoryCache.ProcessFacts(uid: uid, user: nil, arguments: arguments, configuration: SlirpCommandLine.decode(arguments),
                                    containerID: container, stdoutTarget: stdout, stderrTarget: stderr, socketInodes: inodes, readAt: 1_795_952_912)
    }

    var sample: [ProcessIdentity: InventoryCache.ProcessFacts] {
        [
            ProcessIdentity(pid: 41, startTicks: 5): facts(["slirp4netns", "--configure", "--mtu=65520", "--api-socket", "/run/a b.sock", "4242", "tap0"],
                                                           container: String(repeating: "c", count: 64)),
            // Every optional absent, words with what a line-based format would break on.
            ProcessIdentity(pid: 2_000_000, startTicks: UInt64.max): facts(["slirp4netns", "", "--cidr=10.9.0.0/24", "line\nbreak", "=x", "é \t", "tap0"],
                                                                           uid: nil, stdout: nil, inodes: nil),
            ProcessIdentity(pid: 7, startTicks: 0): facts(["slirp4netns"], uid: 0, stdout: "", stderr: "=starts with =", inodes: []),
        ]
    }

    /// Forward lists for two of the sample's processes: one empty, one with odd but valid values.
    var sampleForwards: [ProcessIdentity: InventoryCache.KeptForwards] {
        let mark = RequestAudit.Mark(device: 64768, inode: 123456789, size: 66, changedSeconds: 1_795_952_912, changedNanoseconds: 150_052_079)
        return [
            ProcessIdentity(pid: 41, startTicks: 5): InventoryCache.KeptForwards(path: "/run/a b.sock", mark: mark, forwards: [
                HostForward(id: 1, proto: .tcp, hostAddr: "0.0.0.0", hostPort: 8080, guestAddr: "10.0.2.100", guestPort: 80),
                HostForward(id: 2_000_000, proto: .udp, hostAddr: "127.0.0.1", hostPort: 65535, guestAddr: "10.99.128.100", guestPort: 1),
            ]),
            ProcessIdentity(pid: 7, startTicks: 0): InventoryCache.KeptForwards(path: "/x", mark: RequestAudit.Mark(
                device: 0, inode: 0, size: 0, changedSeconds: 0, changedNanoseconds: 0), forwards: []),
        ]
    }

    /// Proven containers for two of the sample's processes: a pod's infra container, and one whose name holds what a line would break on.
    var sampleJoins: [ProcessIdentity: InventoryCache.ProvenContainer] {
        [
            ProcessIdentity(pid: 41, startTicks: 5): .init(id: String(repeating: "c", count: 64), name: "web-infra", podName: "web", isInfra: true),
            ProcessIdentity(pid: 7, startTicks: 0): .init(id: "ab", name: "a \"b\"\nc", podName: nil, isInfra: false),
        ]
    }

    func decoded(_ bytes: [UInt8]) -> [ProcessIdentity: InventoryCache.ProcessFacts]? {
        decodedWhole(bytes)?.facts
    }

    func decodedWhole(_ bytes: [UInt8]) -> ProcessFactsDiskCache.Kept? {
        var names = UserNameCache()
        return ProcessFactsDiskCache.decode(bytes, scope: scope, names: &names)
    }

    func same(_ a: InventoryCache.ProcessFacts?, _ b: InventoryCache.ProcessFacts?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.uid == b.uid && a.arguments == b.arguments && a.configuration == b.configuration && a.containerID == b.containerID
            && a.stdoutTarget == b.stdoutTarget && a.stderrTarget == b.stderrTarget && a.socketInodes == b.socketInodes && a.readAt == b.readAt
    }

    @Test("what is written is read back exactly: words, absent and empty values, inode sets, forward lists, proven containers")
    func roundTrip() throws {
        let bytes = try #require(ProcessFactsDiskCache.encode(sample, forwards: sampleForwards, joins: sampleJoins, scope: scope))
        let whole = try #require(decodedWhole(bytes))
        #expect(whole.forwards == sampleForwards)
        #expect(whole.joins == sampleJoins)
        let back = whole.facts
        #expect(Set(back.keys) == Set(sample.keys))
        for (identity, f) in sample { #expect(same(back[identity], f), "\(identity)") }
        // The configuration is decoded again from the words, as a fresh read would.
        #expect(back[ProcessIdentity(pid: 41, startTicks: 5)]?.configuration.apiSocket == "/run/a b.sock")
        #expect(back[ProcessIdentity(pid: 7, startTicks: 0)]?.user == "root", "user names are looked up on reading")
    }

    @Test("another boot or PID namespace, or another format, is not trusted at all")
    func otherScope() throws {
        let bytes = try #require(ProcessFactsDiskCache.encode(sample, scope: scope))
        var names = UserNameCache()
        let otherBoot = Array("slirpmon-process-facts 2 boot 1700000001.0 pid:[4026531836]\n".utf8)
        #expect(ProcessFactsDiskCache.decode(bytes, scope: otherBoot, names: &names) == nil)
        #expect(decoded(Array("{\"containers\":[]}".utf8)) == nil)
        #expect(decoded([]) == nil)
    }

    @Test("a forward whose address holds a NUL (a hostile API reply) is not kept: it would end its field early and forge the fields after it")
    func nulRefused() {
        let identity = ProcessIdentity(pid: 41, startTicks: 5)
        var forwards = sampleForwards
        let mark = RequestAudit.Mark(device: 1, inode: 2, size: 3, changedSeconds: 4, changedNanoseconds: 5)
        forwards[identity] = InventoryCache.KeptForwards(path: "/run/a b.sock", mark: mark, forwards: [
            HostForward(id: 1, proto: .tcp, hostAddr: "0.0.0.0\u{0}9\u{0}udp", hostPort: 8080, guestAddr: "10.0.2.100", guestPort: 80),
        ])
        #expect(ProcessFactsDiskCache.encode(sample, forwards: forwards, scope: scope) == nil)
        let store = ProcessFactsDiskCache(path: directory + "/facts", scope: scope)
        mkdir(directory, 0o700)
        defer { unlink(directory + "/facts"); rmdir(directory) }
        store.store(sample, forwards: forwards)
        #expect(!Files.exists(directory + "/facts"), "nothing written")
    }

    @Test("a file cut anywhere or with a bad field gives nothing wrong: nil, or whole records only")
    func damaged() throws {
        let bytes = try #require(ProcessFactsDiskCache.encode(sample, forwards: sampleForwards, joins: sampleJoins, scope: scope))
        for end in scope.count..<bytes.count {
            guard let partial = decodedWhole(Array(bytes[..<end])) else { continue }
            for (identity, f) in partial.facts { #expect(same(f, sample[identity]), "cut at \(end): \(identity) differs") }
            for (identity, kept) in partial.forwards { #expect(kept == sampleForwards[identity], "cut at \(end): \(identity)'s forwards differ") }
            for (identity, join) in partial.joins { #expect(join == sampleJoins[identity], "cut at \(end): \(identity)'s container differs") }
        }
        // A forward with an unknown protocol or a port that is no number.
        let good = try #require(ProcessFactsDiskCache.encode([ProcessIdentity(pid: 41, startTicks: 5): sample[ProcessIdentity(pid: 41, startTicks: 5)]!],
                                                             forwards: sampleForwards, scope: scope))
        #expect(decodedWhole(good)?.forwards.count == 1)
        for (from, to) in [("\u{0}udp\u{0}", "\u{0}sctp\u{0}"), ("\u{0}65535\u{0}", "\u{0}6553x\u{0}")] {
            let text = String(decoding: good, as: UTF8.self).replacingOccurrences(of: from, with: to)
            #expect(decodedWhole(Array(text.utf8)) == nil, "\(from) as \(to)")
        }
        // A count beyond the file, a number that overflows, an optional without its marker.
        for bad in ["1\u{0}2\u{0}=0\u{0}99999999999\u{0}", "1\u{0}99999999999999999999999\u{0}", "1\u{0}2\u{0}0\u{0}0\u{0}"] {
            #expect(decoded(scope + Array(bad.utf8)) == nil, "\(bad.debugDescription)")
        }
    }

    @Test("a cache kept between pages (slirpmon serve) writes the file again only when what it keeps changed, not on every page")
    func keptCacheWritesOnlyChanges() throws {
        mkdir(directory, 0o700)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/facts"
        let cache = InventoryCache(addressMaxAge: 30, file: ProcessFactsDiskCache(path: path, scope: scope))
        let entries = Array(sample)
        cache.keep(entries[0].value, for: entries[0].key)
        cache.persist()
        #expect(Files.exists(path), "a new process: written")
        unlink(path)
        cache.persist()
        #expect(!Files.exists(path), "nothing changed since: written again")
        cache.keep(entries[1].value, for: entries[1].key)
        cache.persist()
        #expect(Files.exists(path), "another process: written")
    }

    @Test("the file is kept private: another's or a group-readable file is ignored, a link is not followed")
    func privateOnly() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let cache = ProcessFactsDiskCache(path: "\(directory)/facts", scope: scope)
        cache.store(sample)
        var st = stat()
        #expect(stat("\(directory)/facts", &st) == 0 && st.st_mode & 0o777 == 0o600)
        var names = UserNameCache()
        #expect(cache.load(names: &names).facts.count == 3)
        chmod("\(directory)/facts", 0o640)
        #expect(cache.load(names: &names).facts.isEmpty, "group-readable: ignored")
        chmod("\(directory)/facts", 0o600)
        symlink("\(directory)/facts", "\(directory)/link")
        #expect(ProcessFactsDiskCache(path: "\(directory)/link", scope: scope).load(names: &names).facts.isEmpty, "a link: not followed")
        chown("\(directory)/facts", 65534, 65534)
        #expect(cache.load(names: &names).facts.isEmpty, "someone else's file: ignored")
        // A directory others may write to is not written into.
        let open = "\(directory)/open"
        mkdir(open, 0o777)
        chmod(open, 0o777)
        ProcessFactsDiskCache(path: "\(open)/facts", scope: scope).store(sample)
        #expect(!Files.exists("\(open)/facts"))
    }

    @Test("persist() writes only when the processes known or their forward lists changed since they were read")
    func persistsChangesOnly() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let file = ProcessFactsDiskCache(path: "\(directory)/facts", scope: scope)
        file.store(sample, forwards: sampleForwards)
        let written = try Files.status("\(directory)/facts").st_mtim
        usleep(20_000)
        let cache = InventoryCache(file: file)
        #expect(cache.counts.processes == 3)
        let a = ProcessIdentity(pid: 41, startTicks: 5)
        #expect(cache.forwards(a) == sampleForwards[a])
        cache.keepForwards(sampleForwards[a], for: a) // the same again
        cache.persist()
        #expect(try Files.status("\(directory)/facts").st_mtim.tv_nsec == written.tv_nsec, "unchanged: not rewritten")
        cache.keepForwards(nil, for: ProcessIdentity(pid: 7, startTicks: 0))
        cache.persist()
        var names = UserNameCache()
        #expect(file.load(names: &names).forwards == [a: sampleForwards[a]!], "a forgotten list is gone from the file")
        cache.retain(only: [a])
        cache.persist()
        let left = file.load(names: &names)
        #expect(Set(left.facts.keys) == [a], "the gone processes are dropped from the file")
        #expect(left.forwards == [a: sampleForwards[a]!])
    }
}
