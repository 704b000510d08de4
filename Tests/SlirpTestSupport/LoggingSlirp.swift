import Foundation
import Glibc
import SlirpCore

/// A real slirp4netns (root) serving a private network namespace that `unshare --net sleep`
/// holds, with its stdout and stderr on descriptors the test chose (a sparse 1 GiB file, a pipe):
/// for tests about where an instance logs, which SlirpLab's own log file cannot be.
public final class LoggingSlirp {
    public let pid: pid_t
    let holder: pid_t

    public init(stdout: Int32, stderr: Int32? = nil) throws {
        guard let unshare = Executables.find("unshare") else { throw LabSetupError("unshare is not installed (util-linux)") }
        guard let slirp = Executables.find("slirp4netns") else { throw LabSetupError("slirp4netns is not installed") }
        guard case .success(let holder) = Executables.spawn(unshare, ["--net", "sleep", "300"]) else {
            throw LabSetupError("cannot start unshare --net sleep")
        }
        self.holder = holder
        let ownNetns = try? Files.readLink("/proc/self/ns/net")
        guard eventually(10, { (try? Files.readText("/proc/\(holder)/comm")) == "sleep\n" && (try? Files.readLink("/proc/\(holder)/ns/net")) != ownNetns }) else {
            Self.end(holder)
            throw LabSetupError("unshare --net sleep (pid \(holder)) did not enter a namespace of its own")
        }
        var descriptors: [Int32: Int32] = [1: stdout]
        if let stderr { descriptors[2] = stderr }
        guard case .success(let pid) = Executables.spawn(slirp, ["--configure", "--mtu=65520", "--disable-host-loopback", String(holder), "tap0"],
                                                         descriptors: descriptors) else {
            Self.end(holder)
            throw LabSetupError("cannot start slirp4netns for pid \(holder)")
        }
        self.pid = pid
        // Ready once it configured the tap device inside the namespace.
        guard eventually(10, { Self.hasTap(holder) }) else {
            stop()
            throw LabSetupError("slirp4netns \(pid) did not configure tap0 in the namespace of \(holder)")
        }
    }

    deinit { stop() }

    /// Kills slirp4netns and the namespace's holder, and reaps both.
    public func stop() {
        Self.end(pid)
        Self.end(holder)
    }

    static func end(_ pid: pid_t) {
        if kill(pid, SIGKILL) == 0 { _ = Executables.waitFor(pid) }
    }

    /// tap0 in the holder's namespace (/proc/PID/net is the namespace of that process).
    static func hasTap(_ holder: pid_t) -> Bool {
        ((try? Files.readText("/proc/\(holder)/net/dev")) ?? "").contains("tap0:")
    }
}
