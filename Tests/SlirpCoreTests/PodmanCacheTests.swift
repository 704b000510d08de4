import Foundation
import Glibc
@testable import SlirpCore
import Testing

@Suite("Podman's answer kept on disk, and the storage check that skips Podman")
struct PodmanCacheTests {
    let directory = "/tmp/slirpmon-cache-test-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"

    func container(_ name: String) -> PodmanContainer {
        PodmanContainer(id: String(repeating: "a", count: 64), name: name, image: "bb", state: "created", pid: 0, podID: nil, podName: nil,
                        isInfra: false, ports: [], createCommand: ["podman", "run", "--network", "slirp4netns:mtu=65530"],
                        networkMode: "slirp4netns", ownerUID: 0, ownerName: "root")
    }

    @Test("a stored answer is reused for the same key only, and only while fresh")
    func reuse() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let cache = PodmanDiskCache(path: "\(directory)/podman.json", maxAge: 5)
        #expect(cache.load(key: "k") == nil)
        cache.store(key: "k", containers: [container("failed-one")])
        #expect(cache.load(key: "k")?.map(\.name) == ["failed-one"])
        #expect(cache.load(key: "other processes") == nil)
        let stale = PodmanDiskCache(path: "\(directory)/podman.json", maxAge: 0)
        #expect(stale.load(key: "k") == nil)
        // "Nobody has containers" is kept too, and read without decoding any JSON.
        cache.store(key: "multi\nline key with ünïcode", containers: [])
        #expect(cache.load(key: "multi\nline key with ünïcode") == [])
        #expect(cache.load(key: "multi\nline key with ünïcod") == nil, "a key that is a prefix of the stored one")
    }

    @Test("a file of the former format (one JSON object) or a damaged one is not used")
    func otherFormats() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let cache = PodmanDiskCache(path: "\(directory)/podman.json", maxAge: 5)
        cache.store(key: "k", containers: [container("c")])
        let good = try Files.readBytes("\(directory)/podman.json")
        func load(_ bytes: [UInt8]) -> [PodmanContainer]? {
            PrivateFile.write(bytes, to: "\(directory)/podman.json")
            return cache.load(key: "k")
        }
        #expect(load(good)?.map(\.name) == ["c"])
        let former = #"{"containers":[],"key":"k","writtenAt":\#(Date().timeIntervalSince1970)}"#
        #expect(load(Array(former.utf8)) == nil)
        for end in 0..<good.count { #expect(load(Array(good[..<end])) == nil, "cut at \(end)") }
    }

    @Test("a state file written a moment ago leaves the key unsettled (not kept); a later write changes the key")
    func unsettledKey() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let root = "\(directory)/graph"
        mkdir(directory, 0o700)
        try Files.write("[storage]\ngraphroot = \"\(root)\"\n", to: "\(directory)/storage.conf")
        mkdir(root, 0o700)
        mkdir("\(root)/libpod", 0o700)
        let environment = ["CONTAINERS_STORAGE_CONF": "\(directory)/storage.conf"]
        func state() -> (key: String, settled: Bool) {
            PodmanDiskCache.state(binary: "/usr/bin/podman", processes: [], users: [nil], environment: environment)
        }
        try Files.write("one", to: "\(root)/libpod/db.sql")
        let fresh = state()
        #expect(!fresh.settled, "just written: an answer under this key must not be kept")
        #expect(fresh.key.contains("\(root)/libpod/db.sql"))
        usleep(300_000)
        let later = state()
        // Our storage's part of the key (the host's own Podman, which other tests use meanwhile, is in it too).
        func ours(_ key: String) -> [Substring] { key.split(separator: "\n").filter { $0.contains(directory) } }
        #expect(ours(later.key) == ours(fresh.key) && !ours(later.key).isEmpty)
        // The host's own storage is part of root's key too: settled only if no other Podman wrote it just now.
        let hostWrites = ["/var/lib/containers/storage/libpod/bolt_state.db", "/var/lib/containers/storage/libpod/db.sql"]
            .compactMap { try? Files.status($0) }.map { Double($0.st_mtim.tv_sec) + Double($0.st_mtim.tv_nsec) / 1e9 }
        if hostWrites.allSatisfy({ Date().timeIntervalSince1970 - $0 > 1 }) {
            #expect(later.settled, "a quarter second later the key is settled")
        }
        try Files.write("two, longer", to: "\(root)/libpod/db.sql")
        #expect(state().key != later.key, "the next write changes the key")
    }

    @Test("a cache file others can write is ignored")
    func privateOnly() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let cache = PodmanDiskCache(path: "\(directory)/podman.json", maxAge: 5)
        cache.store(key: "k", containers: [container("c")])
        chmod("\(directory)/podman.json", 0o666)
        #expect(cache.load(key: "k") == nil)
    }

    @Test("empty container storage means Podman has nothing to say; any record means ask")
    func storageCheck() throws {
        let home = directory + "/home"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let env: [String: String] = [:]
        #expect(PodmanStorage.mayHaveContainers(home: home, environment: env) == false, "no storage at all")
        let records = "\(home)/.local/share/containers/storage/vfs-containers"
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        try "[]".write(toFile: "\(records)/containers.json", atomically: true, encoding: .utf8)
        #expect(PodmanStorage.mayHaveContainers(home: home, environment: env) == false, "an empty list")
        try #"[{"id":"18a1f0140e88","names":["web"]}]"#.write(toFile: "\(records)/containers.json", atomically: true, encoding: .utf8)
        #expect(PodmanStorage.mayHaveContainers(home: home, environment: env) == true, "a created (maybe failed) container")
    }
}

