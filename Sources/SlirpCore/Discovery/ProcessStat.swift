/// The fields of `/proc/PID/stat` that slirpmon uses.
public struct ProcessStat: Equatable, Sendable {
    public let pid: Int32
    /// The command name (`comm`), at most 15 bytes.
    public let command: String
    /// One letter: R running, S sleeping, Z zombie, T stopped, ...
    public let state: Character
    public let parentPID: Int32
    /// CPU time in clock ticks, user and system.
    public let userTicks: UInt64
    public let systemTicks: UInt64
    /// Start time in clock ticks after boot: with the PID, it identifies a process.
    public let startTicks: UInt64
    /// Resident pages.
    public let residentPages: Int64

    /// The process this line is about: its PID and start time.
    public var identity: ProcessIdentity { ProcessIdentity(pid: pid, startTicks: startTicks) }

    /// Parses the text of `/proc/PID/stat`; `nil` when it is not of that shape.
    ///
    /// The command may itself contain spaces and parentheses, so the fields are
    /// counted from the *last* `)`.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close,
              let pid = Int32(String(decoding: bytes[..<open], as: UTF8.self).trimmingSpaces)
        else { return nil }
        self.pid = pid
        command = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state) of proc(5).
        guard fields.count >= 22, let stateByte = fields[0].first else { return nil }
        func number(_ field: Int) -> Int64? {
            // Decimal digits with an optional sign, read from the bytes (no String per field).
            let digits = fields[field - 3]
            var value: Int64 = 0
            var negative = false
            var seen = false
            for (k, b) in digits.enumerated() {
                if k == 0 && (b == UInt8(ascii: "-") || b == UInt8(ascii: "+")) { negative = b == UInt8(ascii: "-"); continue }
                guard b >= 48 && b <= 57 else { return nil }
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int64(b - 48))
                if o1 || o2 { return nil }
                value = sum
                seen = true
            }
            return seen ? (negative ? -value : value) : nil
        }
        guard let ppid = number(4), let utime = number(14), let stime = number(15),
              let start = number(22), let rss = number(24)
        else { return nil }
        state = Character(UnicodeScalar(stateByte))
        parentPID = Int32(truncatingIfNeeded: ppid)
        userTicks = UInt64(max(0, utime))
        systemTicks = UInt64(max(0, stime))
        startTicks = UInt64(max(0, start))
        residentPages = rss
    }

    public var isZombie: Bool { state == "Z" || state == "X" }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines (compared as bytes: no grapheme breaking).
    var trimmingSpaces: String {
        let u = Substring(self).utf8
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 10 || b == 9 }
        var start = u.startIndex, end = u.endIndex
        while start < end, isSpace(u[start]) { start = u.index(after: start) }
        while end > start, isSpace(u[u.index(before: end)]) { end = u.index(before: end) }
        return String(Substring(u[start..<end]))
    }
}
