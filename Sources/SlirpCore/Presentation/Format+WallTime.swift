#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Format {
    /// Local wall time of `seconds` since the epoch as `HH:MM:SS` (when a value was last seen).
    public static func wallTime(at seconds: Double) -> String {
        var t = time_t(seconds.isFinite ? min(max(0, seconds), 1e15) : 0)
        var parts = tm()
        localtime_r(&t, &parts)
        return "\(two(Int(parts.tm_hour))):\(two(Int(parts.tm_min))):\(two(Int(parts.tm_sec)))"
    }
}
