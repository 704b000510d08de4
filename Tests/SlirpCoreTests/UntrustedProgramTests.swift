import Synchronization
import Foundation
import Glibc
@testable import SlirpCore
import Testing

/// What a program slirpmon does not trust gets: a session of its own without a terminal,
/// /dev/null and pipes on 0-2 and nothing else open, the environment it is given, and a
/// deadline past which everything it started in its session is killed.
@Suite("Running a program slirpmon does not trust")
struct UntrustedProgramTests {
    @Test("it runs in a session of its own, cannot open /dev/tty, has only fds 0-2 and only the environment it is given")
    func isolation() throws {
        let leaked = open("/dev/null", O_RDONLY) // not close-on-exec: posix_spawn alone would pass it on
        defer { close(leaked) }
        setenv("SLIRPMON_TEST_SECRET", "root-only", 1)
        defer { unsetenv("SLIRPMON_TEST_SECRET") }
        let script = """
            echo sid=$(cut -d' ' -f6 /proc/self/stat) parent=$(cut -d' ' -f6 /proc/$PPID/stat)
            if (exec 3</dev/tty) 2>/dev/null; then echo tty=opened; else echo tty=failed; fi
            echo fds=$(ls /proc/self/fd | sort -n | tr '\\n' ' ')
            env | sort
            """
        let out = try UntrustedProgram("/bin/sh", ["-c", script], as: nil, environment: ["PATH=/usr/bin:/bin", "ONLY=this"])
            .run(timeout: 10).get()
        #expect(out.status == 0, "\(out.combined)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        let mySession = getsid(0)
        #expect(lines.first?.hasPrefix("sid=") == true && lines.first?.contains("sid=\(mySession) ") == false, "\(lines)")
        #expect(lines.contains("tty=failed"), "\(lines)")
        // The shell's own 0-2, and the fd `ls` opened on /proc/self/fd.
        #expect(lines.contains { $0.hasPrefix("fds=0 1 2 3") && !$0.contains(" 4") }, "\(lines)")
        let environment = lines.filter { $0.contains("=") && !$0.hasPrefix("sid=") && !$0.hasPrefix("tty=") && !$0.hasPrefix("fds=") }
        #expect(environment.allSatisfy { $0.hasPrefix("PATH=") || $0.hasPrefix("ONLY=") || $0.hasPrefix("PWD=") || $0.hasPrefix("SHLVL=") || $0.hasPrefix("_=") },
                "the program saw more than its environment: \(environment)")
        #expect(!out.stdout.contains("root-only"))
    }

    @Test("past its deadline the program and everything it started in its session are killed and reaped")
    func deadline() throws {
        let pids = "/tmp/slirpmon-untrusted-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        defer { unlink(pids) }
        // A child in its own process group (still in the session), and one in the program's group.
        let script = "set -m; sleep 60 & echo $! >> \(pids); set +m; sleep 60 & echo $! >> \(pids); echo $$ >> \(pids); sleep 60"
        let started = Deadline.now
        let result = UntrustedProgram("/bin/sh", ["-c", script], as: nil).run(timeout: 1)
        let seconds = Deadline.now.seconds(since: started)
        guard case .failure(let error) = result else { Issue.record("the run did not time out: \(result)"); return }
        #expect(error.code == ETIMEDOUT)
        #expect(seconds < 5, "\(seconds) s")
        let started_ = ((try? String(contentsOfFile: pids, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        #expect(started_.count == 3, "\(started_)")
        usleep(100_000)
        for pid in started_ {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            #expect(stat.isEmpty || state == "Z", "process \(pid) of the run survived: \(stat)")
        }
    }

    @Test("a program printing more than the limit is stopped and the run fails")
    func outputLimit() {
        let result = UntrustedProgram("/bin/sh", ["-c", "yes slirpmon"], as: nil).run(timeout: 10, limit: 1 << 20)
        guard case .failure(let error) = result else { Issue.record("no failure: \(result)"); return }
        #expect(error.code == EFBIG)
    }

    @Test("a program root trusts is held to the same output limit: 100 MiB on stdout is stopped at 64 MiB with a clear error")
    func trustedOutputLimit() {
        let result = Executables.run("/bin/sh", ["-c", "yes slirpmon | head -c 100M"], timeout: 30)
        guard case .failure(let error) = result else {
            Issue.record("no failure: \((try? result.get().stdout.utf8.count) ?? 0) bytes kept")
            return
        }
        #expect(error.code == EFBIG)
        #expect(Executables.outputLimit == 64 << 20)
        #expect(error.description.contains("over 64 MiB"), "\(error.description)")
        // Under the limit nothing changes.
        #expect((try? Executables.run("/bin/sh", ["-c", "yes slirpmon | head -c 1M"], timeout: 30).get().stdout.utf8.count) == 1 << 20)
    }

    @Test("running a program closes each of its descriptors once: another thread's files opened meanwhile under the same numbers stay open")
    func descriptorsClosedOnce() throws {
        let stop = Mutex(false)
        let failures = Mutex<[String]>([])
        let worker = Thread {
            // Several pipes at once: they take every low number the program's run frees.
            while !stop.withLock({ $0 }) {
                var pipes: [[Int32]] = []
                for _ in 0..<8 {
                    var ends: [Int32] = [-1, -1]
                    if pipe(&ends) == 0 { _ = fcntl(ends[0], F_SETFL, O_NONBLOCK); _ = fcntl(ends[1], F_SETFL, O_NONBLOCK); pipes.append(ends) }
                }
                usleep(300)
                for ends in pipes {
                    var byte: UInt8 = 7
                    if write(ends[1], &byte, 1) != 1 { failures.withLock { $0.append("write: errno \(errno)") } }
                    if read(ends[0], &byte, 1) != 1 { failures.withLock { $0.append("read: errno \(errno)") } }
                    if close(ends[0]) != 0 || close(ends[1]) != 0 { failures.withLock { $0.append("close: errno \(errno)") } }
                }
            }
        }
        worker.start()
        for _ in 0..<8 {
            _ = UntrustedProgram("/bin/sleep", ["0.1"], as: nil).run(timeout: 5)
        }
        stop.withLock { $0 = true }
        usleep(50_000)
        let seen = failures.withLock { $0 }
        #expect(seen.isEmpty, "another thread's descriptors were closed under it: \(seen.prefix(5))")
    }
}
