/// Line and field splitting on UTF-8 bytes, for the ASCII texts of `/proc`.
///
/// `String.split` on `Character`s runs grapheme breaking on every byte, which would be most
/// of a refresh's CPU time. Splitting the UTF-8 view on ASCII bytes gives the same pieces for
/// these texts.
extension StringProtocol {
    /// The lines, without empty ones (like `split(separator: "\n")`).
    var byteLines: [Substring] {
        Substring(self).utf8.split(separator: 10).map { Substring($0) }
    }

    /// The fields separated by runs of spaces and tabs.
    var byteFields: [Substring] {
        Substring(self).utf8.split(whereSeparator: { $0 == 32 || $0 == 9 }).map { Substring($0) }
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
