import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's one way to its standard output and standard error: results, tables, JSON, errors
/// (its writes go through SlirpCore's `TerminalOutput`, shared with slirpmon-bench).
///
/// Nearly every text slirpmon prints as root comes from outside it (a user's process, its
/// paths and log, Podman), so every text written here passes `TerminalText` first: a control
/// character, DEL, C1, a bidi or other format character reaches the terminal as a visible
/// escape (`\x1B`, `\u{202E}`), never as itself. Nothing in this module writes any other way:
/// Swift's `print` is unavailable here (below), and `OutputBoundaryTests` fails on any other
/// write to descriptors 1 or 2 in Sources/slirpmon. The one exception is `ExactOutput`, the
/// log's bytes as they are, which exists only when standard output is not a terminal.
enum FileHandleOutput {
    /// One line to stderr (an error or a notice is one line: a newline in a user's path is
    /// shown as `\x0A`, so it cannot start a line that reads as slirpmon's own).
    static func error(_ line: String) {
        TerminalOutput.errorLine(line)
    }

    /// Lines to stderr, newlines and tabs kept (ArgumentParser's usage and help text).
    static func errorBlock(_ text: String) {
        TerminalOutput.block(text, to: 2)
    }

    /// A progress line on stderr that the next one overwrites (`\r` first: written here, not
    /// taken from the text).
    static func progress(_ text: String) {
        TerminalOutput.progress(text)
    }

    /// Lines to stdout; newlines and tabs are kept, every other control and hidden character escaped.
    static func print(_ text: String) {
        standardOutput(TerminalText.escaping(text.hasSuffix("\n") ? text : text + "\n", as: .block))
    }

    /// Bytes of a log to stdout, as text safe for a terminal: a byte that is not UTF-8 shows as
    /// `\xNN` (a lone 0x9B is a CSI to a terminal not in UTF-8 mode), controls as above.
    /// A reader that went away (EPIPE: `slirpmon log | head`) ends the run with status 0.
    static func logText<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        var text = TerminalText.escaping(bytes: bytes, as: .block)
        text.withUTF8 { standardOutput(UnsafeRawBufferPointer($0), endingQuietlyOnEPIPE: true) }
    }

    /// Pretty, key-sorted JSON: stable for scripts and diffs. `JSONText` escapes every control,
    /// C1 and hidden character as `\uXXXX` (valid JSON that reads back to the same string).
    static func json<T: Encodable>(_ value: T) throws {
        standardOutput(try JSONText.encode(value) + [0x0A])
    }

    /// One value as compact JSON on one line (`events --json`: a line per event, written as it
    /// comes). A reader that went away (EPIPE: `| head -1`) ends the run with status 0.
    static func jsonLine<T: Encodable>(_ value: T) throws {
        (try JSONText.encode(value, pretty: false) + [0x0A]).withUnsafeBytes { standardOutput($0, endingQuietlyOnEPIPE: true) }
    }

    /// One line of text as `print` writes it, ending the run with status 0 when the reader went away.
    static func streamLine(_ text: String) {
        var text = TerminalText.escaping(text, as: .line) + "\n"
        text.withUTF8 { standardOutput(UnsafeRawBufferPointer($0), endingQuietlyOnEPIPE: true) }
    }

    /// Standard output when it is not a terminal: the only writer of bytes exactly as they are
    /// (`slirpmon log --raw`). A terminal would obey the escape sequences in them, so on a
    /// terminal there is none to have.
    struct ExactOutput {
        private init() {}

        /// The exact writer, or nil when stdout is a terminal.
        static func whenNotATerminal() -> ExactOutput? { isatty(1) != 0 ? nil : ExactOutput() }

        func write<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            guard !bytes.isEmpty else { return }
            Array(bytes).withUnsafeBytes { FileHandleOutput.standardOutput($0, endingQuietlyOnEPIPE: true) }
        }
    }

    /// Writes to stdout; when it cannot be written (closed, a full disk), says so on stderr and exits 1.
    /// (FileHandle.write traps on a closed descriptor: `slirpmon list >&-` crashed with SIGILL.)
    private static func standardOutput(_ text: String) {
        var text = text
        text.withUTF8 { standardOutput(UnsafeRawBufferPointer($0)) }
    }

    private static func standardOutput(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { standardOutput($0) }
    }

    private static func standardOutput(_ raw: UnsafeRawBufferPointer, endingQuietlyOnEPIPE: Bool = false) {
        let code = TerminalOutput.write(1, raw)
        guard code != 0 else { return }
        if code == EPIPE && endingQuietlyOnEPIPE { Glibc.exit(0) }
        error("slirpmon: cannot write to standard output: \(String(cString: strerror(code)))")
        Glibc.exit(1)
    }

}

/// Swift's `print` writes around `FileHandleOutput` (and so around `TerminalText`): not in this module.
@available(*, unavailable, message: "write through FileHandleOutput: it makes text from outside safe for a terminal")
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {}

/// Swift's `debugPrint` writes around `FileHandleOutput`: not in this module.
@available(*, unavailable, message: "write through FileHandleOutput: it makes text from outside safe for a terminal")
func debugPrint(_ items: Any..., separator: String = " ", terminator: String = "\n") {}

/// Plain-text tables with columns sized to their content.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    /// The table as lines. Each cell is one line (`terminalSafe`): a newline or tab in a user's
    /// path cannot break the columns or start a row of its own.
    var rendered: String {
        let rows = rows.map { $0.map(\.terminalSafe) }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// The table in `width` columns where it can be: a first cell wider than a third of the width
    /// stands whole on a line of its own (a path stays one copyable piece), the rest of its row on
    /// the next line; the last column wraps at spaces under itself. Lines end without blanks.
    func rendered(fitting width: Int) -> String {
        let rows = rows.map { $0.map(\.terminalSafe) }
        let cap = max(header.first?.count ?? 0, width / 3)
        let alone = rows.map { $0.count > 1 && $0[0].count > cap }
        var widths = header.map(\.count)
        for (row, alone) in zip(rows, alone) {
            for (i, cell) in row.enumerated() where i < widths.count && !(i == 0 && alone) { widths[i] = max(widths[i], cell.count) }
        }
        let lastStart = widths.dropLast().reduce(0) { $0 + $1 + 2 }
        // Too little room beside the other columns: the last one runs on as it is.
        let room = width - lastStart >= 20 ? width - lastStart : Int.max
        func lines(_ cells: [String]) -> [String] {
            let head = cells.dropLast().enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) + "  " }.joined()
            let pieces = Self.wrap(cells.last ?? "", width: room)
            return pieces.enumerated().map { i, piece in
                var text = (i == 0 ? head : String(repeating: " ", count: lastStart)) + piece
                while text.last == " " { text.removeLast() }
                return text
            }
        }
        var out = lines(header)
        for (row, alone) in zip(rows, alone) {
            if alone { out.append(row[0]) }
            out += lines(alone ? [""] + row.dropFirst() : row)
        }
        return out.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken at spaces (a longer word stays whole).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        return lines + [current]
    }
}

extension String {
    /// The operator's argument quoted for an error, at most 40 characters of it: a 10 KB argument
    /// is not echoed whole.
    var abbreviatedQuote: String {
        (count <= 40 ? self : String(prefix(40)) + "...").debugDescription
    }
}
