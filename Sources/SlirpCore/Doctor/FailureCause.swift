import Foundation

/// Why slirp4netns failed to start (or will fail to work), in words, with the fix.
///
/// One classifier serves the startup doctor (on the trial's log and its own checks)
/// and the passive checks on running instances (on the log tail), so a failure is
/// named the same wherever it is seen.
public struct FailureCause: Codable, Sendable, Equatable {
    /// The known failures. Raw values are stable (`--json`).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case mtuTooLarge = "mtu-too-large"
        case cidrPrefixLength = "cidr-prefix-length"
        case cidrNotNetworkAddress = "cidr-not-network-address"
        case invalidOption = "invalid-option"
        case unknownOption = "unknown-option"
        case binaryMissing = "slirp4netns-missing"
        case binaryBroken = "slirp4netns-broken"
        case featureMissing = "feature-missing"
        case tunDenied = "tun-permission-denied"
        case tunMissing = "tun-missing"
        case userNamespacesDisabled = "user-namespaces-disabled"
        case outboundAddressNotLocal = "outbound-address-not-local"
        case outboundAddressInvalid = "outbound-address-invalid"
        case hostPortInUse = "host-port-in-use"
        case hostPortPrivileged = "host-port-privileged"
        case hostAddressNotLocal = "host-address-not-local"
        case hostAddressIPv6 = "host-address-ipv6"
        case hostPortUnavailable = "host-port-unavailable"
        case apiSocketPathTooLong = "api-socket-path-too-long"
        case tmpDirNotWritable = "tmp-dir-not-writable"
        case readyTimeout = "ready-timeout"
        case killedBySignal = "killed-by-signal"
        case namespaceJoinFailed = "namespace-join-failed"
        case containersConf = "containers-conf"
        // Docker rootless (`DockerRootlessDoctor`).
        case scriptMissing = "dockerd-rootless-missing"
        case rootlesskitMissing = "rootlesskit-missing"
        case helperMissing = "helper-missing"
        case runtimeDirectory = "runtime-dir-unusable"
        case subordinateIDs = "subordinate-ids-missing"
        case mtuTooSmall = "mtu-too-small"
        case unknown = "unknown"
    }

    public let kind: Kind
    /// What went wrong, in one sentence.
    public let cause: String
    /// What to do about it.
    public let fix: String
    /// The line (of the log, or of a check) that shows it.
    @NullWhenAbsent public private(set) var evidence: String?

    public init(_ kind: Kind, cause: String, fix: String, evidence: String? = nil) {
        self.kind = kind
        self.cause = cause
        self.fix = fix
        self.evidence = evidence
    }


    /// The longest `tmp_dir` whose `<tmp_dir>/<64-hex-ID>.net` still fits a unix socket path.
    public static let longestTmpDirForAPISocket = maximumUnixSocketPathLength - 1 - 64 - 4

    /// Names the failure a slirp4netns log (or Podman's error text) shows, or nil when no known line matches.
    /// `cidr` (the option given) makes the cidr fixes concrete.
    /// Warnings (`WARNING: Support for IPv6 is experimental`) and progress lines are never matched:
    /// the cause comes from an error line. `outboundAddr`/`outboundAddr6` (the options given) name
    /// the option slirp4netns refused.
    public static func classify(log: String, cidr: String? = nil, outboundAddr: String? = nil, outboundAddr6: String? = nil) -> FailureCause? {
        let lines = logLines(log).filter { role(of: $0) == .error }
        func line(containing needle: String) -> String? { lines.first { $0.contains(needle) } }

        if let l = line(containing: "MTU must be a positive integer") {
            return mtuTooLarge(evidence: l)
        }
        if let l = line(containing: "prefix length needs to be 1-25") {
            return cidrPrefixLength(cidr, evidence: l)
        }
        if let l = line(containing: "CIDR needs to be a network address") {
            return cidrNotNetworkAddress(cidr, evidence: l)
        }
        if let l = line(containing: "open(\"/dev/net/tun\")") ?? line(containing: "/dev/net/tun") {
            if l.contains("No such file") || l.contains("No such device") {
                return tunMissing(evidence: l)
            }
            if l.contains("Permission denied") || l.contains("Operation not permitted") {
                return tunDenied(mode: nil, evidence: l)
            }
        }
        if let l = line(containing: "outbound-addr has to be valid") {
            // slirp4netns says "ipv4 ... iterface" for both options; the misspelling is outbound_addr6's message.
            let six = outboundAddr == nil || (outboundAddr6 != nil && l.contains("iterface"))
            return outboundAddressInvalid(six ? "outbound_addr6" : "outbound_addr", value: (six ? outboundAddr6 : outboundAddr) ?? "?",
                                          outboundAddr: outboundAddr, interfaces: HostChecks.interfaces(), evidence: l)
        }
        if let l = line(containing: "API socket path is too long") {
            return FailureCause(.apiSocketPathTooLong, cause: "the API socket path does not fit a unix socket address (107 bytes at most)",
                                fix: "set a shorter engine.tmp_dir in containers.conf (at most \(longestTmpDirForAPISocket) bytes: the socket is <tmp_dir>/<64-character ID>.net)",
                                evidence: l)
        }
        if let l = line(containing: "unknown option for slirp4netns") {
            return FailureCause(.unknownOption, cause: "Podman does not know this slirp4netns option (\(l))",
                                fix: "use only cidr, mtu, port_handler, allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6, each as name=value",
                                evidence: l)
        }
        if let l = line(containing: "killed by signal") {
            return FailureCause(.killedBySignal, cause: "slirp4netns was killed by a signal while starting (\(l))",
                                fix: "look for an OOM kill or a seccomp/AppArmor denial in `dmesg`; try network_cmd_options=[\"mtu=1500\"] or no_pivot_root to narrow it down",
                                evidence: l)
        }
        if let l = line(containing: "setns") ?? line(containing: "cannot join") ?? line(containing: "open(netns)") {
            return FailureCause(.namespaceJoinFailed, cause: "slirp4netns could not join the container's namespaces (\(l))",
                                fix: "check that user namespaces are allowed (sysctl user.max_user_namespaces) and that the namespace still exists",
                                evidence: l)
        }
        if let l = line(containing: "could not find slirp4netns") {
            return binaryMissing(path: nil, evidence: l)
        }
        return nil
    }

    /// slirp4netns refused `outbound_addr`/`outbound_addr6` (it resolves them before it starts).
    /// `interfaces` (the host's, with their addresses) make the fix concrete.
    public static func outboundAddressInvalid(_ option: String, value: String, outboundAddr: String?,
                                              interfaces: [HostChecks.Interface], evidence: String?) -> FailureCause {
        let six = option == "outbound_addr6"
        let usable = interfaces.filter { $0.name != "lo" && !(six ? $0.ipv6 : $0.ipv4).isEmpty }
        let list = usable.map { "\($0.name) (\((six ? $0.ipv6 : $0.ipv4).joined(separator: ", ")))" }.joined(separator: ", ")
        let has = list.isEmpty ? "this host has no \(six ? "IPv6" : "IPv4") address besides the loopback's" : "this host has \(list)"
        if six && IPv6Address(value) == nil {
            // slirp4netns (1.2.0 to 1.3.x) looks an outbound_addr6 interface name up with outbound_addr's value.
            let example = usable.first.flatMap { $0.ipv6.first }.map { "outbound_addr6=\($0)" } ?? "an IPv6 address of this host"
            return FailureCause(.outboundAddressInvalid,
                                cause: "slirp4netns refuses outbound_addr6=\(value): given an interface name, it looks up the outbound_addr value instead (a slirp4netns bug), so a name works only when outbound_addr names the same interface\(outboundAddr.map { " (outbound_addr=\($0))" } ?? "")",
                                fix: "give an IPv6 address of this host: \(example) (\(has)), or add outbound_addr=\(value)", evidence: evidence)
        }
        return FailureCause(.outboundAddressInvalid,
                            cause: "slirp4netns refuses \(option)=\(value): it is neither an \(six ? "IPv6" : "IPv4") address nor the name of an interface with one",
                            fix: "give an address of this host or the name of an interface that has one (\(has))", evidence: evidence)
    }

    /// A Podman option error (its `parseSlirp4netnsNetworkOptions` messages).
    public static func podmanOption(_ message: String) -> FailureCause {
        if message.hasPrefix("unknown option") {
            return FailureCause(.unknownOption, cause: "Podman does not know this slirp4netns option: \(message)",
                                fix: "use only cidr, mtu, port_handler, allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6, each as name=value (e.g. slirp4netns:mtu=1500,enable_ipv6=false)",
                                evidence: message)
        }
        let fix: String
        if message.hasPrefix("invalid mtu") { fix = "give a whole number from 68 to 65521, e.g. mtu=65520" }
        else if message.hasPrefix("invalid cidr") { fix = "give an IPv4 network with a prefix, e.g. cidr=10.0.2.0/24" }
        else if message.hasPrefix("unknown port_handler") { fix = "use port_handler=rootlesskit (the default) or port_handler=slirp4netns" }
        else if message.contains("outbound_addr") { fix = "give an address of this host (IPv4 for outbound_addr, IPv6 for outbound_addr6) or the name of one of its interfaces" }
        else { fix = "use true or false" }
        return FailureCause(.invalidOption, cause: "Podman refuses the option: \(message)", fix: fix, evidence: message)
    }

    /// A feature the options need and the binary lacks (Podman's "... not supported").
    public static func featureMissing(_ message: String, binary: String, version: String?) -> FailureCause {
        if message.hasPrefix("enable_ipv6=true is required") {
            return FailureCause(.invalidOption, cause: "Podman refuses the options: \(message)",
                                fix: "add enable_ipv6=true, or drop outbound_addr6", evidence: message)
        }
        let option = message.components(separatedBy: " ").first ?? message
        let workaround = option == "enable_ipv6"
            ? "or add enable_ipv6=false to the container's --network slirp4netns: options (Podman turns IPv6 on by default)"
            : "or drop \(option) from the options"
        return FailureCause(.featureMissing, cause: "\(binary) (version \(version ?? "unknown")) does not support \(option): its --help does not list the flag",
                            fix: "install slirp4netns 1.2 or newer (apt-get install slirp4netns), or point engine.network_cmd_path at a newer binary; \(workaround)",
                            evidence: message)
    }

    /// The binary is not there.
    public static func binaryMissing(path: String?, evidence: String? = nil) -> FailureCause {
        if let path {
            return FailureCause(.binaryMissing, cause: "engine.network_cmd_path names \(path), which does not exist or is not executable",
                                fix: "fix or remove network_cmd_path in containers.conf, or install slirp4netns there", evidence: evidence)
        }
        return FailureCause(.binaryMissing, cause: "slirp4netns is not installed (not in PATH)",
                            fix: "apt-get install slirp4netns (or set engine.network_cmd_path in containers.conf)", evidence: evidence)
    }

    /// `/dev/net/tun` cannot be opened by this user.
    public static func tunDenied(mode: String?, evidence: String?) -> FailureCause {
        FailureCause(.tunDenied, cause: "/dev/net/tun is not readable and writable by this user\(mode.map { " (mode \($0))" } ?? ""): slirp4netns cannot create its tap device",
                     fix: "chmod 0666 /dev/net/tun (distributions ship it 0666); make it last with a udev rule: KERNEL==\"tun\", MODE=\"0666\"",
                     evidence: evidence)
    }

    /// `/dev/net/tun` does not exist.
    public static func tunMissing(evidence: String?) -> FailureCause {
        FailureCause(.tunMissing, cause: "/dev/net/tun does not exist: the tun driver is not loaded or the device node is missing",
                     fix: "modprobe tun; or: mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun",
                     evidence: evidence)
    }

    /// slirp4netns never wrote to the ready pipe.
    public static func readyTimeout(seconds: Double, evidence: String?) -> FailureCause {
        FailureCause(.readyTimeout, cause: "slirp4netns kept running but did not report ready within \(formatSeconds(seconds)) s (Podman would wait forever and the container would hang in its start)",
                     fix: "read the log below; a wrapper or old slirp4netns that ignores -r (--ready-fd) never reports ready: use slirp4netns 0.4 or newer directly; on a loaded host retry with a longer --timeout",
                     evidence: evidence)
    }

    /// slirp4netns's "prefix length needs to be 1-25", in words (the doctor's and `slirpmon addr`'s).
    public static func cidrPrefixLength(_ cidr: String?, evidence: String?) -> FailureCause {
        FailureCause(.cidrPrefixLength, cause: "the cidr's prefix length must be 1-25: slirp4netns needs room for .2, .3 and .100",
                     fix: "use a /25 or larger network, e.g. cidr=\(suggestedNetwork(cidr, prefix: 24))", evidence: evidence)
    }

    /// slirp4netns's "MTU must be a positive integer (< 65522)", in words (the trial's and the options step's).
    public static func mtuTooLarge(evidence: String?) -> FailureCause {
        FailureCause(.mtuTooLarge, cause: "slirp4netns refuses MTUs above 65521" + (evidence.map { " (\($0))" } ?? ""),
                     fix: "use mtu=65520 (Podman's default) or lower: --network slirp4netns:mtu=65520", evidence: evidence)
    }

    /// slirp4netns's "CIDR needs to be a network address", in words (the doctor's and `slirpmon addr`'s).
    /// The fix names a cidr slirp4netns accepts: the network address, or, when the prefix length
    /// is refused too (slirp4netns checks it first), the /24 around the address.
    public static func cidrNotNetworkAddress(_ cidr: String?, evidence: String?) -> FailureCause {
        let network = cidr.flatMap { IPv4Network($0) }
        if let network, !(1...25).contains(network.prefixLength) {
            return FailureCause(.cidrNotNetworkAddress, cause: "the cidr has host bits set and its prefix length is not 1-25: slirp4netns wants the network address of a /25 or larger network",
                                fix: "use a /25 or larger network, e.g. cidr=\(suggestedNetwork(cidr, prefix: 24))", evidence: evidence)
        }
        return FailureCause(.cidrNotNetworkAddress, cause: "the cidr has host bits set: slirp4netns wants the network address",
                            fix: "use cidr=\(network?.description ?? "10.0.2.0/24")", evidence: evidence)
    }

    private static func suggestedNetwork(_ cidr: String?, prefix: Int) -> String {
        guard let network = cidr.flatMap({ IPv4Network($0) }) else { return "10.0.2.0/24" }
        return IPv4Network(address: network.address, prefixLength: prefix).description
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension FailureCause {
    /// What a line of a slirp4netns log says.
    public enum LineRole: Sendable, Equatable {
        /// Anything else: what went wrong.
        case error
        /// `WARNING: ...`, `seccomp: WARNING: ...`, GLib's `(slirp4netns:1): Slirp-WARNING **: ...`.
        case warning
        /// Progress and help: `sent tapfd=5 for tap0`, `Starting slirp`, `* MTU: ...`, `Usage: ...` and the option list.
        case progress
    }

    /// The log's lines, trimmed, without empty ones. slirp4netns prints some errors without a
    /// newline on stderr and its warnings on buffered stdout, flushed at exit, so an error and a
    /// warning can share a line (`...iterface name.WARNING: Support for seccomp is experimental`):
    /// such a line is split before the `WARNING:`.
    public static func logLines(_ log: String) -> [String] {
        var out: [String] = []
        for raw in log.replacingEscapedNewlines.split(separator: "\n") {
            var start = raw.startIndex
            var from = raw.startIndex
            while let mark = raw.range(of: "WARNING: ", range: from..<raw.endIndex) {
                // Not `seccomp: WARNING: ...` (a warning of its own).
                if mark.lowerBound > start, raw[raw.index(before: mark.lowerBound)] != " " {
                    out.append(String(raw[start..<mark.lowerBound]))
                    start = mark.lowerBound
                }
                from = mark.upperBound
            }
            out.append(String(raw[start...]))
        }
        return out.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// What `line` (one of `logLines`) says.
    public static func role(of line: String) -> LineRole {
        if line.hasPrefix("WARNING") || line.hasPrefix("seccomp: WARNING") || line.contains("-WARNING **") || line.hasPrefix("warning:") {
            return .warning
        }
        let progress = ["sent tapfd=", "received tapfd=", "Starting slirp", "* ", "Usage: ", "User-mode networking", "slirp4netns version",
                        "commit: ", "libslirp: ", "SLIRP_CONFIG_VERSION_MAX", "libseccomp: ", "api_handler: got request"]
        // --help's option lines (`-c, --configure     bring up ...`), not `--configure conflicts with ...`.
        if line.hasPrefix("-") && line.contains("  ") { return .progress }
        return progress.contains { line.hasPrefix($0) } ? .progress : .error
    }

    /// Lines slirp4netns prints after the real error, as a consequence of it.
    static let consequences = ["child failed", "parent failed", "do_slirp failed", "failed to receive tapfd"]

    /// The line that says why slirp4netns failed: the line a known cause matches, else the first
    /// error line that is not a consequence of an earlier one (`child failed(1)`), else the first
    /// error line; never a warning or a progress line. nil when the log has none.
    public static func errorLine(in log: String) -> String? {
        if let known = classify(log: log)?.evidence { return known }
        let errors = logLines(log).filter { role(of: $0) == .error }
        return errors.first { line in !consequences.contains { line.hasPrefix($0) } } ?? errors.first
    }

    /// The cause when slirp4netns exited before it was ready and no known line matches: quotes the
    /// error line, or says that the log has only warnings.
    static func unexplainedExit(status: Int32, log: String) -> FailureCause {
        if let line = errorLine(in: log) {
            return FailureCause(.unknown, cause: "slirp4netns exited with status \(status) before it was ready: \(line)",
                                fix: "read the log below; run the command line above by hand for more", evidence: line)
        }
        let warnings = logLines(log).filter { role(of: $0) == .warning }
        let said = warnings.isEmpty ? "an empty log" : "only warnings (\(warnings.count): \(warnings.joined(separator: "; ")))"
        return FailureCause(.unknown, cause: "slirp4netns exited with status \(status) before it was ready, with \(said) and no error line",
                            fix: "run the command line above by hand; look for a seccomp, AppArmor or resource denial in `dmesg`", evidence: nil)
    }

    /// Podman's own message for a slirp4netns that exited before it was ready, exactly as Podman
    /// prints it (`waitForSync`: `"%s failed: %q"` with the binary's path and the whole log).
    public static func podmanExitMessage(binary: String, log: String) -> String {
        "\(binary) failed: \(goQuoted(log))"
    }
}

extension String {
    /// Podman quotes the log with `%q`: turn its `\n` back into lines for matching.
    var replacingEscapedNewlines: String {
        contains("\\n") ? replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"") : self
    }
}
