#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The few containers.conf keys that decide how Podman starts slirp4netns, read from
/// the same files, in the same order, as Podman (containers/common `systemConfigs`).
///
/// Later files override the keys they set. With `CONTAINERS_CONF` set, Podman reads
/// only that file (and fails when it is missing).
public struct ContainersConf: Sendable, Equatable {
    /// The largest config file read (containers.conf, storage.conf): real ones are a few KiB; a
    /// user's file is input to a root process, so a larger one is refused, not parsed.
    public static let fileLimit = 1 << 20
    /// `engine.network_cmd_path`: the slirp4netns binary; nil means "look in PATH".
    public var networkCommandPath: String?
    /// `engine.network_cmd_options`: options placed before the container's own.
    public var networkCommandOptions: [String] = []
    /// `engine.tmp_dir`: where the API socket and the log go.
    public var tmpDir: String?
    /// `engine.no_pivot_root`: disables `--enable-sandbox`.
    public var noPivotRoot = false
    /// The files read, in order.
    public var files: [String] = []
    /// For each key set, the file that set it last (for "where does this come from").
    public var origins: [String: String] = [:]

    public init() {}

    /// A file that could not be read or parsed; Podman refuses to start in both cases.
    public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "containers.conf \(path): \(message)" }
    }

    /// Applies one file's text on top of what is already set.
    public mutating func apply(_ text: String, path: String) throws(LoadError) {
        let values: [String: TOMLSubset.Value]
        do { values = try TOMLSubset.parse(text) } catch { throw LoadError(path: path, message: "\(error.description) (Podman refuses this file too)") }
        files.append(path)
        if let v = values["engine.network_cmd_path"] {
            guard case .string(let text) = v else { throw LoadError(path: path, message: "engine.network_cmd_path must be a string") }
            networkCommandPath = text.isEmpty ? nil : text
            origins["network_cmd_path"] = path
        }
        if let v = values["engine.network_cmd_options"] {
            guard let list = v.strings else { throw LoadError(path: path, message: "engine.network_cmd_options must be an array of strings") }
            networkCommandOptions = list
            origins["network_cmd_options"] = path
        }
        if let v = values["engine.tmp_dir"] {
            guard case .string(let text) = v else { throw LoadError(path: path, message: "engine.tmp_dir must be a string") }
            tmpDir = text.isEmpty ? nil : text
            origins["tmp_dir"] = path
        }
        if let v = values["engine.no_pivot_root"] {
            guard case .bool(let flag) = v else { throw LoadError(path: path, message: "engine.no_pivot_root must be true or false") }
            noPivotRoot = flag
            origins["no_pivot_root"] = path
        }
    }

    /// Parses one file's text alone.
    public static func parse(_ text: String, path: String = "containers.conf") throws(LoadError) -> ContainersConf {
        var conf = ContainersConf()
        try conf.apply(text, path: path)
        return conf
    }

    /// The files Podman reads, in its order, that exist.
    ///
    /// - `CONTAINERS_CONF` alone when set;
    /// - else `/usr/share/containers/containers.conf`, `/etc/containers/containers.conf`,
    ///   `/etc/containers/containers.conf.d/*.conf` (sorted);
    /// - then, for a non-root user, `$XDG_CONFIG_HOME/containers/containers.conf` (or
    ///   `~/.config/...`) and its `containers.conf.d/*.conf`.
    public static func files(environment: [String: String], isRoot: Bool, root: String = "") throws(LoadError) -> [String] {
        if let only = environment["CONTAINERS_CONF"] {
            if case .failure(let error) = Result(catching: { () throws(SystemError) in try Files.status(only) }) {
                // Not there only when stat says so: a directory this user may not search hides the file.
                if error.isPermissionDenied {
                    let closed = Files.firstUnsearchableDirectory(of: only).map { ": \($0) is not searchable" } ?? ""
                    throw LoadError(path: only, message: "CONTAINERS_CONF names a file this user cannot reach (permission denied\(closed)): make it readable for this user or unset CONTAINERS_CONF")
                }
                guard error.errno == .noSuchFileOrDirectory || error.errno == .notADirectory else {
                    throw LoadError(path: only, message: "CONTAINERS_CONF names a file that cannot be looked at: \(error)")
                }
                throw LoadError(path: only, message: "CONTAINERS_CONF names a file that does not exist (Podman fails the same way): create it or unset CONTAINERS_CONF")
            }
            return [only]
        }
        var result: [String] = []
        for path in ["\(root)/usr/share/containers/containers.conf", "\(root)/etc/containers/containers.conf"] where Files.exists(path) {
            result.append(path)
        }
        result += dropIns("\(root)/etc/containers/containers.conf.d")
        if !isRoot {
            let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? environment["HOME"].map { "\($0)/.config" }
            if let configHome {
                let user = "\(configHome)/containers/containers.conf"
                if Files.exists(user) { result.append(user) }
                result += dropIns("\(user).d")
            }
        }
        return result
    }

    /// Reads every file Podman would, in order.
    public static func load(environment: [String: String], isRoot: Bool, root: String = "") throws(LoadError) -> ContainersConf {
        var conf = ContainersConf()
        for path in try files(environment: environment, isRoot: isRoot, root: root) {
            let text: String
            do { text = try Files.readText(path, limit: ContainersConf.fileLimit) } catch { throw LoadError(path: path, message: "cannot read it: \(error.reason)") }
            try conf.apply(text, path: path)
        }
        return conf
    }

    /// `tmp_dir` as Podman uses it: the configured one, else `/run/libpod` for root and
    /// `$XDG_RUNTIME_DIR/libpod/tmp` for a user (`/tmp/podman-run-UID/libpod/tmp` without one).
    public func effectiveTmpDir(environment: [String: String], isRoot: Bool, uid: UInt32) -> String {
        if let tmpDir { return tmpDir }
        if isRoot { return "/run/libpod" }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return "\(runtime)/libpod/tmp" }
        return "/tmp/podman-run-\(uid)/libpod/tmp"
    }

    private static func dropIns(_ directory: String) -> [String] {
        guard let names = try? Files.directoryEntries(directory) else { return [] }
        return names.filter { $0.hasSuffix(".conf") }.sorted().map { "\(directory)/\($0)" }
    }

    /// The process environment as a dictionary.
    public static var processEnvironment: [String: String] {
        var result: [String: String] = [:]
        for entry in Executables.currentEnvironment() {
            guard let eq = entry.utf8.firstIndex(of: UInt8(ascii: "=")) else { continue }
            result[String(entry[..<eq])] = String(entry[entry.utf8.index(after: eq)...])
        }
        return result
    }
}
