import SlirpCore
import Testing
@testable import SlirpTUI

/// A flooding user's summary never covers another user's fresh death, and is not lost for it.
@Suite("A flood's summary waits for another user's death to be read")
struct PendingSummaryTests {
    @Test("made while another user's death is on the status line: said once that death is older than the hold, not dropped")
    func summaryWaitsAndIsSaid() {
        var state = Fixtures.state()
        state.now = 100
        var death = StatusMessage("10:00:00 web pid 7: died (4: events)", kind: .warning)
        death.lossSaidAt = 100
        death.lossUsers = ["alice"]
        state.status = death
        let summary = StatusMessage("10:00:01 12 more deaths of mallory's instances (4: events)", kind: .warning)
        state.saySummary(summary, user: "mallory")
        #expect(state.status == death, "the summary covered alice's death")
        state.now = 102
        state.releasePendingSummary()
        #expect(state.status == death, "said before the hold was over")
        state.now = 100 + AppState.operatorResultHold + 0.1
        state.releasePendingSummary()
        #expect(state.status == summary, "the summary was dropped")
        #expect(state.pendingSummary == nil)
    }
}
