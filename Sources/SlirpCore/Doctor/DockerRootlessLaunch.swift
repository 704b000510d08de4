#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `dockerd-rootless.sh` does with its settings up to its `exec rootlesskit ...` line, as
/// Debian's 20.10 script does it: the checks it makes and the message it exits with, the
/// programs it takes from PATH (`command -v`), the network driver and MTU it picks, and the
/// rootlesskit argument list (an unquoted `$DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS` split on blanks).
///
/// The script picks slirp4netns itself only when `DOCKERD_ROOTLESS_ROOTLESSKIT_NET` is empty
/// and `slirp4netns --help` lists `--netns-type`; it then uses MTU 65520. With the driver set
/// explicitly and no MTU, it uses 1500. `DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK` and
/// `_STATE_DIR` are newer scripts' variables: they count only when the script on the machine
/// names them.
public struct DockerRootlessLaunch: Sendable, Equatable {
    public var script: String
    /// `docker-rootlesskit` or `rootlesskit`, the first found in PATH.
    public var rootlesskit: String?
    /// slirp4netns in PATH, when found.
    public var slirp4netns: String?
    public var net: String = ""
    public var mtu: String = ""
    /// How the script came to `net` and `mtu`, in words.
    public var netReason = ""
    public var mtuReason = ""
    /// rootlesskit's arguments, before the command it runs.
    public var arguments: [String] = []
    /// The script's own message when it exits before starting rootlesskit.
    public var exitMessage: String?
    /// The variable (or program) the exit is about, for the fix.
    public var exitCause: FailureCause?

