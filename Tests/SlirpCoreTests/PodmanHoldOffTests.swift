import Foundation
import Glibc
@testable import SlirpCore
import Testing

/// A user's Podman that failed is not asked again for a minute, unless what the failure
/// depends on changed; the failure says when it happened and until when it holds.
@Suite("A failed Podman remembered, not asked again for a while")
struct PodmanHoldOffTests {
    func privateDirectory() -> String {
        let directory = "/tmp/slirpmon-holdoff-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        mkdir(directory, 0o700)
        return directory
    }

    @Test("a failure holds for its period under the same key only, and says when and until when")
    func holds() {
        var memory = PodmanHoldOff(path: nil)
        let failure = memory.remember(uid: 1234, reason: "alice's podman did not answer within 10 s\n(storage locked?)", key: "k1", now: 1000)
        #expect(failure.reason == "alice's podman did not answer within 10 s (storage locked?)", "one line")
        #expect(memory.held(uid: 1234, key: "k1", now: 1030) == failure)
        #expect(memory.held(uid: 1234, key: "k2", now: 1030) == nil, "its Podman's files changed: asked again")
        #expect(memory.held(uid: 1234, key: "k1", now: 1000 + PodmanHoldOff.period) == nil, "the period is over")
        #expect(memory.held(uid: 99, key: "k1", now: 1030) == nil)
        let message = failure.message
        #expect(message.hasPrefix("alice's podman did not answer within 10 s (storage locked?) at "))
        #expect(message.contains("; not asked again until \(PodmanHoldOff.Failure.clock(1060))"))
        memory.forget(uid: 1234)
        #expect(memory.held(uid: 1234, key: "k1", now: 1030) == nil)
    }

    @Test("the next run reads it from its private file; a file anyone else could write is ignored")
    func kept() throws {
        let directory = privateDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/podman-failures"
        var memory = PodmanHoldOff(path: path)
        let now = PodmanHoldOff.now()
        let failure = memory.remember(uid: 1234, reason: "bob's podman failed: Error: x\ty", key: "k", now: now)
        #expect(PodmanHoldOff(path: path).held(uid: 1234, key: "k", now: now + 1) == failure)
        chmod(path, 0o644)
        #expect(PodmanHoldOff(path: path).held(uid: 1234, key: "k", now: now + 1) == nil)
        chmod(path, 0o600)
        memory.forget(uid: 1234)
        #expect(PodmanHoldOff(path: path).failures.isEmpty)
    }

    @Test("the key changes with the user's containers.conf")
    func keyFollowsConfiguration() throws {
        let home = privateDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: home) }
        // Root's own Podman: the file CONTAINERS_CONF names is part of the key.
        let conf = "\(home)/containers.conf"
        try Files.write("[engine]\n", to: conf)
        let before = PodmanHoldOff.key(binary: "/usr/bin/podman", user: nil, environment: ["CONTAINERS_CONF": conf])
        #expect(PodmanHoldOff.key(binary: "/usr/bin/podman", user: nil, environment: ["CONTAINERS_CONF": conf]) == before)
        try Files.write("[engine]\nruntime = \"runc\"\n", to: conf)
        #expect(PodmanHoldOff.key(binary: "/usr/bin/podman", user: nil, environment: ["CONTAINERS_CONF": conf]) != before)
    }
}
