import Foundation

extension NamespaceReader {
    /// The counters of `interface` as `/proc/<pid>/net/dev` of a process inside the namespace shows
    /// them; nil when the namespace has no such interface.
    static func counters(viaProcess pid: Int32, interface: String, procRoot: String = "/proc") -> Result<InterfaceCounters?, Failure> {
        do throws(SystemError) {
            return .success(InterfaceCounters.parse(netDev: try Files.readText("\(procRoot)/\(pid)/net/dev"), interface: interface))
        } catch {
            return .failure(error.isGone ? .namespaceGone(path: "\(procRoot)/\(pid)/ns/net") : .unreadable(error))
        }
    }

    /// The counters in each namespace to join, read on one throwaway thread that joins each in turn
    /// (as `start(netnsPaths:)` reads addresses); one result per job, in order.
    static func counters(joining jobs: [(path: String, interface: String, owner: UInt32?)]) -> [Result<InterfaceCounters?, Failure>] {
        guard !jobs.isEmpty else { return [] }
        final class Box: @unchecked Sendable { var results: [Result<InterfaceCounters?, Failure>] = [] }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.results = jobs.map { job in
                // A file gone fails the open in `enter` as `namespaceGone`: no `stat` before it.
                enter(job.path, owner: job.owner).flatMap { () -> Result<InterfaceCounters?, Failure> in
                    do throws(SystemError) {
                        return .success(InterfaceCounters.parse(netDev: try Files.readText("/proc/thread-self/net/dev"), interface: job.interface))
                    } catch {
                        return .failure(.unreadable(error))
                    }
                }
            }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
        return box.results.count == jobs.count ? box.results
            : jobs.map { .failure(.unreadable(SystemError("setns", $0.path, errno: .ioError))) }
    }
}
