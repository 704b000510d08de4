import Foundation
import Glibc
import SlirpCore

/// A real port holder left behind by a removed Podman container, made the way Podman leaves one:
/// the container's conmon holds the write end of its rootlessport's (or slirp4netns's) exit pipe,
/// and the holder exits only when that pipe closes. With conmon stopped (SIGSTOP: a hung conmon),
/// `podman rm -f` first times out ("given PIDs did not die within timeout", the container left
/// `Stopping`), then removes the container on the next try; the holder keeps the host port, and
/// a new `podman run -p` of that port fails with "address already in use".
public struct StalePortFixture {
    public let user: (name: String, uid: UInt32)?
    public let name: String
    public let id: String
    public let port: Int
    public let conmonPID: Int32
    /// The process `ss` names as holding the port after the container was removed.
    public let holderPID: Int32

    /// Runs busybox httpd as `name` with `-p 127.0.0.1:PORT:80` and `network` options (e.g.
    /// `slirp4netns:port_handler=slirp4netns`; none: Podman's default, rootlessport), then removes
    /// it with its conmon stopped. `beforeRemoval` sees the running container.
    public static func make(_ base: String, user: (name: String, uid: UInt32)?, network: [String] = [],
                            beforeRemoval: (_ name: String, _ port: Int) throws -> Void = { _, _ in }) throws -> StalePortFixture {
        let name = PodmanFixture.name(base)
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.podman(["run", "-d", "--name", name] + network + ["-p", "127.0.0.1:\(port):80", PodmanFixture.image,
                                        "httpd", "-f", "-p", "80", "-h", "/www"], user: user)
        guard run.status == 0 else { throw LabSetupError("podman run \(name) failed: \(run.stderr)") }
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let conmon = conmon(of: id) else {
            PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user)
            throw LabSetupError("no conmon runs with -c \(id)")
        }
        try beforeRemoval(name, port)
        kill(conmon, SIGSTOP)
        for _ in 0..<3 {
            PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user, timeout: 90)
            if PodmanFixture.podman(["container", "exists", name], user: user).status != 0 { break }
        }
        guard PodmanFixture.podman(["container", "exists", name], user: user).status != 0 else {
            kill(conmon, SIGCONT)
            throw LabSetupError("podman rm -f did not remove \(name) with its conmon stopped")
        }
        guard let holder = listenerPID(port: port) else {
            kill(conmon, SIGCONT)
            throw LabSetupError("nothing holds 127.0.0.1:\(port) after \(name) was removed: no stale holder to look at")
        }
        return StalePortFixture(user: user, name: name, id: id, port: port, conmonPID: conmon, holderPID: holder)
    }

    /// Lets conmon go on (it exits, closing the exit pipe) and stops the holder if it is still there.
    public func tearDown() {
        kill(conmonPID, SIGCONT)
        if let pid = Self.listenerPID(port: port), pid == holderPID { kill(holderPID, SIGTERM) }
    }

    /// The conmon whose command line has `-c ID`.
    public static func conmon(of id: String) -> Int32? {
        for pid in (try? Files.processIDs()) ?? [] {
            guard (try? Files.readText("/proc/\(pid)/comm"))?.trimmingCharacters(in: .whitespacesAndNewlines) == "conmon",
                  let line = try? Files.readProcessFile("/proc/\(pid)/cmdline") else { continue }
            let words = line.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if let i = words.firstIndex(of: "-c"), i + 1 < words.count, words[i + 1] == id { return pid }
        }
        return nil
    }

    /// The PID `ss` names as holding the TCP listener on `port` (what an operator checks by hand).
    public static func listenerPID(port: Int) -> Int32? {
        let out = sh("ss", ["-ltnpH", "sport = :\(port)"])
        guard let range = out.stdout.range(of: "pid=") else { return nil }
        return Int32(out.stdout[range.upperBound...].prefix { $0.isNumber })
    }
}
