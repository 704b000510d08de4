import Foundation
import Testing
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif
@testable import slirpmon

/// Every byte the CLI writes goes through `FileHandleOutput`, which makes text from outside safe
/// for a terminal. Swift's `print` is unavailable in the module (a compile error); this looks
/// for every other way to stdout or stderr in its sources.
@Suite("The CLI's one output path")
struct OutputBoundaryTests {
    /// Ways around `FileHandleOutput`: Foundation's handles, libc's writers, ArgumentParser's own exit.
    static let forbidden = ["FileHandle.standard", "FileHandle(", "write(1", "write(2", "Glibc.write", "fputs", "fwrite", "puts(", "putchar", "printf(",
                            "STDOUT_FILENO", "STDERR_FILENO", "stdout", "stderr", "exit(withError", "dprintf", "vfprintf"]

    /// The code of a source line: without its comment, and without members named `.stdout` or
    /// `.stderr` (a finished program's output, a stream's name: not C's streams).
    static func code<Line: StringProtocol>(_ line: Line) -> String {
        String(line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .replacingOccurrences(of: ".stdout", with: ".o").replacingOccurrences(of: ".stderr", with: ".e")
    }

    @Test("no file in Sources/slirpmon but Output.swift writes to stdout or stderr")
    func onlyOutputWrites() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/slirpmon").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        #expect(files.contains("Output.swift") && files.count > 5, "found the sources at \(directory.path)")
        for file in files where file != "Output.swift" {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = Self.code(line)
                for word in Self.forbidden where code.contains(word) {
                    Issue.record("\(file):\(number + 1) writes around FileHandleOutput (\(word)): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
    }

    @Test("slirpmon-bench, run as root, writes only through TerminalOutput: slirp4netns's and tools' error text is shown, never obeyed")
    func benchWritesThroughTerminalOutput() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/slirpmon-bench").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        #expect(files.contains("main.swift") && files.count > 3, "found the sources at \(directory.path)")
        let forbidden = Self.forbidden + ["print(", "debugPrint("]
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = Self.code(line)
                if code.contains("func print(") || code.contains("func debugPrint(") { continue } // the unavailable stand-ins
                for word in forbidden where code.contains(word) {
                    Issue.record("slirpmon-bench/\(file):\(number + 1) writes around TerminalOutput (\(word)): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
    }

    @Test("TerminalOutput shows an escape sequence in a line or a block and keeps a block's newlines")
    func terminalOutputEscapes() throws {
        var pipe: [Int32] = [0, 0]
        try #require(Glibc.pipe(&pipe) == 0)
        let saved = dup(2)
        dup2(pipe[1], 2)
        TerminalOutput.errorLine("bench: slirp4netns failed: \u{1B}]0;owned\u{07}\nforged line")
        TerminalOutput.block("table\n\u{9B}2Jrow", to: 2)
        dup2(saved, 2)
        close(saved)
        close(pipe[1])
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = read(pipe[0], &bytes, bytes.count)
        close(pipe[0])
        let text = String(decoding: bytes.prefix(max(0, n)), as: UTF8.self)
        #expect(text == #"bench: slirp4netns failed: \x1B]0;owned\x07\x0Aforged line"# + "\n" + #"table"# + "\n" + #"\u{9B}2Jrow"# + "\n", "\(text.debugDescription)")
    }

    @Test("a table cell from outside stays one cell: newline, tab and escapes are shown, the columns hold")
    func tableCells() {
        var table = TextTable(header: ["PID", "CIDR", "API"])
        table.rows = [["1", "10.0.2.0/24\n2  forged  row\u{1B}[2J", "held"], ["22", "10.0.2.0/24", "held"]]
        let lines = table.rendered.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1] == #"1    10.0.2.0/24\x0A2  forged  row\x1B[2J  held"#)
        #expect(lines[2].hasPrefix("22   10.0.2.0/24 "))
    }

    @Test("log --follow keeps a character cut by the end of a read for the next read")
    func cutCharacters() {
        let rlo = Array("\u{202E}".utf8) // E2 80 AE
        #expect(Slirpmon.Log.cutCharacterLength([]) == 0)
        #expect(Slirpmon.Log.cutCharacterLength(Array("ab\n".utf8)) == 0)
        #expect(Slirpmon.Log.cutCharacterLength([0x61] + rlo) == 0)
        #expect(Slirpmon.Log.cutCharacterLength([0x61] + rlo.prefix(2)) == 2)
        #expect(Slirpmon.Log.cutCharacterLength([0x61] + rlo.prefix(1)) == 1)
        #expect(Slirpmon.Log.cutCharacterLength([0x61, 0x9B]) == 0, "a lone continuation byte is shown, not kept")
        #expect(Slirpmon.Log.cutCharacterLength([0xF0, 0x9F, 0x90]) == 3)
    }
}
