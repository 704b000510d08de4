import Foundation
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

/// Writing results: text tables, JSON, and errors.
enum FileHandleOutput {
    static func error(_ line: String) {
        _ = write(2, Data((line.hasSuffix("\n") ? line : line + "\n").utf8))
    }

    /// Writes to stderr without a newline (progress lines that redraw with \r).
    static func errorInline(_ text: String) {
        _ = write(2, Data(text.utf8))
    }

    static func print(_ text: String) {
        standardOutput(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Pretty, key-sorted JSON: stable for scripts and diffs.
    static func json<T: Encodable>(_ value: T) throws {
        standardOutput(Data(try JSONText.encode(value) + [0x0A]))
    }

    /// Writes to stdout; when it cannot be written (closed, a full disk), says so on stderr and exits 1.
    /// (FileHandle.write traps on a closed descriptor: `slirpmon list >&-` crashed with SIGILL.)
    private static func standardOutput(_ data: Data) {
        let code = write(1, data)
        guard code != 0 else { return }
        error("slirpmon: cannot write to standard output: \(String(cString: strerror(code)))")
        Glibc.exit(1)
    }

    /// Writes all of `data` to `fd`; 0, or the errno of the failed write. The corresponding C function is `write`.
    private static func write(_ fd: Int32, _ data: Data) -> Int32 {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int32 in
            guard let base = raw.baseAddress else { return 0 }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                return n < 0 ? errno : EIO
            }
            return 0
        }
    }
}

/// Plain-text tables with columns sized to their content.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    var rendered: String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Human forms of durations and sizes.
enum Format {
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" }
        return "\(s / 86400)d\(String(format: "%02d", s % 86400 / 3600))h"
    }

    static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format: "%.1f KiB", Double(n) / 1024) }
        if n < 1 << 30 { return String(format: "%.1f MiB", Double(n) / 1048576) }
        return String(format: "%.1f GiB", Double(n) / 1073741824)
    }

    static func shortID(_ id: String?) -> String { id.map { String($0.prefix(12)) } ?? "manual" }
}

extension String {
    /// The operator's argument quoted for an error, at most 40 characters of it: a 10 KB argument
    /// is not echoed whole.
    var abbreviatedQuote: String {
        (count <= 40 ? self : String(prefix(40)) + "...").debugDescription
    }
}
