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
        func number(_ field: Int) -> Int64? { Int64(String(decoding: fields[field - 3], as: UTF8.self)) }
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
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\n" || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\n" || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
