import ArgumentParser

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
    /// An unknown option close to one of `command`'s gets ArgumentParser's suggestion back
    /// ("did you mean \"--json\"?"), which `.allUnrecognized` takes away.
    static func positionals(_ words: [String], of command: any ParsableCommand.Type) throws(CLIError) -> [String] {
        var words = words
        if let terminator = words.firstIndex(of: "--") { words.remove(at: terminator) }
        if let option = words.first(where: { $0.hasPrefix("-") && $0 != "-" && !isNegative($0) }) {
            let suggestion = closest(to: option, among: options(of: command)).map { "; did you mean \($0.abbreviatedQuote)?" } ?? ""
            throw CLIError.usage("unknown option \(option.abbreviatedQuote)\(suggestion) (see `slirpmon help`)")
        }
        return words
    }

    /// The long options `command` has, as its help lists them (read on this error path only, so
    /// the list is never kept apart from the declarations).
    static func options(of command: any ParsableCommand.Type) -> [String] {
        let help = command.helpMessage(columns: 1000)
        guard let start = help.range(of: "\nOPTIONS:\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n").flatMap { line in
            line.split(separator: " ").prefix { $0.hasPrefix("-") || $0.hasPrefix("<") }
                .map { String($0.hasSuffix(",") ? $0.dropLast() : $0) }
                .filter { $0.hasPrefix("--") }
        }
    }

    /// The option nearest to `word`, as ArgumentParser suggests one: a long option fewer than 4
    /// edits away, the nearest first; nil when none is that close.
    static func closest(to word: String, among options: [String]) -> String? {
        let word = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
        return options.map { ($0, editDistance(Array(word.utf8), Array($0.utf8))) }
            .filter { $0.1 < 4 }
            .min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance (insertions, deletions, substitutions each cost 1).
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty, !b.isEmpty, a.count < 200 else { return a.isEmpty ? b.count : max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// ArgumentParser's "Missing expected argument" when a TARGET was given as `-5`: it took
    /// the value for an option and then found no TARGET (or, in `fwd add|rm`, took the next
    /// value for the TARGET and found no mapping or id). Returns the error to print instead, or nil.
    static func explainMissingTarget(_ parserMessage: String, arguments: ArraySlice<String>) -> String? {
        let missing = ["'<target>'", "'<mappings> ...'", "'<ids> ...'"]
        guard parserMessage.hasPrefix("Missing expected argument"), missing.contains(where: parserMessage.contains) else { return nil }
        // A negative number given as an option's value (`--timeout -1`) is that option's, not the TARGET.
        var words = arguments.prefix { $0 != "--" }
        var stray: String?
        while let word = words.popFirst() {
            let (name, attached) = RepeatedOption.split(word)
            if RepeatedOption.names[name] != nil, attached == nil { _ = words.popFirst(); continue }
            if isNegative(word) { stray = word; break }
        }
        guard let value = stray else { return nil }
        return "\(value.abbreviatedQuote) is not a TARGET: a PID is a positive number and no container name or ID begins with \"-\""
    }
}
