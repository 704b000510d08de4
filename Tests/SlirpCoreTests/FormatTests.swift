import Foundation
import Testing
import SlirpCore

/// The words the CLI and the monitor share (`Format`): one rule each, the same in `slirpmon show`
/// and in the monitor's details pane.
@Suite("Presentation words")
struct FormatTests {
    /// Sizes from a byte to past a GiB: every power of two and its neighbours, the ties that
    /// round to an even tenth, and values near each unit's edge.
    static var sizes: [Int64] {
        var values: [Int64] = [0, 1, 812, 1023, 1024, 1025, 831_488, 1_048_575, 1_048_576, 3 << 20, 2_411_724, (1 << 30) - 1, 1 << 30, 1_610_612_736, 5_000_000_000_000]
        for shift in 0..<40 { values += [(Int64(1) << shift) - 1, Int64(1) << shift, (Int64(1) << shift) + 1] }
        // Ties, where n / unit is exactly halfway between two tenths (1.25 KiB = 1280 bytes): printf
        // rounds them to the even tenth.
        values += stride(from: Int64(1280), to: 100_000, by: 512).map { $0 }
        values += stride(from: Int64((1 << 20) + (1 << 18)), to: 40 << 20, by: 1 << 19).map { $0 }
        values += stride(from: Int64(1024), to: 40_000, by: 51).map { $0 }
        values += stride(from: Int64(1 << 20), to: (1 << 20) + 2_000_000, by: 52_429).map { $0 }
        return values
    }

    @Test("a size reads as printf's %.1f in binary units, in the CLI and the monitor alike (812.0 KiB, not 812 KiB)")
    func sizesReadAsTheCLIAlwaysPrintedThem() {
        for n in Self.sizes {
            let expected: String
            if n < 1024 { expected = "\(n) B" }
            else if n < 1 << 20 { expected = String(format: "%.1f KiB", Double(n) / 1024) }
            else if n < 1 << 30 { expected = String(format: "%.1f MiB", Double(n) / 1_048_576) }
            else { expected = String(format: "%.1f GiB", Double(n) / 1_073_741_824) }
            #expect(Format.bytes(n) == expected, "\(n) bytes")
        }
        // The monitor's details pane shows these (its snapshots pin them).
        #expect(Format.bytes(3 << 20) == "3.0 MiB")
        #expect(Format.bytes(831_488) == "812.0 KiB")
        #expect(Format.bytes(5 * 1024 + 512 + 1) == "5.5 KiB")
    }

    @Test("a duration shows its two largest units; the list's coarse form changes at most once a minute")
    func durations() {
        let cases: [(Double, String, String)] = [
            (0, "0s", "<1m"), (59.9, "59s", "<1m"), (60, "1m00s", "1m"), (723, "12m03s", "12m"), (3599, "59m59s", "59m"),
            (3600, "1h00m", "1h00m"), (11_220, "3h07m", "3h07m"), (86_399, "23h59m", "23h59m"), (1_051_200, "12d04h", "12d04h"),
            (-5, "0s", "<1m"), (.nan, "0s", "<1m"), (.infinity, "0s", "<1m"),
        ]
        for (seconds, exact, coarse) in cases {
            #expect(Format.duration(seconds) == exact, "\(seconds)")
            #expect(Format.duration(seconds, .coarse) == coarse, "\(seconds)")
        }
        #expect(Format.seconds(1) == "1.0s")
        #expect(Format.seconds(0.25) == "0.3s")
    }

    @Test("a list's uptime of 100 days or more fits its 6 columns as whole days, never cut short")
    func longUptimesFitTheColumn() {
        #expect(Format.duration(99 * 86_400 + 3600 * 4, .coarse) == "99d04h")
        #expect(Format.duration(100 * 86_400 + 3600 * 4, .coarse) == "100d")
        #expect(Format.duration(4321 * 86_400, .coarse) == "4321d")
        #expect(Format.duration(100 * 86_400 + 3600 * 4) == "100d04h", "the exact form (show, details) keeps the hours")
        for days in [1, 9, 10, 99, 100, 999, 1000, 99_999] {
            #expect(Format.duration(Double(days) * 86_400 + 86_399, .coarse).count <= 6, "\(days) days")
        }
    }

    @Test("a count too wide for its column reads in a smaller unit, rounded down, never as its first digits")
    func countsFitTheirColumn() {
        let cases: [(Int, Int, String)] = [
            (0, 3, "0"), (999, 3, "999"), (1000, 4, "1000"), (9999, 4, "9999"), (10_000, 4, "10k"), (12_999, 4, "12k"),
            (123_456, 4, "123k"), (999_999, 4, "999k"), (1_000_000, 4, "1.0M"), (1_250_000, 4, "1.2M"), (12_000_000, 4, "12M"),
            (1000, 3, "1k"), (1999, 3, "1k"), (1999, 4, "1999"), (1999, 5, "1999"), (65_521, 5, "65521"), (100_000, 5, "100k"),
            (99_999_999, 5, "99M"), (1_500, 2, "1k"), (5, 1, "5"), (-3, 1, "-3"),
        ]
        for (n, width, expected) in cases {
            #expect(Format.count(n, width: width) == expected, "\(n) in \(width)")
        }
        for n in [1, 12, 999, 1000, 1001, 9999, 10_000, 65_535, 131_070, 999_999, 1_000_000, Int(Int32.max)] {
            #expect(Format.count(n, width: 4).count <= 4, "\(n)")
        }
    }

    @Test("forward ids print as ranges: 1000 ids in one short line, gaps and order kept")
    func idRanges() {
        #expect(Format.idRanges(Array(1...1000)) == "1-1000")
        #expect(Format.idRanges([]) == "")
        #expect(Format.idRanges([7]) == "7")
        #expect(Format.idRanges([4, 5]) == "4,5")
        #expect(Format.idRanges([1, 2, 3, 5, 7, 8, 9, 12]) == "1-3,5,7-9,12")
        #expect(Format.idRanges([9, 8, 7, 1, 2, 3]) == "9,8,7,1-3", "the order given, runs going up")
        #expect(Format.idRanges([Int.max - 1, Int.max, Int.min]) == "\(Int.max - 1),\(Int.max),\(Int.min)", "no overflow at the edges")
    }

    @Test("a container is shown by the first 12 digits of its ID, an instance Podman did not start as manual")
    func shortIDsAndNames() {
        let id = "3f2a9c0d1e7b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
        #expect(Format.shortID(id) == "3f2a9c0d1e7b")
        #expect(Format.shortID(Optional(id)) == "3f2a9c0d1e7b")
        #expect(Format.shortID(nil as String?) == "manual")
        #expect(Format.instanceName(container: nil, containerID: id) == "3f2a9c0d1e7b")
        #expect(Format.instanceName(container: nil, containerID: nil) == "manual")
    }

    @Test("the socket status word is the one list --json writes and the monitor matches on")
    func socketStatusWords() {
        #expect(SocketOwnership.held.status == .held)
        #expect(SocketOwnership.notHeld.status.rawValue == "not-held")
        #expect(SocketOwnership.unknown("permission denied").status.rawValue == "unverified")
        #expect(SocketStatus.allCases.map(\.rawValue) == ["held", "missing", "not-held", "ambiguous", "unverified"])
    }
}
