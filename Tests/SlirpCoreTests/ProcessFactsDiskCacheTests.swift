import Foundation
import Glibc
@testable import SlirpCore
import Testing

@Suite("Process facts kept on disk between runs of `slirpmon list`")
struct ProcessFactsDiskCacheTests {
    let directory = "/tmp/slirpmon-facts-test-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
    let scope = Array("slirpmon-process-facts 1 boot 1700000000.0 pid:[4026531836]\n".utf8)

    func facts(_ arguments: [String], uid: UInt32? = 1000, container: String? = nil, stdout: String? = "/tmp/log (deleted)",
               stderr: String? = nil, inodes: Set<UInt64>? = [7, 123456789012]) -> InventoryCache.ProcessFacts {
        InventoryCache.ProcessFacts(uid: uid, user: nil, arguments: arguments, configuration: SlirpCommandLine.decode(arguments),
                                    containerID: container, stdoutTarget: stdout, stderrTarget: stderr, socketInodes: inodes)
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

    func decoded(_ bytes: [UInt8]) -> [ProcessIdentity: InventoryCache.ProcessFacts]? {
        var names = UserNameCache()
        return ProcessFactsDiskCache.decode(bytes, scope: scope, names: &names)
    }

    func same(_ a: InventoryCache.ProcessFacts?, _ b: InventoryCache.ProcessFacts?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.uid == b.uid && a.arguments == b.arguments && a.configuration == b.configuration && a.containerID == b.containerID
            && a.stdoutTarget == b.stdoutTarget && a.stderrTarget == b.stderrTarget && a.socketInodes == b.socketInodes
    }

    @Test("what is written is read back exactly: words, absent and empty values, inode sets")
    func roundTrip() throws {
        let bytes = ProcessFactsDiskCache.encode(sample, scope: scope)
        let back = try #require(decoded(bytes))
        #expect(Set(back.keys) == Set(sample.keys))
        for (identity, f) in sample { #expect(same(back[identity], f), "\(identity)") }
        // The configuration is decoded again from the words, as a fresh read would.
        #expect(back[ProcessIdentity(pid: 41, startTicks: 5)]?.configuration.apiSocket == "/run/a b.sock")
        #expect(back[ProcessIdentity(pid: 7, startTicks: 0)]?.user == "root", "user names are looked up on reading")
    }

    @Test("another boot or PID namespace, or another format, is not trusted at all")
    func otherScope() {
        let bytes = ProcessFactsDiskCache.encode(sample, scope: scope)
        var names = UserNameCache()
        let otherBoot = Array("slirpmon-process-facts 1 boot 1700000001.0 pid:[4026531836]\n".utf8)
        #expect(ProcessFactsDiskCache.decode(bytes, scope: otherBoot, names: &names) == nil)
        #expect(decoded(Array("{\"containers\":[]}".utf8)) == nil)
        #expect(decoded([]) == nil)
    }

    @Test("a file cut anywhere or with a bad field gives nothing wrong: nil, or whole records only")
    func damaged() throws {
        let bytes = ProcessFactsDiskCache.encode(sample, scope: scope)
        for end in scope.count..<bytes.count {
            guard let partial = decoded(Array(bytes[..<end])) else { continue }
            for (identity, f) in partial { #expect(same(f, sample[identity]), "cut at \(end): \(identity) differs") }
        }
        // A count beyond the file, a number that overflows, an optional without its marker.
        for bad in ["1\u{0}2\u{0}=0\u{0}99999999999\u{0}", "1\u{0}99999999999999999999999\u{0}", "1\u{0}2\u{0}0\u{0}0\u{0}"] {
            #expect(decoded(scope + Array(bad.utf8)) == nil, "\(bad.debugDescription)")
        }
    }

    @Test("the file is kept private: another's or a group-readable file is ignored, a link is not followed")
    func privateOnly() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let cache = ProcessFactsDiskCache(path: "\(directory)/facts", scope: scope)
        cache.store(sample)
        var st = stat()
        #expect(stat("\(directory)/facts", &st) == 0 && st.st_mode & 0o777 == 0o600)
        var names = UserNameCache()
        #expect(cache.load(names: &names).count == 3)
        chmod("\(directory)/facts", 0o640)
        #expect(cache.load(names: &names).isEmpty, "group-readable: ignored")
        chmod("\(directory)/facts", 0o600)
        symlink("\(directory)/facts", "\(directory)/link")
        #expect(ProcessFactsDiskCache(path: "\(directory)/link", scope: scope).load(names: &names).isEmpty, "a link: not followed")
        chown("\(directory)/facts", 65534, 65534)
        #expect(cache.load(names: &names).isEmpty, "someone else's file: ignored")
        // A directory others may write to is not written into.
        let open = "\(directory)/open"
        mkdir(open, 0o777)
        chmod(open, 0o777)
        ProcessFactsDiskCache(path: "\(open)/facts", scope: scope).store(sample)
        #expect(!Files.exists("\(open)/facts"))
    }

    @Test("persist() writes only when the processes known changed since they were read")
    func persistsChangesOnly() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let file = ProcessFactsDiskCache(path: "\(directory)/facts", scope: scope)
        file.store(sample)
        let written = try Files.status("\(directory)/facts").st_mtim
        usleep(20_000)
        let cache = InventoryCache(file: file)
        #expect(cache.counts.processes == 3)
        cache.persist()
        #expect(try Files.status("\(directory)/facts").st_mtim.tv_nsec == written.tv_nsec, "unchanged: not rewritten")
        cache.retain(only: [ProcessIdentity(pid: 41, startTicks: 5)])
        cache.persist()
        var names = UserNameCache()
        #expect(Set(file.load(names: &names).keys) == [ProcessIdentity(pid: 41, startTicks: 5)], "the gone processes are dropped from the file")
    }
}
