import Foundation
import Glibc
@testable import SlirpCore
import Testing

/// Kept facts (`Caching/`): a value used again only under the key that proves it, in memory and
/// in the one file format (`KeptFile`), which a text from a user's Podman cannot forge.
@Suite("Kept facts and their files")
struct KeptTests {
    let directory = "/tmp/slirpmon-kept-test-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"

    @Test("a kept fact is used under its own key only, and only while younger than its age")
    func keyAndAge() {
        let kept = Kept("answer", key: "k", readAt: 100)
        #expect(kept.value(provenBy: "k", now: 104, maxAge: 5) == "answer")
        #expect(kept.value(provenBy: "other", now: 104, maxAge: 5) == nil, "another key proves nothing")
        #expect(kept.value(provenBy: "k", now: 105, maxAge: 5) == nil, "too old")
        #expect(kept.value(provenBy: "k", now: 99, maxAge: 5) == nil, "a clock gone back is not young")
        #expect(kept.value(now: 104, maxAge: 5) == "answer")
    }

    @Test("Podman's kept answer gives back every field of every container")
    func podmanRoundTrip() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let cache = PodmanDiskCache(path: "\(directory)/podman-answer", maxAge: 5)
        let containers = [
            PodmanContainer(id: String(repeating: "b", count: 64), name: "web", image: "localhost/bb:latest", state: "running", pid: 4242,
                            podID: "p0d", podName: "pod-a", isInfra: true,
                            ports: [PodmanPort(hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80, range: 3, proto: "tcp"),
                                    PodmanPort(hostIP: "", hostPort: 0, containerPort: -1, range: 1, proto: "udp")],
                            createCommand: ["podman", "run", "", "--name=ünïcode ✓"], networkMode: "slirp4netns", ownerUID: 1002,
                            ownerName: nil, sandboxKey: "/run/user/1002/netns/netns-x"),
            PodmanContainer(id: "c", name: "", image: "", state: "exited", pid: -7, podID: nil, podName: nil, isInfra: false, ports: [],
                            createCommand: [], networkMode: "container:b", ownerUID: 0, ownerName: "root", sandboxKey: nil),
        ]
        cache.store(key: "k", containers: containers)
        #expect(cache.load(key: "k") == containers)
    }

    @Test("a container name holding a NUL is not kept: it would end its field early and forge the fields after it")
    func nulIsNotKept() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/podman-answer"
        let cache = PodmanDiskCache(path: path, maxAge: 5)
        // After the NUL: what the rest of the record would read as (state, pid, pod, ..., owner uid 0).
        let forged = "x\u{0}running\u{0}1\u{0}\u{0}\u{0}1\u{0}0\u{0}0\u{0}slirp4netns\u{0}0\u{0}=root\u{0}\u{0}"
        let container = PodmanContainer(id: "a", name: forged, image: "bb", state: "created", pid: 0, podID: nil, podName: nil,
                                        isInfra: false, ports: [], createCommand: [], networkMode: "slirp4netns", ownerUID: 1002, ownerName: "eve")
        // The same container without the NUL is written: what keeps the file out is the NUL alone.
        var clean = container
        clean.name = "x"
        PodmanDiskCache(path: "\(directory)/podman-clean", maxAge: 5).store(key: "k", containers: [clean])
        #expect(Files.exists("\(directory)/podman-clean"))
        cache.store(key: "k", containers: [container])
        #expect(!Files.exists(path), "nothing is written")
        #expect(cache.load(key: "k") == nil)
    }

    @Test("a remembered Podman failure is read back by the next run, its reason one field")
    func holdOffRoundTrip() throws {
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/podman-failures"
        var memory = PodmanHoldOff(path: path)
        let now = PodmanHoldOff.now()
        let failure = memory.remember(uid: 1002, reason: "eve's podman failed: a\u{0}b\tc\nd", key: "k", now: now)
        #expect(failure.reason == "eve's podman failed: a b c d")
        #expect(PodmanHoldOff(path: path).held(uid: 1002, key: "k", now: now + 1) == failure)
    }
}

/// `@NullWhenAbsent`: the one way the `--json` shapes say "unknown" (`null`, the key kept).
@Suite("Absent prints null")
struct NullWhenAbsentTests {
    struct Shape: Codable, Equatable {
        @NullWhenAbsent var name: String?
        @NullWhenAbsent var count: Int?
        @NullWhenAbsent var uid: UInt32?
        @NullWhenAbsent var nested: [String]?
        var detail: String?
    }

    @Test("a wrapped nil is written as null with its key, a plain nil optional is left out; present values as they are")
    func written() throws {
        let absent = String(decoding: try JSONText.encode(Shape(name: nil, count: nil, uid: nil, nested: nil, detail: nil), pretty: false), as: UTF8.self)
        #expect(absent == #"{"count":null,"name":null,"nested":null,"uid":null}"#)
        let present = String(decoding: try JSONText.encode(Shape(name: "a", count: 1, uid: 2, nested: ["x"], detail: "d"), pretty: false), as: UTF8.self)
        #expect(present == #"{"count":1,"detail":"d","name":"a","nested":["x"],"uid":2}"#)
    }

    @Test("Foundation's encoder writes the same nulls, and a missing key or null reads back as nil")
    func foundation() throws {
        let shape = Shape(name: nil, count: 3, uid: nil, nested: nil, detail: nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(shape), as: UTF8.self) == #"{"count":3,"name":null,"nested":null,"uid":null}"#)
        #expect(try JSONDecoder().decode(Shape.self, from: Data(#"{"count":3}"#.utf8)) == shape)
        #expect(try JSONDecoder().decode(Shape.self, from: Data(#"{"count":3,"name":null,"uid":null}"#.utf8)) == shape)
    }
}
