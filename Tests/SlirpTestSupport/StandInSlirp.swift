import Foundation
import Glibc
import SlirpCore

/// A program named `slirp4netns` that holds an API socket and misbehaves on purpose.
///
/// slirpmon talks only to a socket held by the slirp4netns process it names, so a hung or
/// malicious API peer seen by the real binary has to *be* that process: this stand-in is a
/// small C program compiled once per test run (its `comm` is `slirp4netns`), started with a
/// slirp4netns-like command line including `--api-socket PATH`. It answers each connection
/// according to `mode` and writes `api_handler: got request: ...` to its log, as slirp4netns does.
public final class StandInSlirp {
    public enum Mode: String, CaseIterable, Sendable {
        /// Accepts, reads the request, never answers (keeps the connection open).
        case silent
        /// Answers a valid empty list one byte per second.
        case slow
        /// Answers bytes that are not JSON, then closes.
        case garbage
        /// Answers 10 MB (an unterminated JSON list), then closes.
        case huge
        /// Reads the request and closes without a byte of answer.
        case close
        /// Leaves the request unread, sends half a reply and closes with SO_LINGER 0 (the client sees a reset).
        case reset
        /// Answers like slirp4netns with no forwards: the control case.
        case ok
    }

    public let pid: pid_t
    public let mode: Mode
    public let socketPath: String
    public let logPath: String

    /// `commandName` other than `slirp4netns` makes a peer no scan lists (an impostor on a replaced path).
    /// `socketPath` and `netnsPath`: where it listens and which namespace its command line names (an
    /// attacker's choice); `user`: run as that uid and gid (through `setpriv`, which execs it: the PID
    /// is the stand-in's), in a directory that user may write.
    public init(mode: Mode, tag: String, commandName: String = "slirp4netns", socketPath: String? = nil,
                netnsPath: String? = nil, user: (uid: UInt32, gid: UInt32)? = nil) throws {
        var binary = try Self.binary.get()
        if commandName != "slirp4netns" {
            let renamed = ((binary as NSString).deletingLastPathComponent as NSString).appendingPathComponent(commandName)
            if !Files.exists(renamed) { link(binary, renamed) }
            binary = renamed
        }
        self.mode = mode
        let directory = (binary as NSString).deletingLastPathComponent
        self.socketPath = socketPath ?? "\(directory)/\(tag)-\(mode.rawValue).sock"
        logPath = "\(directory)/\(tag)-\(mode.rawValue).log"
        let socketPath = self.socketPath
        unlink(socketPath)
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw LabSetupError("cannot create \(logPath)") }
        defer { close(log) }
        var args = ["--configure", "--mtu=65520", "--disable-host-loopback", "--api-socket", socketPath,
                    "--netns-type=path", netnsPath ?? "/run/netns/\(tag)-absent", "tap0"]
        var program = binary
        if let user {
            guard let setpriv = Executables.find("setpriv") else { throw LabSetupError("setpriv not installed (util-linux)") }
            args = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", binary] + args
            program = setpriv
        }
        var env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        env.append("STANDIN_MODE=\(mode.rawValue)")
        guard case .success(let pid) = Executables.spawn(program, args, descriptors: [1: log, 2: log], environment: env) else {
            throw LabSetupError("cannot start the stand-in slirp4netns")
        }
        self.pid = pid
        // Listening, not only bound: the file exists from bind(), and a connection before listen()
        // is refused ("nothing listens"); the stand-in writes its first log line after listen().
        let logPath = self.logPath
        guard eventually(15, { Files.exists(socketPath) && ((try? Files.readBytes(logPath)).map { !$0.isEmpty } ?? false) }) else {
            stop()
            throw LabSetupError("the stand-in slirp4netns did not create \(socketPath)")
        }
    }

    deinit { stop() }

    /// Kills the stand-in (it holds no resources beyond its socket and log).
    public func stop() {
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
        unlink(socketPath)
        unlink(logPath)
    }

    /// How many connections the stand-in accepted so far (a request or not).
    public var connectionsAccepted: Int {
        ((try? Files.readText(logPath)) ?? "").components(separatedBy: "stand-in: connection accepted").count - 1
    }

    /// How many connections a process named `command` made (its name when the stand-in accepted).
    public func connectionsAccepted(fromCommand command: String) -> Int {
        ((try? Files.readText(logPath)) ?? "").split(separator: "\n").filter { $0.hasPrefix("stand-in: connection accepted") && $0.hasSuffix(" (\(command))") }.count
    }

    /// How many requests (connections that sent at least one byte) reached the stand-in so far.
    public var requestsReceived: Int {
        ((try? Files.readText(logPath)) ?? "").components(separatedBy: "api_handler: got request").count - 1
    }

    /// How many of them process `pid` sent (other tests' slirpmon may ask every slirp4netns on the host).
    public func requestsReceived(from pid: Int32) -> Int {
        ((try? Files.readText(logPath)) ?? "").split(separator: "\n").filter { $0.hasPrefix("api_handler: got request") && $0.hasSuffix(" [pid \(pid)]") }.count
    }

    /// The compiled program, `/tmp/slirpmon-standin-PID/slirp4netns`, built on first use.
    static let binary: Result<String, LabSetupError> = {
        let directory = "/tmp/slirpmon-standin-\(getpid())"
        // Directories of earlier test runs whose process is gone (the binary, its source, logs).
        for name in (try? Files.directoryEntries("/tmp")) ?? [] where name.hasPrefix("slirpmon-standin-") {
            if let pid = Int32(name.dropFirst("slirpmon-standin-".count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: "/tmp/\(name)")
            }
        }
        mkdir(directory, 0o755)
        let source = "\(directory)/standin.c"
        let output = "\(directory)/slirp4netns"
        guard let compiler = ["clang", "cc", "gcc"].lazy.compactMap({ Executables.find($0) }).first
            ?? Executables.find("swiftc").map({ (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("clang") })
        else { return .failure(LabSetupError("no C compiler (clang) to build the stand-in slirp4netns")) }
        do { try standInSource.write(toFile: source, atomically: true, encoding: .utf8) } catch {
            return .failure(LabSetupError("cannot write \(source)"))
        }
        let built = sh(compiler, ["-O1", "-pthread", "-o", output, source], timeout: 60)
        guard built.status == 0 else { return .failure(LabSetupError("cannot compile the stand-in: \(built.combined)")) }
        return .success(output)
    }()
}

