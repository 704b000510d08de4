/// Values that begin with `-` (`-80:80`, `-1`), which ArgumentParser takes for options: the
/// operator gave a value, so the error names that value, not a missing one.
///
/// Options that take a number or a text are declared `parsing: .unconditional` (their value is
/// read whatever it begins with, then refused by the option's own check); the lists of `fwd add`
/// and `fwd rm` are `parsing: .allUnrecognized` and go through `positionals(_:)`; a TARGET is
/// a single argument, for which ArgumentParser has no such strategy: `explainMissingTarget`.
enum DashedValue {
    /// True for `-` followed by a digit: never an option of slirpmon (none is named by a digit).
    static func isNegative(_ word: String) -> Bool {
        let utf8 = Array(word.utf8.prefix(2))
        return utf8.count == 2 && utf8[0] == UInt8(ascii: "-") && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(utf8[1])
    }

    /// The values of a list read with `.allUnrecognized`: what ArgumentParser left over, in order.
    /// A value that begins with `-` and a digit is kept (its own check refuses it in words); any
    /// other word that begins with `-` is an option slirpmon does not know, refused as ArgumentParser
    /// would refuse it; the first `--` only ends the options.
    static func positionals(_ words: [String]) throws(CLIError) -> [String] {
        var words = words
        if let terminator = words.firstIndex(of: "--") { words.remove(at: terminator) }
        if let option = words.first(where: { $0.hasPrefix("-") && $0 != "-" && !isNegative($0) }) {
            throw CLIError.usage("unknown option \(option.abbreviatedQuote) (see `slirpmon help`)")
        }
        return words
    }

    /// ArgumentParser's "Missing expected argument" when a TARGET was given as `-5`: it took
    /// the value for an option and then found no TARGET (or, in `fwd add|rm`, took the next
    /// value for the TARGET and found no mapping or id). Returns the error to print instead, or nil.
    static func explainMissingTarget(_ parserMessage: String, arguments: ArraySlice<String>) -> String? {
        let missing = ["'<target>'", "'<mappings> ...'", "'<ids> ...'"]
        guard parserMessage.hasPrefix("Missing expected argument"), missing.contains(where: parserMessage.contains) else { return nil }
        let options = arguments.prefix { $0 != "--" }
        guard let value = options.first(where: isNegative) else { return nil }
        return "\(value.abbreviatedQuote) is not a TARGET: a PID is a positive number and no container name or ID begins with \"-\""
    }
}
