#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The settings a user's Docker rootless daemon starts with: the variables `dockerd-rootless.sh`
/// reads (`DOCKERD_ROOTLESS_ROOTLESSKIT_*`, PATH, HOME, XDG_RUNTIME_DIR), each with where it
/// came from.
///
/// Sources, later ones winning: the login environment (the caller's own, or the one slirpmon
/// gives a user it runs as), the user's systemd unit `~/.config/systemd/user/docker.service`
/// and its drop-ins `docker.service.d/*.conf` (their `Environment=` lines, in systemd's
/// order), then `--env NAME=VALUE` given to slirpmon. The unit is the user's file: it is read
/// as the user (the doctor runs as them), as a regular file of at most `unitLimit` bytes,
/// never opened when it is a FIFO or a device, and only its `[Service]` section's
/// `Environment=` and `ExecStart=` lines are understood.
public struct DockerRootlessSettings: Sendable, Equatable {
    /// One variable and where its value came from (`environment`, a unit file's path, `--env`).
    public struct Variable: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public var origin: String
        /// False when the script on this machine does not read it (a newer script's variable).
        public var used: Bool
    }

    /// The variables the script reads (or newer scripts read), in the order shown.
    public static let scriptVariables = [
        "DOCKERD_ROOTLESS_ROOTLESSKIT_NET", "DOCKERD_ROOTLESS_ROOTLESSKIT_MTU", "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER",
        "DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SANDBOX", "DOCKERD_ROOTLESS_ROOTLESSKIT_SLIRP4NETNS_SECCOMP",
        "DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK", "DOCKERD_ROOTLESS_ROOTLESSKIT_STATE_DIR",
        "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS",
    ]
    /// The login variables the script depends on.
    public static let loginVariables = ["PATH", "HOME", "XDG_RUNTIME_DIR"]
    /// A unit file larger than this is refused (systemd's own units are a few hundred bytes).
    public static let unitLimit = 64 << 10
    /// At most this many drop-in files are read.
    public static let dropInLimit = 32

    /// Every variable that decides the start, by name.
    public var values: [String: Variable] = [:]
    /// The unit files read, in order.
    public var unitFiles: [String] = []
    /// The script `ExecStart=` names, when it names one.
    public var execStartScript: String?
    /// Lines and files not understood or refused, each in one line (shown, never fatal).
    public var problems: [String] = []

    public init() {}

    /// The value the script sees, or nil when unset.
    public subscript(_ name: String) -> String? { values[name]?.value }

    /// The settings for a user whose home is `home`, over the login `environment`, with
    /// `overrides` (`--env`) last.
    public static func load(home: String, uid: UInt32, userName: String, environment: [String: String],
                            overrides: [(name: String, value: String)]) -> DockerRootlessSettings {
        var settings = DockerRootlessSettings()
        for name in scriptVariables + loginVariables {
            if let value = environment[name] { settings.set(name, value, origin: "environment") }
        }
        let unitDirectory = "\(home)/.config/systemd/user"
        var files = ["\(unitDirectory)/docker.service"]
        let dropIns = "\(unitDirectory)/docker.service.d"
        if let entries = try? Files.directoryEntries(dropIns, limit: 4096) {
            let conf = entries.filter { $0.hasSuffix(".conf") }.sorted()
            if conf.count > dropInLimit { settings.problems.append("\(dropIns): \(conf.count) drop-ins, only the first \(dropInLimit) read") }
            files += conf.prefix(dropInLimit).map { "\(dropIns)/\($0)" }
        }
        let specifiers = ["h": home, "t": "/run/user/\(uid)", "U": String(uid), "u": userName, "%": "%"]
        for file in files where Files.exists(file) || (try? Files.linkStatus(file)) != nil {
            let bytes: [UInt8]
            do { bytes = try SafeFiles.readRegularFile(file, limit: unitLimit) } catch {
                settings.problems.append("\(file): skipped: \(error.reason)")
                continue
            }
            settings.unitFiles.append(file)
            let unit = parseUnit(String(decoding: bytes, as: UTF8.self), specifiers: specifiers)
            for problem in unit.problems { settings.problems.append("\(file): \(problem)") }
            for entry in unit.environment {
                // `Environment=` with nothing resets what the unit files assigned so far, as systemd does.
                guard let (name, value) = entry else {
                    for (name, variable) in settings.values where variable.origin.hasPrefix("/") { settings.values[name] = nil }
                    continue
                }
                if scriptVariables.contains(name) || loginVariables.contains(name) { settings.set(name, value, origin: file) }
            }
            if let script = unit.execStart { settings.execStartScript = script }
        }
        for (name, value) in overrides { settings.set(name, value, origin: "--env") }
        return settings
    }

    mutating func set(_ name: String, _ value: String, origin: String) {
        values[name] = Variable(name: name, value: value, origin: origin, used: true)
    }

    /// What a unit file says: its `[Service]` `Environment=` assignments in order (nil for an
    /// empty `Environment=`, which resets), the program `ExecStart=` runs, and lines not understood.
    public static func parseUnit(_ text: String, specifiers: [String: String] = [:])
        -> (environment: [(String, String)?], execStart: String?, problems: [String]) {
        var environment: [(String, String)?] = []
        var execStart: String?
        var problems: [String] = []
        var section = ""
        var logical: [String] = []
        var pending = ""
        // systemd joins a line that ends with a backslash to the next.
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            logical.append(pending + line)
            pending = ""
        }
        if !pending.isEmpty { logical.append(pending) }
        for line in logical {
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") { section = trimmed; continue }
            guard section == "[Service]", let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingSpaces
            let value = expand(String(trimmed[trimmed.index(after: equals)...]).trimmingSpaces, specifiers)
            switch key {
            case "Environment":
                if value.isEmpty { environment.append(nil); continue }
                guard let words = splitWords(value) else {
                    problems.append("Environment=\(quote(value)): unbalanced quotes (systemd ignores the line)")
                    continue
                }
                for word in words {
                    guard let eq = word.firstIndex(of: "="), isVariableName(word[..<eq]) else {
                        problems.append("Environment= word \(quote(word)) is not NAME=VALUE (systemd ignores it)")
                        continue
                    }
                    environment.append((String(word[..<eq]), String(word[word.index(after: eq)...])))
                }
            case "EnvironmentFile":
                problems.append("EnvironmentFile=\(quote(value)) is not read: give its DOCKERD_ROOTLESS_* variables with --env NAME=VALUE")
            case "ExecStart":
                // `ExecStart=-/path ...`: systemd's prefixes (-, @, :, +, !) come before the program.
                let program = splitWords(value)?.first.map { String($0.drop { "-@:+!".contains($0) }) }
                if let program, program.hasSuffix("dockerd-rootless.sh") { execStart = program }
            default: continue
            }
        }
        return (environment, execStart, problems)
    }

    /// systemd's word splitting: blanks separate words; double and single quotes group (a
    /// backslash escapes inside double quotes and outside quotes). nil when a quote is not closed.
    public static func splitWords(_ text: String) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped { word.append(c); escaped = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escaped = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                continue
            }
            if c == "\"" || c == "'" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" {
                if inWord { words.append(word); word = ""; inWord = false }
                continue
            }
            word.append(c)
            inWord = true
        }
        if quote != nil { return nil }
        if inWord { words.append(word) }
        return words
    }

    /// systemd's specifiers in `Environment=` (`%h` home, `%t` runtime dir, `%U` uid, `%u` user, `%%`);
    /// others are left as written.
    static func expand(_ text: String, _ specifiers: [String: String]) -> String {
        guard text.contains("%"), !specifiers.isEmpty else { return text }
        var out = ""
        var percent = false
        for c in text {
            if percent {
                out += specifiers[String(c)] ?? "%\(c)"
                percent = false
            } else if c == "%" {
                percent = true
            } else {
                out.append(c)
            }
        }
        if percent { out.append("%") }
        return out
    }

    public static func isVariableName<S: StringProtocol>(_ name: S) -> Bool {
        guard let first = name.first, first == "_" || first.isASCII && first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

extension DockerRootlessSettings {
    /// A value from a user's file, quoted and cut to 80 characters for one line of a report.
    static func quote(_ text: String) -> String {
        "\"" + (text.count > 80 ? text.prefix(77) + "..." : text) + "\""
    }
}
