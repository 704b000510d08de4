#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Format {
    /// Local wall time of `seconds` since the epoch as `HH:MM:SS`; more than a day before now,
    /// `YYYY-MM-DD HH:MM:SS` (a time of day alone would read as today's).
    public static func wallTime(at seconds: Double) -> String {
        var t = time_t(seconds.isFinite ? min(max(0, seconds), 1e15) : 0)
        var parts = tm()
        localtime_r(&t, &parts)
        let clock = "\(two(Int(parts.tm_hour))):\(two(Int(parts.tm_min))):\(two(Int(parts.tm_sec)))"
        guard Double(time(nil)) - Double(t) > 86_400 else { return clock }
        return "\(parts.tm_year + 1900)-\(two(Int(parts.tm_mon + 1)))-\(two(Int(parts.tm_mday))) \(clock)"
    }
}
