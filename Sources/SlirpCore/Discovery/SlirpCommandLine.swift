/// Decodes a slirp4netns argument vector the way slirp4netns's own `getopt_long` does.
///
/// Short options may be bundled (`-c6`) and take values attached or separate
/// (`-e3`, `-e 3`); long options take `--opt=value` or `--opt value` and may be
/// abbreviated to a unique prefix; options and positionals may be interleaved;
/// `--` ends the options. Decoding never fails: words that slirp4netns would
/// reject are kept in `unrecognized`.
public enum SlirpCommandLine {
    private enum Option: CaseIterable {
        case configure, exitFD, readyFD, mtu, enableIPv6, apiSocket, cidr, disableHostLoopback
        case netnsType, usernsPath, enableSandbox, enableSeccomp, outboundAddr, outboundAddr6
        case disableDNS, macAddress, targetType, help, version

        var longName: String {
            switch self {
            case .configure: "configure"
            case .exitFD: "exit-fd"
            case .readyFD: "ready-fd"
            case .mtu: "mtu"
            case .enableIPv6: "enable-ipv6"
            case .apiSocket: "api-socket"
            case .cidr: "cidr"
            case .disableHostLoopback: "disable-host-loopback"
            case .netnsType: "netns-type"
            case .usernsPath: "userns-path"
            case .enableSandbox: "enable-sandbox"
            case .enableSeccomp: "enable-seccomp"
            case .outboundAddr: "outbound-addr"
            case .outboundAddr6: "outbound-addr6"
            case .disableDNS: "disable-dns"
            case .macAddress: "macaddress"
            case .targetType: "target-type"
            case .help: "help"
            case .version: "version"
            }
        }

        /// The option whose short name is `letter`.
        static func short(_ letter: Unicode.Scalar) -> Option? {
            switch letter {
            case "c": .configure
            case "e": .exitFD
            case "r": .readyFD
            case "m": .mtu
            case "6": .enableIPv6
            case "a": .apiSocket
            case "h": .help
            case "v": .version
            default: nil
            }
        }

        var takesValue: Bool {
            switch self {
            case .configure, .enableIPv6, .disableHostLoopback, .enableSandbox, .enableSeccomp,
                 .disableDNS, .help, .version:
                false
            default:
                true
            }
        }
    }

    /// Decodes `arguments`, which include the program name as `arguments[0]` when
    /// `includesProgramName` is true (as in `/proc/PID/cmdline`).
    ///
    /// Words are looked at as UTF-8 bytes and scalars, not Characters: `getopt_long` knows no
    /// graphemes, and breaking each word into them would cost more than reading the command lines.
    public static func decode(_ arguments: [String], includesProgramName: Bool = true) -> SlirpConfiguration {
        var config = SlirpConfiguration()
        var positionals: [String] = []
        var words = includesProgramName ? Array(arguments.dropFirst()) : arguments
        words.reverse() // pop from the end
        while let word = words.popLast() {
            if word == "--" {
                positionals.append(contentsOf: words.reversed())
                break
            }
            let bytes = word.utf8
            if bytes.starts(with: "--".utf8) {
                let body = bytes.dropFirst(2)
                let name: Substring
                var value: String?
                if let eq = body.firstIndex(of: UInt8(ascii: "=")) {
                    name = Substring(body[..<eq])
                    value = String(Substring(body[bytes.index(after: eq)...]))
                } else {
                    name = Substring(body)
                }
                guard let option = longOption(named: name) else {
                    config.unrecognized.append(word)
                    continue
                }
                if option.takesValue {
                    if value == nil {
                        guard let next = words.popLast() else {
                            config.unrecognized.append(word)
                            continue
                        }
                        value = next
                    }
                } else if value != nil {
                    config.unrecognized.append(word)
                    continue
                }
                apply(option, value: value, to: &config, word: word)
            } else if bytes.first == UInt8(ascii: "-") && bytes.count > 1 {
                var rest = word.unicodeScalars.dropFirst()
                while let letter = rest.first {
                    rest = rest.dropFirst()
                    guard let option = Option.short(letter) else {
                        config.unrecognized.append("-\(letter)")
                        continue
                    }
                    if option.takesValue {
                        var value: String?
                        if !rest.isEmpty {
                            value = String(Substring(rest))
                            rest = rest[rest.endIndex...]
                        } else {
                            value = words.popLast()
                        }
                        guard let value else {
                            config.unrecognized.append("-\(letter)")
                            break
                        }
                        apply(option, value: value, to: &config, word: word)
                    } else {
                        apply(option, value: nil, to: &config, word: word)
                    }
                }
            } else {
                positionals.append(word)
            }
        }
        if positionals.count > 0 { config.target = positionals[0] }
        if positionals.count > 1 { config.tapName = positionals[1] }
        if positionals.count > 2 { config.unrecognized.append(contentsOf: positionals[2...]) }
        return config
    }

    private static let optionsByLongName = Dictionary(uniqueKeysWithValues: Option.allCases.map { ($0.longName, $0) })

    private static func longOption(named name: Substring) -> Option? {
        if let exact = optionsByLongName[String(name)] { return exact }
        guard !name.isEmpty else { return nil }
        let candidates = Option.allCases.filter { $0.longName.hasPrefix(name) }
        return candidates.count == 1 ? candidates[0] : nil
    }

    private static func apply(_ option: Option, value: String?, to config: inout SlirpConfiguration, word: String) {
        /// slirp4netns refuses at parse time: `exit-fd`/`ready-fd must be a non-negative integer`,
        /// `MTU must be a positive integer (< 65522)`.
        func integer(_ allowed: ClosedRange<Int>) -> Int? {
            guard let value, let n = Int(value), allowed.contains(n) else {
                config.unrecognized.append(word)
                return nil
            }
            return n
        }
        switch option {
        case .configure: config.configure = true
        case .exitFD: if let n = integer(0...Int.max) { config.exitFD = n }
        case .readyFD: if let n = integer(0...Int.max) { config.readyFD = n }
        case .mtu: if let n = integer(1...65521) { config.mtu = n }
        case .enableIPv6: config.enableIPv6 = true
        case .apiSocket: config.apiSocket = value
        case .cidr: config.cidr = value
        case .disableHostLoopback: config.disableHostLoopback = true
        case .netnsType:
            if let type = value.flatMap(SlirpConfiguration.NetnsType.init(rawValue:)) {
                config.netnsType = type
            } else {
                config.unrecognized.append(word)
            }
        case .usernsPath: config.usernsPath = value
        case .enableSandbox: config.enableSandbox = true
        case .enableSeccomp: config.enableSeccomp = true
        case .outboundAddr: config.outboundAddr = value
        case .outboundAddr6: config.outboundAddr6 = value
        case .disableDNS: config.disableDNS = true
        case .macAddress: config.macAddress = value
        case .targetType: config.targetType = value
        case .help, .version: config.unrecognized.append(word)
        }
    }
}
