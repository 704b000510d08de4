import Foundation
@testable import SlirpCore
import SlirpTestSupport
import Testing
@testable import SlirpTUI

/// A user's Docker rootless daemon that hangs must not hold the monitor's API queue (where root's
/// adds and removes on every instance wait), nor the FWD count of its RootlessKit row: the count's
/// listing reads no Docker, and the opened pane's Docker join runs on a queue of its own.
@Suite("the monitor's Docker join runs off the API queue", .serialized, .enabled(if: isRoot, "needs root (starts rootlesskit as the test user)"))
struct DockerJoinQueueTests {
    /// A socket whose listener (socat) accepts and never answers: a hung docker.sock.
    final class HungSocket {
        let pid: pid_t
        let path: String
        let directory: String
        init() throws {
            guard let socat = Executables.find("socat") else { throw LabSetupError("socat not installed (assets/setup.sh)") }
            directory = "/tmp/smt-dkhung-\(getpid())-\(UInt32.random(in: 0..<100000))"
            mkdir(directory, 0o700)
            path = "\(directory)/docker.sock"
            guard case .success(let pid) = Executables.spawn(socat, ["UNIX-LISTEN:\(path),fork", "EXEC:/bin/sleep 60"]) else {
                throw LabSetupError("cannot start socat")
            }
            self.pid = pid
            let deadline = Deadline.after(seconds: 5)
            while !Files.exists(path) && !deadline.hasPassed { usleep(20_000) }
            guard Files.exists(path) else { throw LabSetupError("socat did not create \(path)") }
        }
        deinit {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Waits for the first result `matching`, at most `seconds`; the result and when it came.
    func waitFor(_ worker: Worker, seconds: Double, _ matching: (WorkResult) -> Bool) -> (WorkResult, Double)? {
        let start = Deadline.now
        let deadline = Deadline.after(seconds: seconds)
        var kept: [WorkResult] = []
        while !deadline.hasPassed {
            kept += worker.drain()
            if let found = kept.first(where: matching) { return (found, Deadline.now.seconds(since: start)) }
            usleep(10_000)
        }
        return nil
    }

    @Test("a user's hung docker.sock delays neither a Docker rootless row's FWD count nor root's next request on the API queue; the pane's join gives up within its deadline and says why")
    func hungDockerHoldsNoAPIQueue() throws {
        let rk = try RootlessKitFixture(portDriver: .builtin)
        defer { _ = rk.stop() }
        let hung = try HungSocket()
        // The real rootlesskit (its api.sock proven held by its parent), described as Docker rootless
        // whose dockerd is the hung socket's listener: what a user's wedged daemon looks like.
        let kit = RootlessKitParent(pid: rk.pid, uid: rk.user.uid, user: rk.user.name, portDriver: "builtin", stateDir: rk.stateDir,
                                    stateDirSource: .commandLine, apiSocket: "\(rk.stateDir)/api.sock", apiSocketListening: true,
                                    child: .init(pid: rk.childPID, command: ["dockerd"], kind: .docker, commandPID: hung.pid),
                                    dockerSocket: hung.path, log: "", problems: [:])
        let target = EffectTarget(identity: ProcessIdentity(pid: rk.slirpPID, startTicks: 1), apiSocket: nil, rootlessKit: kit)
        let worker = Worker(apiTimeout: 3)

        // The FWD count's listing (first sight): the ports, at once, without asking Docker.
        worker.listForwards(target)
        let isPorts: (WorkResult) -> Bool = { if case .ports = $0 { true } else { false } }
        let isJoined: (WorkResult) -> Bool = { if case .portsJoined = $0 { true } else { false } }
        let listed = try #require(waitFor(worker, seconds: 10, isPorts), "no ports posted")
        #expect(listed.1 < 1.5, "the count's listing took \(listed.1) s: it waited on Docker")
        guard case .ports(_, let ports?, nil, _, let at) = listed.0 else { Issue.record("\(listed.0)"); return }
        #expect(ports.isEmpty && at != nil)

        // The opened pane's join hangs on the daemon; root's next request on the API queue does not wait for it.
        worker.joinDocker(target, [])
        let begin = Deadline.now
        worker.listForwards(target)
        let again = try #require(waitFor(worker, seconds: 10, isPorts), "no second listing")
        #expect(again.1 < 1.5, "the API queue waited \(again.1) s behind the hung daemon")
        let joined = try #require(waitFor(worker, seconds: 10, isJoined), "the join never answered")
        #expect(Deadline.now.seconds(since: begin) < 6, "the join outlived its deadline")
        guard case .portsJoined(_, _, let problem) = joined.0 else { return }
        #expect(problem?.contains("did not answer within 3 s") == true, "\(problem ?? "no problem said")")
    }
}