@Suite("/etc/passwd read as text")
struct PasswdFileTests {
    @Test("well-formed entries only: comments, blank and short lines skipped; a gecos with spaces kept whole")
    func entries() throws {
        let path = "/tmp/slirpmon-passwd-\(getpid())"
        defer { unlink(path) }
        try Files.write("""
        root:x:0:0:root:/root:/bin/bash
        # a comment:x:1:1::/:/bin/sh

        alice:x:1001:1001:Alice A,,,:/home/alice:/bin/bash
        short:x:1002
        bob:x:notanumber:1:::
        :x:1003:1003::/home/nobody:/bin/sh
        carol:x:1004:1004::/home/carol:
        """, to: path)
        #expect(PasswdFile.entries(path) == [
            .init(name: "root", uid: 0, gid: 0, home: "/root"),
            .init(name: "alice", uid: 1001, gid: 1001, home: "/home/alice"),
            .init(name: "carol", uid: 1004, gid: 1004, home: "/home/carol"),
        ])
        #expect(PasswdFile.entries("/nonexistent-\(getpid())").isEmpty)
    }

    @Test("as root, the users asked besides the running ones are those of the passwd file with rootless storage, named by it",
          .enabled(if: geteuid() == 0, "needs root: a user is asked only about themself"))
    func usersWithStorage() throws {
        let directory = "/tmp/slirpmon-users-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: "\(directory)/zed/.local/share/containers/storage", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(directory)/sys/.local/share/containers/storage", withIntermediateDirectories: true)
        try Files.write("""
        zed:x:54321:54321::\(directory)/zed:/bin/sh
        nostore:x:54322:54322::\(directory)/none:/bin/sh
        sys:x:999:999::\(directory)/sys:/usr/sbin/nologin
        """, to: "\(directory)/passwd")
        let users = PodmanCatalog.usersToAsk(processes: [], entries: PasswdFile.entries("\(directory)/passwd"))
        #expect(users.first! == nil, "the current user first")
        #expect(users.compactMap { $0 }.map(\.uid) == [54321], "\(users)")
        #expect(users.compactMap { $0 }.first?.name == "zed")
    }

    @Test("users by uid and name: the passwd file first; what it lacks is asked of getent (NSS in a child), not of NSS in-process")
    func lookups() {
        #expect(UserNames.name(of: 0) == "root")
        #expect(UserNames.home(of: 0) == "/root")
        #expect(UserNames.home(named: "root") == "/root")
        // Unknown to every source: nil, twice (the second answer is the kept one).
        #expect(UserNames.name(of: 3_999_999) == nil)
        #expect(UserNames.name(of: 3_999_999) == nil)
        #expect(UserNames.home(named: "no-such-user-\(getpid())") == nil)
        // getent prints passwd lines.
        #expect(PasswdFile.parse(Array("dir:*:70001:70001:A Directory User:/home/dir:/bin/bash\n".utf8)) == [.init(name: "dir", uid: 70001, gid: 70001, home: "/home/dir")])
    }
}

