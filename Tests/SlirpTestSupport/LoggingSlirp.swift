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
        holder = try Self.namespaceHolder()
        do {
            pid = try Self.slirp4netns(for: holder, descriptors: stderr.map { [1: stdout, 2: $0] } ?? [1: stdout])
        } catch {
            Self.end(holder)
            throw error
        }
    }

    deinit {
        Self.end(pid)
        Self.end(holder)
    }

    /// `unshare --net sleep 300`, once it runs in a network namespace of its own.
    static func namespaceHolder() throws -> pid_t {
        let unshare = try Executables.find("unshare").orThrow("unshare is not installed (util-linux)")
        let holder = try Executables.spawn(unshare, ["--net", "sleep", "300"]).get()
        let ownNetns = try? Files.readLink("/proc/self/ns/net")
        if eventually(10, { (try? Files.readText("/proc/\(holder)/comm")) == "sleep\n" && (try? Files.readLink("/proc/\(holder)/ns/net")) != ownNetns }) {
            return holder
        }
        end(holder)
        throw LabSetupError("unshare --net sleep (pid \(holder)) did not enter a namespace of its own")
    }

    /// slirp4netns for the namespace of `holder`, once tap0 is up in it (/proc/PID/net is the
    /// namespace of that process).
    static func slirp4netns(for holder: pid_t, descriptors: [Int32: Int32]) throws -> pid_t {
        let slirp = try Executables.find("slirp4netns").orThrow("slirp4netns is not installed")
        let arguments = ["--configure", "--mtu=65520", "--disable-host-loopback", String(holder), "tap0"]
        let pid = try Executables.spawn(slirp, arguments, descriptors: descriptors).get()
        if eventually(10, { ((try? Files.readText("/proc/\(holder)/net/dev")) ?? "").contains("tap0:") }) { return pid }
        end(pid)
        throw LabSetupError("slirp4netns \(pid) did not configure tap0 in the namespace of \(holder)")
    }

    /// Kills and reaps a process this helper started.
    static func end(_ pid: pid_t) {
        if kill(pid, SIGKILL) == 0 { _ = Executables.waitFor(pid) }
    }
}

extension Optional {
    /// The value, or a LabSetupError saying `missing`.
    func orThrow(_ missing: String) throws -> Wrapped {
        guard let value = self else { throw LabSetupError(missing) }
        return value
    }
}
