#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A point on the monotonic clock by which an operation must be done.
public struct Deadline: Sendable, Comparable {
    /// Nanoseconds on `CLOCK_MONOTONIC`.
    public let nanoseconds: UInt64

    public static var now: Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    public static func after(seconds: Double) -> Deadline {
        Deadline(nanoseconds: now.nanoseconds + UInt64(max(0, seconds) * 1e9))
    }

    /// Milliseconds left, rounded up, for `poll`; 0 once past.
    public var remainingMilliseconds: Int32 {
        let current = Deadline.now.nanoseconds
        guard nanoseconds > current else { return 0 }
        return Int32(min(Int64(Int32.max), Int64((nanoseconds - current + 999_999) / 1_000_000)))
    }

    public var hasPassed: Bool { Deadline.now >= self }

    /// Seconds since `start` (for measuring durations).
    public func seconds(since start: Deadline) -> Double {
        Double(Int64(bitPattern: nanoseconds &- start.nanoseconds)) / 1e9
    }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.nanoseconds < b.nanoseconds }
}
