import Foundation
import Testing
@testable import SlirpTUI

/// Compares a whole screen (text and roles) with `__Snapshots__/NAME.txt` beside this file.
/// `SLIRPMON_RECORD=1 swift test` (re-)records; a missing file is recorded on first run.
func assertSnapshot(_ screen: Screen, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let file = directory.appendingPathComponent(name + ".txt")
    let actual = "size \(screen.width)x\(screen.height)\n" + screen.text + "\n--- roles ---\n" + screen.roleMap + "\n"
    let record = ProcessInfo.processInfo.environment["SLIRPMON_RECORD"] == "1"
    guard !record, let expected = try? String(contentsOf: file, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do { try actual.write(to: file, atomically: true, encoding: .utf8) } catch {
            Issue.record("cannot record \(file.path): \(error)", sourceLocation: sourceLocation)
        }
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
