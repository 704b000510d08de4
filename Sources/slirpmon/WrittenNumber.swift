import ArgumentParser

/// A number given on the command line, with the text the operator wrote.
///
/// A range error quotes the value as written (`--timeout 0` says "got 0", not "got 0.0";
/// `-d 1e-3` says "got 1e-3"). Options of this type are declared with `parsing: .unconditional`:
/// ArgumentParser otherwise takes a value that begins with `-` (`--bytes -5`) for an option and
/// reports a missing value, although one was given; read as a number, it gets the range error.
///
/// A text that is no number of the type (`--bytes 1.5`, `--timeout abc`) is read too, as
/// `isNumber` false, so that the option's own check refuses it with the same range words
/// ("--bytes must be from 1 to ..., got 1.5"), not ArgumentParser's "The value '1.5' is invalid":
/// every check tests `isNumber` with the range.
struct WrittenNumber<Value: LosslessStringConvertible & Numeric & Sendable>: ExpressibleByArgument, Sendable {
    /// The number; zero when the text is no number (`isNumber` false).
    let value: Value
    let text: String
    let isNumber: Bool

    /// A default value (its text is how Swift writes it, shown by `--help`).
    init(_ value: Value) {
        self.value = value
        text = value.description
        isNumber = true
    }

    init?(argument: String) {
        let number = Value(argument)
        value = number ?? .zero
        isNumber = number != nil
        text = argument
    }

    /// True when the text is a number of the type and `accepts` it.
    func isNumber(within accepts: (Value) -> Bool) -> Bool { isNumber && accepts(value) }

    var defaultValueDescription: String { text }

    /// The value as written, for an error: at most 40 characters of it (a 10 KB argument is not echoed whole).
    var written: String { text.isEmpty ? "\"\"" : text.count <= 40 ? text : String(text.prefix(40)) + "..." }
}
