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
    /// The kernel's `PF_*` flags (field 9).
    public let flags: UInt64

    /// True for a kernel thread (`PF_KTHREAD`): it has no command line, and its root is not a user's.
    public var isKernelThread: Bool { flags & 0x0020_0000 != 0 }

    /// The process this line is about: its PID and start time.
    public var identity: ProcessIdentity { ProcessIdentity(pid: pid, startTicks: startTicks) }

    /// Parses the text of `/proc/PID/stat`; `nil` when it is not of that shape.
    ///
    /// The command may itself contain spaces and parentheses, so the fields are
    /// counted from the *last* `)`.
    public init?(_ text: some StringProtocol) {
        self.init(bytes: Array(text.utf8))
    }

    /// Parses the bytes of `/proc/PID/stat`, in one pass (a scan parses a hundred of them a second).
    public init?(bytes: [UInt8]) {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close,
              let pid = Self.number(Self.trimmed(bytes[..<open])), let pid32 = Int32(exactly: pid)
        else { return nil }
        self.pid = pid32
        command = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        // Fields 3 (state) to 24 (rss) of proc(5), separated by spaces, after the last ")".
        var field = 3, i = close + 1
        var stateByte: UInt8?
        var ppid: Int64?, flags: Int64?, utime: Int64?, stime: Int64?, start: Int64?, rss: Int64?
        while field <= 24 {
            while i < bytes.count && bytes[i] == 32 { i += 1 }
            let first = i
            while i < bytes.count && bytes[i] != 32 { i += 1 }
            guard first < i else { return nil }
            let text = bytes[first..<i]
            switch field {
            case 3: stateByte = text.first
            case 4: ppid = Self.number(text)
            case 9: flags = Self.number(text)
            case 14: utime = Self.number(text)
            case 15: stime = Self.number(text)
            case 22: start = Self.number(text)
            case 24: rss = Self.number(text)
            default: break
            }
            field += 1
        }
        guard let stateByte, let ppid, let flags, let utime, let stime, let start, let rss else { return nil }
        state = Character(UnicodeScalar(stateByte))
        parentPID = Int32(truncatingIfNeeded: ppid)
        userTicks = UInt64(max(0, utime))
        systemTicks = UInt64(max(0, stime))
        startTicks = UInt64(max(0, start))
        residentPages = rss
        self.flags = UInt64(max(0, flags))
    }

    public var isZombie: Bool { state == "Z" || state == "X" }

    /// The start ticks of process `pid` now (nil when its stat cannot be read or parsed).
    public static func startTicks(of pid: Int32, procRoot: String = "/proc") -> UInt64? {
        guard let bytes = try? Files.readProcessFile("\(procRoot)/\(pid)/stat", limit: 4096) else { return nil }
        return ProcessStat(bytes: bytes)?.startTicks
    }

    /// Without leading and trailing spaces, tabs and newlines.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 10 || b == 9 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return bytes[first...last]
    }

    /// Decimal digits with an optional sign, read from the bytes (no String per field).
    static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
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

    /// Only the command name of a `/proc/PID/stat` line (between the first `(` and the last `)`),
    /// for a scan that parses the whole line only of the processes it wants.
    public static func command(in bytes: [UInt8]) -> ArraySlice<UInt8>? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close else { return nil }
        return bytes[(open + 1)..<close]
    }
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
