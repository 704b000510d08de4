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
        #expect(later.key == fresh.key)
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
