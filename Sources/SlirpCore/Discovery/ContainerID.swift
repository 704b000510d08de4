/// Finds the Podman container ID in the names Podman gives a slirp4netns instance's files.
///
/// Works on UTF-8 bytes: these run for every instance on every scan, and `String`'s
/// `dropLast`/`lastIndex(of:)` walk grapheme clusters.
public enum ContainerID {
    /// From an API socket path `.../<ID>.net`.
    public static func fromAPISocket(_ path: String) -> String? {
        id(in: basename(path), prefix: "", suffix: ".net")
    }

    /// From a log link target `.../slirp4netns-<ID>.log (deleted)` (or not deleted).
    public static func fromLogPath(_ path: String) -> String? {
        id(in: basename(LogPath.stripDeleted(path).path), prefix: "slirp4netns-", suffix: ".log")
    }

    /// Podman IDs are 64 lowercase hex digits.
    public static func isContainerID(_ text: String) -> Bool { isContainerID(text.utf8) }

    private static func isContainerID<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.count == 64 && bytes.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The ID in a file name `<prefix><ID><suffix>`.
    private static func id(in name: Substring.UTF8View, prefix: StaticString, suffix: StaticString) -> String? {
        let prefixBytes = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        let suffixBytes = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
        guard name.count == prefixBytes.count + 64 + suffixBytes.count,
              name.starts(with: prefixBytes), name.suffix(suffixBytes.count).elementsEqual(suffixBytes) else { return nil }
        let id = name.dropFirst(prefixBytes.count).dropLast(suffixBytes.count)
        return isContainerID(id) ? String(Substring(id)) : nil
    }

    /// The last path component, as bytes of `path`.
    static func basename(_ path: String) -> Substring.UTF8View {
        let utf8 = Substring(path).utf8
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return utf8 }
        return utf8[utf8.index(after: slash)...]
    }
}

/// The path an fd link names, and whether the kernel marked it deleted.
public enum LogPath {
    /// Splits `"/run/libpod/slirp4netns-ID.log (deleted)"` into the path and the flag.
    public static func stripDeleted(_ target: String) -> (path: String, deleted: Bool) {
        let marker = " (deleted)".utf8
        let utf8 = target.utf8
        guard utf8.count >= marker.count, utf8.suffix(marker.count).elementsEqual(marker) else { return (target, false) }
        return (String(Substring(utf8.dropLast(marker.count))), true)
    }
}
