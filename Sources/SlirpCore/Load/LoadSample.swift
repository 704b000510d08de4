#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One reading of what an instance costs: its CPU time, its time wanting a CPU, its tap's counters.
public struct LoadSample: Sendable, Equatable {
    /// Monotonic seconds of the reading.
    public var at: Double
    /// User plus system CPU time of all its threads, from `/proc/PID/stat`.
    public var cpuSeconds: Double
    /// Time its main thread ran plus time it waited runnable for a CPU, from `/proc/PID/schedstat`
    /// (nil: not read, or the kernel keeps no such file).
    public var demandSeconds: Double?
    /// Its tap's counters (nil: not read this time).
    public var tap: InterfaceCounters?

    public init(at: Double, cpuSeconds: Double, demandSeconds: Double? = nil, tap: InterfaceCounters? = nil) {
        self.at = at
        self.cpuSeconds = cpuSeconds
        self.demandSeconds = demandSeconds
        self.tap = tap
    }

    /// Run plus run-queue wait of `pid`'s main thread in seconds: the first two numbers of
    /// `/proc/PID/schedstat` (nanoseconds). Nil when the file is missing (a kernel without
    /// `CONFIG_SCHED_INFO`) or not of that shape.
    public static func demandSeconds(pid: Int32, procRoot: String = "/proc") -> Double? {
        guard let text = try? Files.readText("\(procRoot)/\(pid)/schedstat", limit: 256) else { return nil }
        let f = text.byteFields
        guard f.count >= 2, let run = UInt64(f[0]), let wait = UInt64(f[1].trimmingSpaces) else { return nil }
        return Double(run &+ wait) / 1e9
    }

    /// CPU seconds of `identity` now, from `/proc/PID/stat`; nil when that process is gone (or its
    /// PID was reused since).
    public static func cpuSeconds(of identity: ProcessIdentity, procRoot: String = "/proc") -> Double? {
        guard let bytes = try? SafeFiles.readRegularFile("\(procRoot)/\(identity.pid)/stat", limit: 4096),
              let stat = ProcessStat(bytes: bytes), stat.startTicks == identity.startTicks else { return nil }
        return Double(stat.userTicks + stat.systemTicks) / ProcessScanner.ticksPerSecond
    }

    /// Monotonic seconds.
    public static func now() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }
}
