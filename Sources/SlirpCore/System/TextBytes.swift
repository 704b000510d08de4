/// Line and field splitting on UTF-8 bytes, for the ASCII texts of `/proc`.
///
/// `String.split` on `Character`s runs grapheme breaking on every byte, which would be most
/// of a refresh's CPU time. Splitting the UTF-8 view on ASCII bytes gives the same pieces for
/// these texts.
extension StringProtocol {
    /// The lines, without empty ones (like `split(separator: "\n")`).
    var byteLines: [Substring] {
        Substring(self).pieces(separatedBy: { $0 == 10 })
    }

    /// The fields separated by runs of spaces and tabs.
    var byteFields: [Substring] {
        Substring(self).pieces(separatedBy: { $0 == 32 || $0 == 9 })
    }

    /// The first line that starts with `prefix`, found without splitting the whole text (a
    /// `/proc/PID/status` has dozens of lines and one is wanted).
    func firstLine(startingWith prefix: String) -> Substring? {
        let utf8 = Substring(self).utf8
        let wanted = Array(prefix.utf8)
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: 10) ?? utf8.endIndex
            if utf8[start..<end].starts(with: wanted) { return Substring(utf8[start..<end]) }
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
        return nil
    }
}

extension Substring {
    /// The pieces between runs of ASCII separator bytes, without empty ones: the bytes scanned
    /// in place, each piece cut at its offsets. (`utf8.split(whereSeparator:)` steps a
    /// `String.Index` per byte and calls the closure through the generic algorithm: about 10
    /// times the instructions, the most of a namespace read's: 280 k of its 470 k.)
    func pieces(separatedBy isSeparator: (UInt8) -> Bool) -> [Substring] {
        let utf8 = self.utf8
        let offsets: [Range<Int>]? = utf8.withContiguousStorageIfAvailable { bytes in
            var found: [Range<Int>] = []
            var start: Int?
            for i in bytes.indices {
                if isSeparator(bytes[i]) {
                    if let s = start { found.append(s..<i); start = nil }
                } else if start == nil {
                    start = i
                }
            }
            if let s = start { found.append(s..<bytes.count) }
            return found
        }
        guard let offsets else { return utf8.split(whereSeparator: isSeparator).map { Substring($0) } }
        let base = utf8.startIndex
        // Separators are ASCII, so every cut falls between whole characters.
        return offsets.map { self[utf8.index(base, offsetBy: $0.lowerBound)..<utf8.index(base, offsetBy: $0.upperBound)] }
    }
}
