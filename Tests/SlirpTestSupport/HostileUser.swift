import Foundation
import Glibc
import SlirpCore

/// A real unprivileged user who attacks root through their own Podman configuration: their
/// `~/.config/containers/containers.conf` sets `engine.conmon_path` (Podman runs it with
/// `--version` on every command, `podman ps` included) and `engine.network_cmd_path` (what
/// the doctor runs as slirp4netns) to perl scripts, and they have one created container.
///
/// The conmon script opens `/dev/tty` and pushes a command with TIOCSTI (also on fds 0-2),
/// and records in `~/conmon-record` what worked; it then execs the real conmon. It attacks only
/// while armed (`arm`), and only a process whose ancestor runs the armed binary: other tests and
/// other people's `slirpmon list` on this machine ask this user's Podman too, and must not get
/// keys typed into their terminals. The slirp4netns script records its environment.
public struct HostileUser: Sendable {
    public static let name = "slirpmon-hostile"
    public static let container = "smt-hostile-created"

    public let name: String
    public let uid: UInt32
    public let home: String
    public var container: String { Self.container }
    public var conmonRecordPath: String { "\(home)/conmon-record" }
    public var slirpRecordPath: String { "\(home)/slirp-record" }

    /// Creates (or reuses) the user, their scripts, their conf and their created container.
    public static func prepare() throws -> HostileUser {
        let home = "/home/\(name)"
        let user = try PodmanFixture.prepareRootlessUser(name, subordinateStart: 500000, engine: [
            "conmon_path = [\"\(home)/conmon.pl\"]",
            "network_cmd_path = \"\(home)/slirp.pl\"",
        ])
        let hostile = HostileUser(name: user.name, uid: user.uid, home: home)
        try hostile.install(conmonScript, as: "conmon.pl")
        try hostile.install(slirpScript, as: "slirp.pl")
        if PodmanFixture.podman(["container", "exists", container], user: user).status != 0 {
            let out = PodmanFixture.podman(["create", "--name", container, "--network", "slirp4netns", PodmanFixture.image, "sleep", "100"], user: user)
            guard out.status == 0 else { throw LabSetupError("podman create as \(name) failed: \(out.stderr)") }
        }
        return hostile
    }

    private func install(_ text: String, as file: String) throws {
        let path = "\(home)/\(file)"
        try Files.write(text, to: path)
        chmod(path, 0o755)
        chown(path, uid, uid)
    }

    /// What an armed test runs: `binary` (a link of its own to the slirpmon binary, so that only
    /// processes under this path are attacked, not other tests running the same binary), and
    /// the file the typed-in command would create.
    public struct Armed: Sendable {
        public let binary: String
        public let pwned: String
    }

    /// Arms the conmon script for processes under a new link to `binary` (matched against an
    /// ancestor's argv[0]): it will try to type `touch PWNED` into their terminal.
    public func arm(binary: String) throws -> Armed {
        let tag = "\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        let directory = "/tmp/slirpmon-armed-\(tag)"
        mkdir(directory, 0o755)
        let link = "\(directory)/slirpmon"
        guard symlink(binary, link) == 0 else { throw LabSetupError("cannot link \(link): \(String(cString: strerror(errno)))") }
        let armed = Armed(binary: link, pwned: "/tmp/slirpmon-pwned-\(tag)")
        let path = "\(home)/armed"
        try Files.write("\(link)\n\(armed.pwned)\n", to: path)
        chmod(path, 0o644)
        resetRecords()
        return armed
    }

    public func disarm() {
        if let text = try? String(contentsOfFile: "\(home)/armed", encoding: .utf8), let link = text.split(separator: "\n").first,
           link.hasPrefix("/tmp/slirpmon-armed-") {
            unlink(String(link))
            rmdir((String(link) as NSString).deletingLastPathComponent)
        }
        unlink("\(home)/armed")
        unlink("\(home)/hang")
    }

    /// While set, an armed conmon script sleeps 300 s: the user's Podman does not answer.
    public func hangPodman(_ hang: Bool) throws {
        if hang { try Files.write("", to: "\(home)/hang") } else { unlink("\(home)/hang") }
    }

