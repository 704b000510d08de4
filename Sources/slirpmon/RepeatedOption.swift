/// An option that takes one value, given twice with different values (`--guest-addr A
/// --guest-addr B`): ArgumentParser keeps the last one silently, so the operator's first value
/// would be dropped without a word. Refused before anything is read or sent; the same value
/// twice is harmless and kept.
enum RepeatedOption {
    /// slirpmon's options that take one value, by every name they have (`-d` is `--delay`).
    /// An option added with one value belongs here.
    static let names: [String: String] = [
        "--guest-addr": "--guest-addr", "--timeout": "--timeout", "--bytes": "--bytes",
        "--delay": "--delay", "-d": "--delay", "--cidr": "--cidr", "--options": "--options", "--docker-rootless": "--docker-rootless",
    ]

    /// The error for the first option of `names` given twice with different values among
    /// `arguments` (up to a `--`), or nil. Each of these options reads the next word as its value
    /// whatever it begins with (`parsing: .unconditional`), so that word is skipped as a value here too.
    static func conflict(in arguments: ArraySlice<String>) -> String? {
        var seen: [String: String] = [:]
        var words = arguments
        while let word = words.popFirst(), word != "--" {
            let (name, attached) = split(word)
            guard let option = names[name] else { continue }
            guard let value = attached ?? words.popFirst() else { return nil }
            if let earlier = seen[option], earlier != value {
                return "\(option) is given twice, \(earlier.abbreviatedQuote) and \(value.abbreviatedQuote): give it once"
            }
            seen[option] = value
        }
        return nil
    }

    /// `--name=value` as ("--name", "value"); any other word as (word, nil).
    static func split(_ word: String) -> (String, String?) {
        guard word.hasPrefix("-"), let eq = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<eq]), String(word[word.index(after: eq)...]))
    }
}
