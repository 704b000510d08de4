import Foundation
import Testing
@testable import SlirpTUI

/// Compares a whole screen (text and roles) with `__Snapshots__/NAME.txt` beside this file.
/// `SLIRPMON_RECORD=1 swift test --filter ...` (re-)records, and only then: a missing file fails
/// (a snapshot recorded by the run that checks it proves nothing), and a recording run fails
/// every snapshot it wrote, so a forgotten variable cannot turn the suite green. CI refuses the
/// variable (assets/test.sh).
func assertSnapshot(_ screen: Screen, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let file = directory.appendingPathComponent(name + ".txt")
    let actual = "size \(screen.width)x\(screen.height)\n" + screen.text + "\n--- roles ---\n" + screen.roleMap + "\n"
    if ProcessInfo.processInfo.environment["SLIRPMON_RECORD"] == "1" {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            try actual.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded \(file.lastPathComponent) (SLIRPMON_RECORD=1): review it with git diff; a run without the variable checks it",
                         sourceLocation: sourceLocation)
        } catch {
            Issue.record("cannot record \(file.path): \(error)", sourceLocation: sourceLocation)
        }
        return
    }
    guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("""
            no snapshot \(file.lastPathComponent) in \(directory.path): record it with \
            SLIRPMON_RECORD=1 swift test --filter <this test>, review it, commit it
            \(actual)
            """, sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
        let got = line < a.count ? String(a[line]) : "<end>"
        let want = line < e.count ? String(e[line]) : "<end>"
        Issue.record("""
            screen differs from \(file.lastPathComponent) at line \(line + 1) (SLIRPMON_RECORD=1 re-records):
              expected: \(want)
              actual:   \(got)
            \(actual)
            """, sourceLocation: sourceLocation)
    }
}

/// What is wrong with a screen rendered at `width`x`height`, or nil: it must be exactly that size,
/// and show something wherever there is a cell to show it in (the monitor, or the "terminal too
/// small" warning), never a blank terminal.
func screenProblem(_ screen: Screen, width: Int, height: Int) -> String? {
    if screen.width != width || screen.height != height { return "\(width)x\(height): rendered \(screen.width)x\(screen.height)" }
    if width > 0, height > 0, screen.text.allSatisfy({ $0 == " " || $0 == "\n" }) { return "\(width)x\(height): blank" }
    return nil
}
