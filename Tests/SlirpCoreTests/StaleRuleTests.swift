@testable import SlirpCore
import Testing

@Suite("Which port holder is stale: a kill is offered only when it is certain")
struct StaleRuleTests {
    static func holder(_ verdict: PortHolder.Verdict) -> PortHolder {
        PortHolder(socket: .init(proto: "tcp", address: "127.0.0.1", port: 47105, inode: 1), pid: 796, program: .rootlessport,
                   uid: 1002, user: "alice", container: nil, claimedContainerID: nil, verdict: verdict)
    }

    @Test("exited, stopped and gone are stale; a container being made, started, running or paused is not")
    func states() {
        for state in ["exited", "stopped"] { #expect(Self.holder(.container(state: state)).isStale, "\(state)") }
        #expect(Self.holder(.gone(String(repeating: "a", count: 64))).isStale)
        for state in ["created", "initialized", "configured", "running", "paused", "removing"] {
            #expect(!Self.holder(.container(state: state)).isStale, "\(state) was called stale: its holder would be offered a kill")
        }
        // Stopping passes, unless nothing will finish it (its conmon stopped): no conmon known here.
        #expect(!Self.holder(.container(state: "stopping")).isStale)
    }

    @Test("a stale holder whose start time is unknown is given no stop command (a bare `kill PID` may hit a reused PID), and the reason says so")
    func noStopCommandWithoutTheStart() {
        var holder = Self.holder(.namespaceGone)
        #expect(holder.isStale && holder.stopCommand == nil, "\(holder.stopCommand ?? "")")
        #expect(holder.reason?.contains("no stop command is given") == true, "\(holder.reason ?? "")")
        #expect(!holder.sentence.contains("`kill"), "\(holder.sentence)")
        holder.startTicks = 4321
        #expect(holder.stopCommand == "test \"$(sed 's/.*) //' /proc/796/stat | cut -d' ' -f20)\" = 4321 && kill 796")
    }
}