    /// Follows the script with `settings` (the variables it sees) as uid `uid`; `scriptText`
    /// (the script on the machine, when readable) tells which of the newer variables it reads.
    public static func plan(script: String, scriptText: String?, settings: DockerRootlessSettings, uid: UInt32,
                            helpOf: (String) -> String? = DockerRootlessLaunch.help) -> DockerRootlessLaunch {
        var launch = DockerRootlessLaunch(script: script)
        let path = settings["PATH"] ?? ""
        func reads(_ name: String) -> Bool { scriptText.map { $0.contains(name) } ?? false }
        if let runtime = settings["XDG_RUNTIME_DIR"], !runtime.isEmpty, access(runtime, W_OK) == 0 {} else {
            launch.exit("XDG_RUNTIME_DIR needs to be set and writable",
                        FailureCause(.runtimeDirectory, cause: "the script needs XDG_RUNTIME_DIR set and writable by the user (it is \(settings["XDG_RUNTIME_DIR"].map { "\($0)" } ?? "unset"))",
                                     fix: "create /run/user/\(uid) owned by the user, mode 0700 (a login through PAM does it: `loginctl enable-linger USER`), or set Environment=XDG_RUNTIME_DIR=... in the unit"))
            return launch
        }
        if let home = settings["HOME"], (try? Files.status(home)).map({ $0.st_mode & S_IFMT == S_IFDIR }) == true {} else {
            launch.exit("HOME needs to be set and exist.",
                        FailureCause(.runtimeDirectory, cause: "the script needs HOME set to an existing directory", fix: "set HOME to the user's home directory"))
            return launch
        }
        launch.rootlesskit = lookup("docker-rootlesskit", in: path) ?? lookup("rootlesskit", in: path)
        guard launch.rootlesskit != nil else {
            launch.exit("rootlesskit needs to be installed",
                        FailureCause(.rootlesskitMissing, cause: "neither docker-rootlesskit nor rootlesskit is in the daemon's PATH (\(path))",
                                     fix: "apt-get install rootlesskit, or add its directory to PATH (Environment=PATH=... in the unit)"))
            return launch
        }
        launch.slirp4netns = lookup("slirp4netns", in: path)
        var net = settings["DOCKERD_ROOTLESS_ROOTLESSKIT_NET"] ?? ""
        var mtu = settings["DOCKERD_ROOTLESS_ROOTLESSKIT_MTU"] ?? ""
        launch.netReason = net.isEmpty ? "" : "DOCKERD_ROOTLESS_ROOTLESSKIT_NET"
        launch.mtuReason = mtu.isEmpty ? "" : "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU"
        if net.isEmpty {
            if let slirp = launch.slirp4netns {
                if let help = helpOf(slirp), help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "," }).contains(where: { $0 == "--netns-type" || $0.hasPrefix("--netns-type=") }) {
                    net = "slirp4netns"
                    launch.netReason = "picked by the script: \(slirp) is in PATH and its --help lists --netns-type"
                    if mtu.isEmpty { mtu = "65520"; launch.mtuReason = "the script's default when it picks slirp4netns itself" }
                } else {
                    launch.netReason = "\(slirp) found but its --help does not list --netns-type (older than 0.4.0): falls back to VPNKit"
                }
            }
            if net.isEmpty {
                if lookup("vpnkit", in: path) != nil {
                    net = "vpnkit"
                    launch.netReason += (launch.netReason.isEmpty ? "" : "; ") + "picked by the script: vpnkit is in PATH and slirp4netns is not usable"
                } else {
                    launch.exit("Either slirp4netns (>= v0.4.0) or vpnkit needs to be installed",
                                launch.slirp4netns == nil
                                    ? FailureCause(.binaryMissing, cause: "slirp4netns is not in the daemon's PATH (\(path)), and the script finds no other network driver",
                                                   fix: "apt-get install slirp4netns (or add its directory to PATH in the unit: Environment=PATH=...)")
                                    : FailureCause(.binaryBroken, cause: "\(launch.slirp4netns ?? "slirp4netns") is older than 0.4.0 (its --help lacks --netns-type)",
                                                   fix: "install slirp4netns 0.4 or newer (apt-get install slirp4netns)"))
                    return launch
                }
            }
        }
        if mtu.isEmpty { mtu = "1500"; launch.mtuReason = "the script's default when DOCKERD_ROOTLESS_ROOTLESSKIT_NET is set (65520 only when it picks slirp4netns itself)" }
        launch.net = net
        launch.mtu = mtu
        if uid == 0 {
            launch.exit("This script must be executed as a non-privileged user",
                        FailureCause(.invalidOption, cause: "Docker rootless runs as an ordinary user, not root", fix: "examine the user who runs the daemon: slirpmon doctor --docker-rootless USER"))
            return launch
        }
        func value(_ name: String, default fallback: String) -> String {
            let v = settings[name] ?? ""
            return v.isEmpty ? fallback : v
        }
        // Each unquoted expansion is split on blanks by the shell.
        func words(_ text: String) -> [String] { text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init) }
        var args = words("--net=\(net)") + words("--mtu=\(mtu)")
        args += words("--slirp4netns-sandbox=\(value("DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SANDBOX", default: "auto"))")
        args += words("--slirp4netns-seccomp=\(value("DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SECCOMP", default: "auto"))")
        if !reads("DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK") || value("DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK", default: "true") != "false" {
            args.append("--disable-host-loopback")
        }
        args += words("--port-driver=\(value("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER", default: "builtin"))")
        args += ["--copy-up=/etc", "--copy-up=/run", "--propagation=rslave"]
        if reads("DOCKERD_ROOTLESS_ROOTLESSKIT_STATE_DIR"), let runtime = settings["XDG_RUNTIME_DIR"] {
            args += words("--state-dir=\(value("DOCKERD_ROOTLESS_ROOTLESSKIT_STATE_DIR", default: "\(runtime)/dockerd-rootless"))")
        }
        args += words(settings["DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS"] ?? "")
        launch.arguments = args
        return launch
    }

    private mutating func exit(_ message: String, _ cause: FailureCause) {
        exitMessage = message
        exitCause = FailureCause(cause.kind, cause: cause.cause, fix: cause.fix, evidence: message)
    }

    /// The shell's `command -v NAME` for a program: the first executable regular file
    /// `DIR/NAME` along `path` (an empty entry is the current directory, which the daemon's is not: skipped).
    public static func lookup(_ name: String, in path: String) -> String? {
        for dir in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(dir)/\(name)"
            guard let st = try? Files.status(candidate), st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 else { continue }
            return candidate
        }
        return nil
    }

    /// `PROGRAM --help`, as the script runs it (both outputs; 5 s at most), or nil when it cannot run.
    /// The program is the user's (found in their PATH): it runs as an `UntrustedProgram`, in a
    /// session of its own with no terminal, as the caller (the doctor runs as the user).
    public static func help(_ program: String) -> String? {
        guard case .success(let out) = UntrustedProgram(program, ["--help"], as: nil).run(timeout: 5, limit: 1 << 20) else { return nil }
        return out.stdout + out.stderr
    }
}
