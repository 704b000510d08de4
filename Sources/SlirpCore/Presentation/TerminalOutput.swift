#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writing text from outside to standard output or standard error, through `TerminalText`:
/// the one way every slirpmon program (the CLI's `FileHandleOutput`, `slirpmon-bench`) reaches
/// a terminal. A control character, DEL, C1, a bidi or other format character in a user's
/// path, log or error reaches the terminal as a visible escape, never as itself.
public enum TerminalOutput {
    /// One line to stderr (a newline inside is shown as `\x0A`: it cannot start a line that
    /// reads as the program's own). Returns 0 or the errno of the failed write.
    @discardableResult
    public static func errorLine(_ line: String) -> Int32 {
        let text = line.hasSuffix("\n") ? String(line.dropLast()) : line
        return write(2, TerminalText.escaping(text, as: .line) + "\n")
    }

    /// Lines to `fd` (1 or 2), newlines and tabs kept, every other control and hidden character
    /// escaped; a final newline added when missing. Returns 0 or the errno of the failed write.
    @discardableResult
    public static func block(_ text: String, to fd: Int32) -> Int32 {
        write(fd, TerminalText.escaping(text.hasSuffix("\n") ? text : text + "\n", as: .block))
    }

    /// A line on stderr that the next one overwrites (`\r` first: written here, not taken from the text).
    @discardableResult
    public static func progress(_ text: String) -> Int32 {
        write(2, "\r" + TerminalText.escaping(text, as: .line))
    }

    /// The columns text written to `fd` should fit: the terminal's width, or 80 when `fd` is not a
    /// terminal (a pipe, a file) or reports no width.
    public static func columns(_ fd: Int32) -> Int { TerminalSize(of: fd)?.columns ?? 80 }

    /// Writes `text` (already safe) to `fd`: 0, or the errno of the failed write.
    static func write(_ fd: Int32, _ text: String) -> Int32 {
        var text = text
        return text.withUTF8 { write(fd, UnsafeRawBufferPointer($0)) }
    }

    /// Writes all of `raw` to `fd`, as it is (callers pass text made safe, or bytes for a pipe):
    /// 0, or the errno of the failed write. The corresponding C function is `write`.
    public static func write(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Int32 {
        do { try FileDescriptor(rawValue: fd).writeAll(raw) } catch { return error.code }
        return 0
    }
}
