/// A container's create command (`Config.CreateCommand`) written so that running it again leaves
/// the container as it is now: running and detached, or created and not started.
///
/// A persist step runs a member's create command as Podman kept it, and a command typed in the
/// foreground (`podman run --pod P img`, `-it`) would block the steps or attach to the terminal;
/// a container stopped since its `podman run -d` would be started. So a running container's
/// command becomes `run` with `-d` (a `create` becomes `run -d`: the container ran), and a
/// stopped or created one's becomes `create` without the options only `run` takes (`-d`,
/// `--detach-keys`, `--sig-proxy`, `--rmi`, `--passwd`, `--preserve-fds`: `podman create` refuses
/// them). The rest of the words are kept as they are; `podman pod create` and `kube play` are not
/// a container's and are left alone.
public enum RecreateCommand {
    /// Podman's `run` options that take no value (podman 4.3 `run --help`); every other option
    /// takes one, as the next word unless written `--name=value` or joined to a short letter
    /// (`-p8080:80`). The first word that is not an option is the image: from it on, the words are
    /// the container's own command and are never looked at.
    static let flags: Set<String> = [
        "--detach", "--disable-content-trust", "--env-host", "--help", "--http-proxy", "--init", "--interactive",
        "--no-healthcheck", "--no-hosts", "--oom-kill-disable", "--passwd", "--privileged", "--publish-all", "--quiet",
        "--read-only", "--read-only-tmpfs", "--replace", "--rm", "--rmi", "--rootfs", "--sig-proxy", "--tls-verify",
        "--tty", "--unsetenv-all",
    ]
    /// The short letters that are `flags` (`-dit` is `-d -i -t`).
    static let longOfShort: [Character: String] = ["d": "--detach", "i": "--interactive", "P": "--publish-all", "q": "--quiet", "t": "--tty"]
    /// The long options `podman create` refuses (`-d` is `--detach`).
    static let runOnly: Set<String> = ["--detach", "--detach-keys", "--sig-proxy", "--rmi", "--passwd", "--preserve-fds"]

    /// `command` written to leave the container running (`running`) or created and not started.
    public static func leaving(_ command: [String], running: Bool) -> [String] {
        guard let at = command.dropFirst().firstIndex(where: { ["run", "create", "kube", "play"].contains($0) }),
              command[at] == "run" || command[at] == "create", command[at - 1] != "pod" else { return command }
        var words = command
        let options = Self.options(command, after: at)
        if running {
            if command[at] == "run" && isDetached(options) { return command }
            words = removing(options, from: command) { $0 == "--detach" }
            words[at] = "run"
            words.insert("-d", at: at + 1)
        } else if command[at] == "run" {
            words = removing(options, from: command) { runOnly.contains($0) }
            words[at] = "create"
        }
        return words
    }

    /// One option as written: the words it spans, its names (a short boolean letter by its long
    /// name, `-d` as `--detach`; `-dit` has three) and its value, if it takes one.
    struct Option {
        let words: Range<Int>
        let names: [String]
        let value: String?
    }

    /// The options of `command` after its subcommand word at `at`, up to the image or `--`.
    static func options(_ command: [String], after at: Int) -> [Option] {
        var found: [Option] = []
        var i = at + 1
        while i < command.count {
            let word = command[i]
            guard word.hasPrefix("-"), word != "-", word != "--" else { break }
            if word.hasPrefix("--") {
                if let eq = word.firstIndex(of: "=") {
                    found.append(Option(words: i..<(i + 1), names: [String(word[..<eq])], value: String(word[word.index(after: eq)...])))
                    i += 1
                } else if flags.contains(word) {
                    found.append(Option(words: i..<(i + 1), names: [word], value: nil))
                    i += 1
                } else {
                    found.append(Option(words: i..<min(i + 2, command.count), names: [word], value: i + 1 < command.count ? command[i + 1] : nil))
                    i += 2
                }
                continue
            }
            // A short cluster: boolean letters, then at most one letter that takes a value.
            var names: [String] = []
            var end = i + 1
            var value: String?
            for (n, letter) in word.dropFirst().enumerated() {
                if let long = longOfShort[letter] { names.append(long); continue }
                names.append("-" + String(letter))
                let rest = String(word.dropFirst(n + 2))
                if rest.isEmpty {
                    value = i + 1 < command.count ? command[i + 1] : nil
                    end = min(i + 2, command.count)
                } else {
                    value = rest
                }
                break
            }
            found.append(Option(words: i..<end, names: names, value: value))
            i = end
        }
        return found
    }

    /// True when the last `--detach` among `options` leaves it on (`-d`, `--detach`, `--detach=true`).
    static func isDetached(_ options: [Option]) -> Bool {
        guard let last = options.last(where: { $0.names.contains("--detach") }) else { return false }
        return last.names.count > 1 || last.value == nil || last.value == "true"
    }

    /// `command` without the options `drop` names; a short cluster loses only the letter (`-dit`
    /// -> `-it`, `-dp 80:80` -> `-p 80:80`): `d` is the only short letter of an option `create` refuses.
    static func removing(_ options: [Option], from command: [String], _ drop: (String) -> Bool) -> [String] {
        var words = command
        for option in options.reversed() where option.names.contains(where: drop) {
            let first = command[option.words.lowerBound]
            if !first.hasPrefix("--") && first.count > 2 {
                words[option.words.lowerBound] = "-" + first.dropFirst().filter { $0 != "d" }
            } else {
                words.removeSubrange(option.words)
            }
        }
        return words
    }
}
