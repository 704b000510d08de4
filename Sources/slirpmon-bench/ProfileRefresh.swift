import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// A profiling aid: N lab instances, then K in-process refreshes, then clean-up.
enum ProfileRefresh {
    static func run(instances n: Int, refreshes k: Int, spacing: Double = 0) -> Int32 {
        let prefix = "slirpmon-bench-\(getpid())"
        let lab: SlirpLab
        do { lab = try SlirpLab(prefix: prefix) } catch {
            TerminalOutput.errorLine("\(error)")
            return 1
        }
        defer { lab.tearDown(); rmdir("/tmp/\(prefix)") }
        for i in 0..<n {
            let forwards = (0..<5).compactMap { j -> ForwardRequest? in
                guard let host = Port(20000 + i * 5 + j), let guest = Port(80 + j) else { return nil }
                return ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: host, guestPort: guest)
            }
            do { try lab.start(SlirpLab.Spec(name: "p\(i)", forwards: forwards)) } catch {
                TerminalOutput.errorLine("\(error)")
                return 1
            }
        }
        if k < 0 {
            // hold: keep the instances until SIGINT/SIGTERM/SIGHUP (for profiling the CLI against them)
            TerminationSignals.block()
            TerminalOutput.errorLine("holding \(n) instances; SIGTERM ends")
            _ = TerminationSignals.wait()
            return 0
        }
        var options = Inventory.Options(purpose: .scriptedList(forwards: true, cache: nil))
        options.readAddresses = true
        let cold = Inventory(options: options)
        // As the monitor keeps namespaces.
        options.purpose = .scriptedList(forwards: true, cache: InventoryCache(addressMaxAge: InventoryCache.monitorAddressMaxAge))
        let warm = Inventory(options: options)
        for (name, inventory) in [("cold", cold), ("warm", warm)] {
        for _ in 0..<k {
            if spacing > 0 { usleep(UInt32(spacing * 1e6)) }
            let c0 = Measure.processCPU(), w0 = Measure.monotonic()
            let count = (try? profileRefresh(inventory, ours: Set(lab.running.map(\.pid)))) ?? 0
            TerminalOutput.errorLine(String(format: "refresh (%@): %d instances, %.2f ms CPU, %.2f ms wall", name, count,
                                                 (Measure.processCPU() - c0) * 1e3, (Measure.monotonic() - w0) * 1e3))
        }
        }
        let inventory = cold
        // Phases, to see where a refresh goes.
        let ours = Set(lab.running.map(\.pid))
        func times() -> (Double, Double) {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            return (Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6, Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6)
        }
        func phase(_ name: String, _ body: () -> Void) {
            let c0 = Measure.processCPU(), w0 = Measure.monotonic(), t0 = times()
            for _ in 0..<10 { body() }
            let t1 = times()
            TerminalOutput.errorLine(String(format: "%@: %.2f ms CPU (user %.2f, sys %.2f), %.2f ms wall", name,
                                                 (Measure.processCPU() - c0) * 100, (t1.0 - t0.0) * 100, (t1.1 - t0.1) * 100,
                                                 (Measure.monotonic() - w0) * 100))
        }
        let processes = ((try? inventory.scanner.scan()) ?? []).filter { ours.contains($0.pid) }
        phase("scan /proc") { _ = try? inventory.scanner.scan(listeners: ListeningSockets.now()) }
        phase("scan /proc, every fd read") { _ = try? inventory.scanner.scan() }
        phase("scan /proc (warm)") { _ = try? warm.scanner.scan() }
        phase("inspect: addresses (warm)") { _ = warm.inspect(processes) }
        phase("log tails") {
            for p in processes { if let log = try? UnlinkedLog(pid: p.pid) { _ = try? log.tail(maxBytes: 4096) } }
        }
        for (name, addresses, forwards) in [("inspect: nothing", false, false), ("inspect: addresses", true, false), ("inspect: forwards", false, true)] {
            var o = Inventory.Options(purpose: .scriptedList(forwards: forwards, cache: nil))
            o.readAddresses = addresses
            let inv = Inventory(options: o)
            phase(name) { _ = inv.inspect(processes) }
        }
        phase("listening sockets") { _ = ListeningSockets.now() }
        return 0
    }

    /// One refresh of our instances, as the benchmark's figure defines it: discovery of all of
    /// `/proc` (as `Inventory.collect`, one listener dump for the scan and the checks), only ours
    /// inspected (others' stand-ins on a shared host may hang for the API timeout), and a 4 KiB
    /// log tail each. Returns how many were inspected.
    @inline(never)
    static func profileRefresh(_ inventory: Inventory, ours: Set<Int32>) throws(SystemError) -> Int {
        let listeners = ListeningSockets.now()
        let processes = try inventory.scanner.scan(listeners: listeners).filter { ours.contains($0.pid) }
        let instances = inventory.inspect(processes, listeners: listeners)
        for instance in instances where instance.log != nil {
            if let log = try? UnlinkedLog(pid: instance.pid) { _ = try? log.tail(maxBytes: 4096) }
        }
        return instances.count
    }
}
