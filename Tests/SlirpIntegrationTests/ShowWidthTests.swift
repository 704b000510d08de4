import Foundation
import SlirpCore
import SlirpTestSupport
import Testing

/// `slirpmon show` into a pipe fits 80 columns: a long `--api-socket=` path stands whole on a line
/// of its own (still one piece to copy) instead of pushing every meaning to column ~120.
@Suite("show fits the terminal", .enabled(if: isRoot, "needs root for ip netns"))
struct ShowWidthTests {
    @Test("a long --api-socket path keeps show's option and address tables within 80 columns, the path whole on its own line")
    func longSocketPathFitsEightyColumns() throws {
        let lab = try TestLab("wide")
        // The socket is named after the instance: a long name makes a long path (under 108 bytes).
        let instance = try lab.start(.init(name: "a-rather-long-instance-name-xyz"))
        let socket = try #require(instance.apiSocket)
        #expect(socket.utf8.count > 80, "\(socket)")
        let shown = slirpmon(["show", String(instance.pid)])
        #expect(shown.status == 0, "\(shown.combined)")
        let lines = shown.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("  OPTION") }),
              let end = lines.firstIndex(where: { $0.hasPrefix("API socket:") }) else {
            Issue.record("no option table or API socket line:\n\(shown.stdout)")
            return
        }
        let option = "  --api-socket=" + socket
        #expect(lines[start..<end].contains(option), "the path is not whole on its own line:\n\(shown.stdout)")
        for (i, line) in lines[start..<end].enumerated() where line != option {
            #expect(line.count <= 80, "line \(start + i + 1) is \(line.count) columns: \(line)")
            #expect(!line.hasSuffix(" "), "trailing blanks: \(line)")
        }
        if let at = lines.firstIndex(of: option), at + 1 < lines.count {
            #expect(lines[at + 1].hasPrefix("      ") && lines[at + 1].contains("listens for add_hostfwd"), "its meaning under it: \(lines[at + 1])")
        }
    }

    @Test("fwd rm prints the ids it removed as ranges, in the order given; --json keeps the list")
    func removedIdsAsRanges() throws {
        let lab = try TestLab("rmids")
        let instance = try lab.start(.init(name: "r"))
        let address = "127.\(UInt8.random(in: 16...250)).\(UInt8.random(in: 1...250)).1"
        let added = slirpmon(["fwd", "add", String(instance.pid), "\(address):31000-31009:31000-31009"])
        #expect(added.status == 0 && added.stdout.hasPrefix("added [1]"), "\(added.combined)")
        let some = slirpmon(["fwd", "rm", String(instance.pid), "1", "2", "3", "5", "9", "8"])
        #expect(some.status == 0, "\(some.combined)")
        #expect(some.stdout == "removed 6 forwards, ids 1-3,5,9,8\n", "\(some.stdout)")
        let one = slirpmon(["fwd", "rm", String(instance.pid), "4"])
        #expect(one.stdout == "removed 4\n", "\(one.combined)")
        let rest = slirpmon(["fwd", "rm", String(instance.pid), "all", "--json"])
        let ids = (try? JSONSerialization.jsonObject(with: Data(rest.stdout.utf8))) as? [String: [Int]]
        #expect(ids == ["removed": [6, 7, 10], "sent_no_answer": [], "not_sent": []], "\(rest.combined)")
    }
}