private let standInSource = #"""
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *mode = "silent";

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w; n -= (size_t)w;
    }
}

/* slirp4netns's echo, and who sent it (SO_PEERCRED): tests count their own requests on a host
   where other tests' slirpmon may ask every slirp4netns too. */
static void log_request(int c, const char *buf, ssize_t n) {
    struct ucred cred;
    socklen_t size = sizeof cred;
    int pid = getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &size) == 0 ? (int)cred.pid : -1;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--; /* the request's own line end */
    char line[4200];
    int len = snprintf(line, sizeof line, "api_handler: got request: %.*s [pid %d]\n", (int)(n > 4096 ? 4096 : n), buf, pid);
    write_all(2, line, (size_t)len);
}

/* "connection accepted", and from which process (SO_PEERCRED, its command name while it waits). */
static void accepted(int c) {
    struct ucred cred;
    socklen_t size = sizeof cred;
    char comm[64] = "?", path[64], line[160];
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &size) == 0) {
        snprintf(path, sizeof path, "/proc/%d/comm", (int)cred.pid);
        FILE *f = fopen(path, "r");
        if (f) { if (!fgets(comm, sizeof comm, f)) strcpy(comm, "?"); fclose(f); }
        comm[strcspn(comm, "\n")] = 0;
    } else {
        cred.pid = -1;
    }
    int len = snprintf(line, sizeof line, "stand-in: connection accepted from pid %d (%s)\n", (int)cred.pid, comm);
    write_all(2, line, (size_t)len);
}

static ssize_t read_request(int c, char *buf, size_t size) {
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(c, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (memchr(buf, '\n', got)) break;
    }
    return (ssize_t)got;
}

static void *serve(void *arg) {
    int c = (int)(long)arg;
    char buf[4096];
    if (strcmp(mode, "reset") == 0) {
        struct pollfd p = { c, POLLIN, 0 };
        poll(&p, 1, 2000);
        usleep(50000);
        log_request(c, "(left unread)", 13);
        write_all(c, "{\"entries\":[{\"id\":1,", 20);
        struct linger l = { 1, 0 };
        setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(c);
        return NULL;
    }
    ssize_t n = read_request(c, buf, sizeof buf);
    if (n > 0) log_request(c, buf, n); /* a client that connects and sends nothing made no request */
    if (strcmp(mode, "silent") == 0) {
        for (;;) pause();
    } else if (strcmp(mode, "slow") == 0) {
        const char *reply = "{\"entries\":[]}";
        for (const char *p = reply; *p; p++) { write_all(c, p, 1); sleep(1); }
    } else if (strcmp(mode, "garbage") == 0) {
        const char junk[] = "\x00\xff\xfe<html>\x1b[2J\x1b]0;pwned\x07 not json {{{\n";
        write_all(c, junk, sizeof junk - 1);
    } else if (strcmp(mode, "huge") == 0) {
        const char *entry = "{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":1,\"guest_addr\":\"10.0.2.100\",\"guest_port\":1},";
        size_t len = strlen(entry), total = 0;
        write_all(c, "{\"entries\":[", 12);
        while (total < 10u * 1024 * 1024) { write_all(c, entry, len); total += len; }
    } else if (strcmp(mode, "ok") == 0) {
        write_all(c, "{\"entries\":[]}", 14);
    }
    close(c);
    return NULL;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i + 1 < argc; i++) if (strcmp(argv[i], "--api-socket") == 0) path = argv[i + 1];
    if (getenv("STANDIN_MODE")) mode = getenv("STANDIN_MODE");
    if (!path) { fprintf(stderr, "no --api-socket\n"); return 1; }
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) { perror(path); return 1; }
    fprintf(stderr, "stand-in slirp4netns: mode %s on %s\n", mode, path);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) { if (errno == EINTR) continue; return 1; }
        accepted(c);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(long)c) == 0) pthread_detach(t); else close(c);
    }
}
"""#
