/// Finds the Podman container ID in the names Podman gives a slirp4netns instance's files.
public enum ContainerID {
    /// From an API socket path `.../<ID>.net`.
    public static func fromAPISocket(_ path: String) -> String? {
        let name = basename(path)
        guard name.hasSuffix(".net") else { return nil }
        let id = String(name.dropLast(4))
        return isContainerID(id) ? id : nil
    }

    /// From a log link target `.../slirp4netns-<ID>.log (deleted)` (or not deleted).
    public static func fromLogPath(_ path: String) -> String? {
        var name = basename(LogPath.stripDeleted(path).path)
        guard name.hasPrefix("slirp4netns-"), name.hasSuffix(".log") else { return nil }
        name = String(name.dropFirst("slirp4netns-".count).dropLast(4))
        return isContainerID(name) ? name : nil
    }

    /// Podman IDs are 64 lowercase hex digits.
    public static func isContainerID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// The path an fd link names, and whether the kernel marked it deleted.
public enum LogPath {
    /// Splits `"/run/libpod/slirp4netns-ID.log (deleted)"` into the path and the flag.
    public static func stripDeleted(_ target: String) -> (path: String, deleted: Bool) {
        let marker = " (deleted)"
        if target.hasSuffix(marker) { return (String(target.dropLast(marker.count)), true) }
        return (target, false)
    }
}
