/// Docker rootless failures in words, each fix phrased as the `DOCKERD_ROOTLESS_*` variable (or
/// program, or host setting) to change: rootlesskit's own error lines, read from its stderr.
extension FailureCause {
    /// rootlesskit's error lines (`[rootlesskit:parent] error: ...`), and the lines of the
    /// programs it runs (`open: Permission denied` from `ip tuntap add`).
    static func rootlessKitErrorLines(_ log: String) -> [String] {
        log.split(separator: "\n").map { $0.trimmingSpaces }.filter { line in
            !line.isEmpty && (line.hasPrefix("[rootlesskit:") && line.contains("error:") || line.hasPrefix("open: ") || line.hasPrefix("ioctl("))
        }
    }

    /// Names the failure rootlesskit's output shows for a start with `launch`'s arguments and
    /// `settings`' variables, or nil when no known line matches.
    public static func classifyRootlessKit(log: String, launch: DockerRootlessLaunch, settings: DockerRootlessSettings) -> FailureCause? {
        let lines = rootlessKitErrorLines(log)
        func line(_ needle: String) -> String? { lines.first { $0.contains(needle) } }
        let mtuFix = DockerRootlessVariables.mtuFix(launch, settings)

        if let l = line("executable file not found in $PATH") {
            let program = l.components(separatedBy: "exec: \"").dropFirst().first?.components(separatedBy: "\"").first ?? "?"
            let path = settings["PATH"] ?? "unset"
            if program == "slirp4netns" {
                return FailureCause(.binaryMissing, cause: "rootlesskit runs with --net=slirp4netns but finds no slirp4netns in the daemon's PATH (\(path))",
                                    fix: "apt-get install slirp4netns, or add its directory to PATH (Environment=PATH=... in ~/.config/systemd/user/docker.service)", evidence: l)
            }
            return FailureCause(.helperMissing, cause: "rootlesskit needs \(program) in the daemon's PATH (\(path)) and finds none",
                                fix: "install it (\(helperPackage(program))) or add its directory to PATH (Environment=PATH=... in the unit)", evidence: l)
        }
        if let l = line("mtu must be <= 65521") {
            let got = Int(l.components(separatedBy: "got ").last?.trimmingSpaces ?? "")
            if let got, got < 0 {
                return FailureCause(.mtuTooSmall, cause: "rootlesskit refuses the MTU \(got): it must be a whole number from 68 to 65521", fix: mtuFix, evidence: l)
            }
            return FailureCause(.mtuTooLarge, cause: "rootlesskit refuses MTUs above 65521, the largest slirp4netns takes (\(launch.mtu) given)", fix: mtuFix, evidence: l)
        }
        if let l = line("for flag -mtu") {
            return FailureCause(.invalidOption, cause: "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=\(launch.mtu) is not a whole number that rootlesskit takes", fix: mtuFix, evidence: l)
        }
        if let l = line("setting up tap") {
            // `ip tuntap add`, which rootlesskit runs in the namespace, says only `open: ...` about /dev/net/tun.
            let tuntap = " (`ip tuntap add name tap0`, run by rootlesskit, opening /dev/net/tun)"
            if let denied = line("open: Permission denied") ?? line("Operation not permitted") {
                return tunDenied(mode: nil, evidence: denied + tuntap)
            }
            if let missing = line("open: No such file") ?? line("No such device") {
                return tunMissing(evidence: missing + tuntap)
            }
        }
        if let l = line("slirp4netns failed"), let mtu = Int(launch.mtu), (1..<68).contains(mtu) {
            return FailureCause(.mtuTooSmall, cause: "slirp4netns refuses MTUs below 68 (libslirp's minimum); rootlesskit passed --mtu \(mtu)", fix: mtuFix, evidence: l)
        }
        if let l = line("unknown port driver") {
            return FailureCause(.invalidOption, cause: "rootlesskit does not know the port driver \(settings["DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER"] ?? "?")",
                                fix: DockerRootlessVariables.change("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER", to: "builtin", settings: settings, orUnset: "the script then uses builtin")
                                    + " (or slirp4netns)", evidence: l)
        }
        for (option, name) in [("slirp4netns-sandbox", "DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SANDBOX"), ("slirp4netns-seccomp", "DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SECCOMP")] {
            if let l = line("unsupported \(option) mode") {
                return FailureCause(.invalidOption, cause: "rootlesskit takes auto, true or false for --\(option), not \(settings[name] ?? "?")",
                                    fix: DockerRootlessVariables.change(name, to: "auto", settings: settings, orUnset: "the script then uses auto"), evidence: l)
            }
        }
        if let l = line("flag provided but not defined") {
            // Go's flag package names it with one dash: the word as written in the variable, when it is there.
            let named = l.components(separatedBy: "defined: ").last ?? "?"
            let bare = named.drop { $0 == "-" }
            let written = (settings["DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                .first { word in word.drop { $0 == "-" }.split(separator: "=", maxSplits: 1).first.map { $0 == bare } ?? false }
            let flag = written.map(String.init) ?? named
            return FailureCause(.unknownOption, cause: "rootlesskit \(launch.rootlesskit.map { "(\($0)) " } ?? "")does not know the option \(flag), which DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS adds",
                                fix: "remove \(flag) from DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS\(DockerRootlessVariables.origin("DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS", settings: settings)) (`rootlesskit --help` lists the options)",
                                evidence: l)
        }
        if let l = line("not supported in this Debian package") {
            return FailureCause(.invalidOption, cause: "Debian's rootlesskit has no \(launch.net) network driver",
                                fix: DockerRootlessVariables.change("DOCKERD_ROOTLESS_ROOTLESSKIT_NET", to: "slirp4netns", settings: settings, orUnset: "the script then picks slirp4netns when it is installed"),
                                evidence: l)
        }
        if let l = line("newuidmap") ?? line("newgidmap") ?? line("subuid") ?? line("subgid") ?? line("uid_map") ?? line("gid_map") {
            return FailureCause(.subordinateIDs, cause: "rootlesskit cannot map the user's subordinate ids into its user namespace",
                                fix: "give the user ranges: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER; newuidmap and newgidmap come with apt-get install uidmap",
                                evidence: l)
        }
        if let l = line("slirp4netns failed") {
            return FailureCause(.unknown, cause: "slirp4netns exited before it was ready (rootlesskit keeps its output to itself): \(l)",
                                fix: "run the rootlesskit command line above by hand as the user with --debug; the host step may name the cause", evidence: l)
        }
        return nil
    }

    static func helperPackage(_ program: String) -> String {
        switch program {
        case "newuidmap", "newgidmap": return "apt-get install uidmap"
        case "nsenter": return "apt-get install util-linux"
        case "ip": return "apt-get install iproute2"
        default: return "its package"
        }
    }
}

/// A fix said as the variable to change, and where the value now comes from.
enum DockerRootlessVariables {
    /// "set DOCKERD_..._MTU=65520 (now 70000, from FILE), or unset it: ...".
    static func change(_ name: String, to value: String, settings: DockerRootlessSettings, orUnset: String?) -> String {
        var text = "set \(name)=\(value)"
        if let current = settings.values[name] {
            text += " (now \(DockerRootlessSettings.quote(current.value)), from \(originText(current.origin)))"
        }
        if let orUnset, settings.values[name] != nil { text += ", or remove it: \(orUnset)" }
        return text
    }

    /// The MTU fix: 65520, or no variable at all (the script's default: 65520 when it picks
    /// slirp4netns itself, 1500 when DOCKERD_ROOTLESS_ROOTLESSKIT_NET is set).
    static func mtuFix(_ launch: DockerRootlessLaunch, _ settings: DockerRootlessSettings) -> String {
        change("DOCKERD_ROOTLESS_ROOTLESSKIT_MTU", to: "65520", settings: settings,
               orUnset: "the script then uses " + (launch.netReason.hasPrefix("picked") ? "65520" : "1500"))
    }

    /// " (from FILE)" for a variable's origin, or "".
    static func origin(_ name: String, settings: DockerRootlessSettings) -> String {
        settings.values[name].map { " (from \(originText($0.origin)))" } ?? ""
    }

    static func originText(_ origin: String) -> String {
        switch origin {
        case "--env": return "--env"
        case "environment": return "the environment"
        default: return "Environment= in \(origin); then systemctl --user daemon-reload && systemctl --user restart docker"
        }
    }
}