    /// The PIDs of armed conmon runs and of the user's Podman processes above each (`chain=`).
    public var armedRunProcesses: [Int32] {
        conmonRecord.filter { !$0.contains("not-armed") }.flatMap { line -> [Int32] in
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("chain=") }) else { return [] }
            return field.dropFirst("chain=".count).split(separator: ",").compactMap { Int32($0) }
        }
    }

    /// The PID a slirp4netns script run recorded (`pid=`) for each line matching `filter`.
    public func slirpPIDs(where filter: (String) -> Bool) -> [Int32] {
        slirpRecord.filter(filter).compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("pid=") }.flatMap { Int32($0.dropFirst(4)) }
        }
    }

    /// Whether the process `pid` still exists (a zombie counts as gone: it runs nothing).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let bytes = try? Files.readBytes("/proc/\(pid)/stat"), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
              close + 2 < bytes.count else { return false }
        return bytes[close + 2] != UInt8(ascii: "Z")
    }

    /// While set, the slirp4netns script answers `--version` with escape sequences (CSI, OSC, C1 CSI) in its version.
    public func escapesInVersion(_ on: Bool) throws {
        if on { try Files.write("", to: "\(home)/escapes") } else { unlink("\(home)/escapes") }
    }

    /// While set, the slirp4netns script waits 30 s before it starts slirp4netns (a trial to interrupt).
    public func slowTrial(_ slow: Bool) throws {
        if slow { try Files.write("", to: "\(home)/slow") } else { unlink("\(home)/slow") }
    }

    public func resetRecords() {
        unlink(conmonRecordPath)
        unlink(slirpRecordPath)
    }

    /// One line per run of the conmon script.
    public var conmonRecord: [String] { lines(conmonRecordPath) }
    /// One line per run of the slirp4netns script.
    public var slirpRecord: [String] { lines(slirpRecordPath) }

    private func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The PIDs of this user's processes now.
    public var processes: Set<Int32> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return Set(names.compactMap { name -> Int32? in
            guard let pid = Int32(name), let st = try? Files.status("/proc/\(name)"), st.st_uid == uid else { return nil }
            return pid
        })
    }

    /// What a process is, for messages: its command line.
    public static func describe(_ pid: Int32) -> String {
        let bytes = (try? Files.readBytes("/proc/\(pid)/cmdline")) ?? []
        return "\(pid): " + String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    static let conmonScript = #"""
        #!/usr/bin/perl
        # slirpmon test (HostileUser): tries /dev/tty and TIOCSTI only when an ancestor runs the binary in ~/armed.
        sub slurp { my ($f) = @_; open(my $h, "<", $f) or return ""; local $/; my $t = <$h>; return $t // ""; }
        my ($armed, $pwned) = split /\n/, slurp("$ENV{HOME}/armed");
        my $payload = "qqq\ntouch $pwned\n";
        sub inject { my ($fh) = @_; for my $c (split //, $payload) { my $x = $c; return "failed:$!" unless ioctl($fh, 0x5412, $x); } return "ok"; }
        my $hit = 0; my $pid = getppid();
        for (1..8) {
          last if $pid <= 1;
          my $argv0 = (split /\0/, slurp("/proc/$pid/cmdline"))[0] // "";
          $hit = 1 if defined($armed) && $armed ne "" && index($argv0, $armed) == 0;
          my $st = slurp("/proc/$pid/stat"); $st =~ s/.*\)\s+//s; $pid = (split / /, $st)[1] // 0;
        }
        # This process and its ancestors of this user (Podman's processes): the run, to check that none survives.
        my @chain = ($$); my $up = getppid();
        while ($up > 1) { my @st = stat("/proc/$up"); last unless @st && $st[4] == $<; push @chain, $up;
          my $s = slurp("/proc/$up/stat"); $s =~ s/.*\)\s+//s; $up = (split / /, $s)[1] // 0; }
        my $line = "args=@ARGV pid=$$ chain=" . join(",", @chain);
        if (!$hit) { $line .= " not-armed"; }
        else {
          if (open(T, "+<", "/dev/tty")) { $line .= " tty=opened tiocsti=" . inject(\*T); } else { $line .= " tty=failed:$!"; }
          for my $fd (0, 1, 2) { if (open(my $F, "+<&=", $fd)) { $line .= " fd$fd=" . inject($F); } else { $line .= " fd$fd=closed"; } }
        }
        open(R, ">>", "$ENV{HOME}/conmon-record"); print R "$line\n"; close(R);
        # While ~/hang exists, an armed run hangs: a user's Podman that does not answer.
        sleep 300 if $hit && -e "$ENV{HOME}/hang";
        exec("/usr/bin/conmon", @ARGV);
        """# + "\n"

    static let slirpScript = #"""
        #!/usr/bin/perl
        # slirpmon test (HostileUser): records its arguments and environment, then runs slirp4netns
        # (for a start, not --help/--version, after 30 s while ~/slow exists).
        open(R, ">>", "$ENV{HOME}/slirp-record");
        print R "args=@ARGV pid=$$ env=" . join(",", sort keys %ENV) . " secret=" . ($ENV{SLIRPMON_TEST_SECRET} // "none") . "\n";
        close(R);
        sleep 30 if -e "$ENV{HOME}/slow" && grep { $_ eq "tap0" } @ARGV;
        if (-e "$ENV{HOME}/escapes" && "@ARGV" eq "--version") { print "slirp4netns version 1.2.0\e[2J\e]0;owned\a\xc2\x9b31m\n"; exit 0; }
        exec("/usr/bin/slirp4netns", @ARGV);
        """# + "\n"
}
