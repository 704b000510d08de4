/// The entries of a passwd file (`name:password:uid:gid:gecos:home:shell`), read as text.
enum PasswdFile {
    struct Entry: Equatable {
        let name: String
        let uid: UInt32
        let home: String
    }

    /// The well-formed entries of the file at `path` (none when it cannot be read); comments,
    /// blank and malformed lines are skipped.
    static func entries(_ path: String = "/etc/passwd") -> [Entry] {
        guard let bytes = try? Files.readBytes(path) else { return [] }
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count == 7, line.first != UInt8(ascii: "#"), !fields[0].isEmpty,
                  let uid = UInt32(String(decoding: fields[2], as: UTF8.self)) else { return nil }
            return Entry(name: String(decoding: fields[0], as: UTF8.self), uid: uid, home: String(decoding: fields[5], as: UTF8.self))
        }
    }
}
