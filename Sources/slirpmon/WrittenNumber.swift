import ArgumentParser

/// A number given on the command line, with the text the operator wrote.
///
/// A range error quotes the value as written (`--timeout 0` says "got 0", not "got 0.0";
/// `-d 1e-3` says "got 1e-3"). Options of this type are declared with `parsing: .unconditional`:
/// ArgumentParser otherwise takes a value that begins with `-` (`--bytes -5`) for an option and
/// reports a missing value, although one was given; read as a number, it gets the range error.
struct WrittenNumber<Value: LosslessStringConvertible & Sendable>: ExpressibleByArgument, Sendable {
    let value: Value
    let text: String

    /// A default value (its text is how Swift writes it, shown by `--help`).
    init(_ value: Value) {
        self.value = value
        text = value.description
    }

    init?(argument: String) {
        guard let value = Value(argument) else { return nil }
        self.value = value
        text = argument
    }

    var defaultValueDescription: String { text }

    /// The value as written, for an error: at most 40 characters of it (a 10 KB argument is not echoed whole).
    var written: String { text.count <= 40 ? text : String(text.prefix(40)) + "..." }
}
