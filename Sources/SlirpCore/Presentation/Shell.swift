/// Command lines printed for an operator to paste into a shell. Every word that slirpmon did not
/// write itself (a container or pod name, a path, a target typed on the command line, a process's
/// arguments) goes through `quoted`: whatever it holds (`;`, `$(id)`, `'`, a space) reaches the
/// command as one literal word, so a pasted line does what it says and nothing else.
public enum Shell {
    /// `word` quoted for a POSIX shell when it needs it: bare when every character is one no shell
    /// treats specially (and it does not start with `=`, which zsh expands as a command path),
    /// else in single quotes, each `'` written as `'\''`.
    public static func quoted(_ word: String) -> String {
        let plain = word.unicodeScalars.allSatisfy { s in
            switch s {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", ":", ",", "=", "@", "%", "+": true
            default: false
            }
        }
        guard !plain || word.isEmpty || word.hasPrefix("=") else { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// `words` as one command line, each word quoted (`quoted`).
    public static func command(_ words: [String]) -> String {
        words.map(quoted).joined(separator: " ")
    }

    /// `text` as a shell comment line: `# ` and the text with every control character (a newline
    /// above all, which would end the comment and run what follows it) and line separator as `?`.
    /// A comment may quote a command or a name a user chose; pasted or piped to sh, it stays inert.
    public static func comment(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: out.append("?")
            default: out.append(scalar)
            }
        }
        return "# " + String(out)
    }
}
