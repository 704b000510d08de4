#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A cheap look at Podman's container storage: does this user have any container at all?
///
/// Every Podman container, whatever its state (created, failed at startup, running,
/// exited), has a record in `<graphroot>/<driver>-containers/containers.json` from
/// `podman create` until `podman rm`. When every such file is absent or an empty array,
/// `podman ps -a` would answer `[]`, and asking it (a process start of tens to hundreds
/// of milliseconds, twice with `inspect`) can be skipped. Anything unexpected (a
/// storage.conf that cannot be read, a containers.json that is not `[]`) means "ask".
public enum PodmanStorage {
    /// False only when Podman certainly has no container for `home` (nil: root's storage).
    public static func mayHaveContainers(home: String?, environment: [String: String] = ContainersConf.processEnvironment) -> Bool {
        guard let roots = graphRoots(home: home, environment: environment) else { return true }
        for root in roots {
            for file in containerFiles(in: root) {
                guard Files.exists(file) else { continue }
                guard let bytes = try? Files.readBytes(file, limit: 64) else { return true }
                if !isEmptyArray(bytes) { return true }
            }
        }
        return false
    }

    /// The storage drivers of containers/storage: each keeps its containers in `<driver>-containers`.
    static let drivers = ["overlay", "vfs", "btrfs", "zfs", "devicemapper", "aufs"]

    /// Where each driver's container records would be under `root`. Looked up by name, never by
    /// listing `root`: a user's storage directory is theirs, with as many entries as they like,
    /// and root's `list` looks at it on every run.
    static func containerFiles(in root: String) -> [String] {
        drivers.map { "\(root)/\($0)-containers/containers.json" }
    }

    /// The storage roots the Podman of user `uid` uses without `--root` (root: its own default and
    /// configuration); nil when not known or a configuration cannot be read.
    static func defaultRoots(uid: UInt32?) -> [String]? {
        guard let uid else { return nil }
        if uid == 0 { return graphRoots(home: nil, environment: ContainersConf.processEnvironment) }
        guard let home = UserNames.home(of: uid) else { return nil }
        return graphRoots(home: home, environment: [:])
    }

    /// The storage roots Podman may use for this user: the default and any `graphroot` /
    /// `rootless_storage_path` configured; nil when a configuration cannot be read.
    static func graphRoots(home: String?, environment: [String: String]) -> [String]? {
        var roots: [String] = []
        var files: [String] = []
        if let only = environment["CONTAINERS_STORAGE_CONF"], home == nil {
            files = [only]
        } else {
            files = ["/usr/share/containers/storage.conf", "/etc/containers/storage.conf"]
            if let home { files.append("\(home)/.config/containers/storage.conf") }
        }
        if let home {
            roots.append("\(home)/.local/share/containers/storage")
            if let data = environment["XDG_DATA_HOME"], !data.isEmpty { roots.append("\(data)/containers/storage") }
        } else {
            roots.append("/var/lib/containers/storage")
        }
        for file in files where Files.exists(file) {
            guard let text = try? Files.readText(file, limit: ContainersConf.fileLimit), let values = try? TOMLSubset.parse(text) else { return nil }
            for key in ["storage.graphroot", "storage.rootless_storage_path"] {
                guard case .string(let value)? = values[key] else { continue }
                // A user's own file sets graphroot for that user; root's rootless_storage_path names every user's.
                var path = value
                if let home, path.hasPrefix("$HOME") { path = home + path.dropFirst(5) }
                if let home, path.hasPrefix("~/") { path = home + path.dropFirst(1) }
                if path.contains("$") { return nil } // $UID, $USER: not expanded here, ask
                if !path.isEmpty { roots.append(path) }
            }
        }
        return roots
    }

    /// Why a user's own Podman configuration cannot be read, when it cannot: a file there that is
    /// not a regular file (a FIFO hangs the user's Podman, and a blocking read of it hung root's
    /// `list`), or is larger than `ContainersConf.fileLimit`. nil when each is absent or readable.
    public static func unreadableConfiguration(home: String?) -> String? {
        guard let home else { return nil }
        for name in ["storage.conf", "containers.conf"] {
            let path = "\(home)/.config/containers/\(name)"
            do { _ = try SafeFiles.readRegularFile(path, limit: ContainersConf.fileLimit) } catch {
                if error.errno == .noSuchFileOrDirectory { continue }
                return "cannot read \(path): \(error.reason)"
            }
        }
        return nil
    }

    /// True for `[]` with optional white space around and inside.
    static func isEmptyArray(_ bytes: [UInt8]) -> Bool {
        let text = bytes.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
        return text == [UInt8(ascii: "["), UInt8(ascii: "]")]
    }
}
