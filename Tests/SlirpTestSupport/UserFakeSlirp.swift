import Foundation
import Glibc
import SlirpCore

/// A process named `slirp4netns` run by an unprivileged user (nobody), as any user on a shared
/// host can: a small C program compiled once per test run, started through `setpriv` (which
/// execs, so its PID is the fake's). It holds still, or:
/// - `growTo`: re-executes itself with that many bytes of extra arguments after the given ones
///   (its command line is megabytes, as in issue 13's 5.9 MB fakes);
/// - `spew`: writes `A`s to its stdout without a newline, about 20 MB/s;
/// - `holdingDescriptors`: opens /dev/null that many times first (any user may hold thousands of fds);
/// - `named`: another command name (`conmon`: a user's process claiming another user's container);
/// - `uid`: another unprivileged uid (and gid) than nobody's.
public final class UserFakeSlirp {
    public let pid: pid_t

    public init(_ arguments: [String], growTo bytes: Int? = nil, spew: Bool = false, stdout: Int32? = nil, stderr: Int32? = nil,
                holdingDescriptors: Int? = nil, named name: String = "slirp4netns", uid: UInt32 = 65534) throws {
        var binary = try Self.binary.get()
        if name != "slirp4netns" {
            let renamed = ((binary as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
            if !Files.exists(renamed) { link(binary, renamed) }
            binary = renamed
        }
        guard let setpriv = Executables.find("setpriv") else { throw LabSetupError("setpriv is not installed: apt-get install util-linux") }
        var env = ["PATH=/usr/bin:/bin"]
        if let bytes { env.append("FAKE_GROW=\(bytes)") }
        if spew { env.append("FAKE_SPEW=1") }
        if let holdingDescriptors { env.append("FAKE_FDS=\(holdingDescriptors)") }
        var descriptors: [Int32: Int32] = [:]
        if let stdout { descriptors[1] = stdout }
        if let stderr { descriptors[2] = stderr }
        let args = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--", binary] + arguments
        guard case .success(let pid) = Executables.spawn(setpriv, args, descriptors: descriptors, environment: env) else {
            throw LabSetupError("cannot start the user's fake slirp4netns")
        }
        self.pid = pid
        let ready = eventually(10) {
            guard (try? Files.readText("/proc/\(pid)/comm")) == "\(name)\n",
                  (try? Files.status("/proc/\(pid)").st_uid) == uid else { return false }
            if let holdingDescriptors, ((try? Files.directoryEntries("/proc/\(pid)/fd"))?.count ?? 0) < holdingDescriptors { return false }
            guard let bytes else { return true }
            return ((try? Files.readBytes("/proc/\(pid)/cmdline", limit: bytes))?.count ?? 0) >= bytes / 2
        }
        guard ready else {
            stop()
            throw LabSetupError("the fake \(name) \(pid) did not start as uid \(uid) (or did not grow its command line)")
        }
    }

    deinit { stop() }

    public func stop() {
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
    }

    /// `DIR/slirp4netns`, DIR a private directory readable by all (the fake runs as nobody).
    public static let binary: Result<String, LabSetupError> = {
        // Directories of earlier test runs whose process is gone.
        for name in (try? Files.directoryEntries("/tmp")) ?? [] where name.hasPrefix("slirpmon-userfake-") {
            let pid = name.dropFirst("slirpmon-userfake-".count).prefix { $0 != "." }
            if let pid = Int32(pid), kill(pid, 0) != 0, errno == ESRCH { try? FileManager.default.removeItem(atPath: "/tmp/\(name)") }
        }
        var template = Array("/tmp/slirpmon-userfake-\(getpid()).XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { return .failure(LabSetupError("cannot create a directory for the fake")) }
        let directory = String(cString: template)
        chmod(directory, 0o755)
        let source = "\(directory)/fake.c"
        let output = "\(directory)/slirp4netns"
        guard let compiler = ["cc", "gcc", "clang"].lazy.compactMap({ Executables.find($0) }).first else {
            return .failure(LabSetupError("no C compiler (cc) to build the user's fake slirp4netns"))
        }
        do { try Files.write(fakeSource, to: source) } catch {
            return .failure(LabSetupError("cannot write \(source): \(error)"))
        }
        let built = sh(compiler, ["-O1", "-o", output, source], timeout: 60)
        guard built.status == 0 else { return .failure(LabSetupError("cannot compile the fake: \(built.combined)")) }
        chmod(output, 0o755)
        return .success(output)
    }()
}

/// Peak resident memory (`VmHWM`) of a program run to its end, through `/usr/bin/time -f %M` (KiB).
public func peakResidentKiB(_ program: String, _ args: [String], timeout: Double = 60) -> (output: Executables.Output, kib: Int?) {
    guard let time = ["/usr/bin/time"].first(where: { Files.exists($0) }) else {
        return (Executables.Output(status: -1, stdout: "", stderr: "/usr/bin/time is not installed: apt-get install time"), nil)
    }
    let marker = "PEAK-RSS-KIB="
    let out = sh(time, ["-f", "\(marker)%M", program] + args, timeout: timeout)
    let line = out.stderr.split(separator: "\n").last { $0.hasPrefix(marker) }
    return (out, line.flatMap { Int($0.dropFirst(marker.count)) })
}

private let fakeSource = #"""
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *grow = getenv("FAKE_GROW");
    if (grow) {
        long total = atol(grow), piece = 100000, n = total / piece;
        struct rlimit rl;
        getrlimit(RLIMIT_STACK, &rl);
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (512L << 20) : rl.rlim_max;
        setrlimit(RLIMIT_STACK, &rl);
        char **args = calloc((size_t)(argc + n + 1), sizeof *args);
        char *filler = malloc((size_t)piece + 1);
        if (!args || !filler) return 1;
        memset(filler, 'x', (size_t)piece);
        memcpy(filler, "--x=", 4);
        filler[piece] = 0;
        int k = 0;
        for (int i = 0; i < argc; i++) args[k++] = argv[i];
        for (long i = 0; i < n; i++) args[k++] = filler;
        args[k] = NULL;
        char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len <= 0) return 1;
        self[len] = 0;
        unsetenv("FAKE_GROW");
        execv(self, args);
        return 1;
    }
    const char *fds = getenv("FAKE_FDS");
    if (fds) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        for (long i = 0, n = atol(fds); i < n; i++) if (open("/dev/null", O_RDONLY) < 0) return 1;
    }
    if (getenv("FAKE_SPEW")) {
        static char buf[65536];
        memset(buf, 'A', sizeof buf);
        for (;;) {
            if (write(1, buf, sizeof buf) < 0) return 1;
            usleep(3000);
        }
    }
    for (;;) pause();
}
"""#
