import Foundation
import Testing
@testable import slirpmon

/// Every byte the CLI writes goes through `FileHandleOutput`, which makes text from outside safe
/// for a terminal. Swift's `print` is unavailable in the module (a compile error); this looks
/// for every other way to stdout or stderr in its sources.
@Suite("The CLI's one output path")
struct OutputBoundaryTests {
    /// Ways around `FileHandleOutput`: Foundation's handles, libc's writers, ArgumentParser's own exit.
    static let forbidden = ["FileHandle.standard", "FileHandle(", "write(1", "write(2", "Glibc.write", "fputs", "fwrite", "puts(", "putchar", "printf(",
                            "STDOUT_FILENO", "STDERR_FILENO", "stdout", "stderr", "exit(withError", "dprintf", "vfprintf"]

    @Test("no file in Sources/slirpmon but Output.swift writes to stdout or stderr")
    func onlyOutputWrites() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/slirpmon").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        #expect(files.contains("Output.swift") && files.count > 5, "found the sources at \(directory.path)")
        for file in files where file != "Output.swift" {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for word in Self.forbidden where code.contains(word) {
                    Issue.record("\(file):\(number + 1) writes around FileHandleOutput (\(word)): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
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
