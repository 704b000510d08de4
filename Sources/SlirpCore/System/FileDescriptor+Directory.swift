#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Calls on names inside an open directory: once the directory is open (and proven whose it is),
/// no later step goes through its path again, so nobody can swap a component of it between a
/// check and a write.
extension FileDescriptor {
    /// Opens `name` (one component, no `/`) inside `directory`. The corresponding C function is `openat`.
    public static func open(_ name: String, in directory: FileDescriptor, _ mode: AccessMode, options: OpenOptions = [],
                            permissions: mode_t = 0) throws(SystemError) -> FileDescriptor {
        let fd = retryingOnInterrupt { openat(directory.rawValue, name, mode.flags | options.rawValue, permissions) }
        if fd < 0 { throw SystemError("openat", name) }
        return FileDescriptor(rawValue: fd)
    }

    /// Renames `name` to `newName`, both inside this directory, replacing `newName` at once
    /// (readers see the old file or the new one, never part of one). The corresponding C function is `renameat`.
    public func rename(_ name: String, to newName: String) throws(SystemError) {
        if renameat(rawValue, name, rawValue, newName) != 0 { throw SystemError("renameat", "\(name) -> \(newName)") }
    }

    /// Removes `name` from this directory (not a directory). The corresponding C function is `unlinkat`.
    public func unlink(_ name: String) throws(SystemError) {
        if unlinkat(rawValue, name, 0) != 0 { throw SystemError("unlinkat", name) }
    }

    /// Writes the file's data (or a directory's entries) to disk. The corresponding C function is `fsync`.
    public func synchronize(path: String? = nil) throws(SystemError) {
        if retryingOnInterrupt({ fsync(rawValue) }) != 0 { throw SystemError("fsync", path) }
    }

    /// Sets the file's permission bits exactly (the process's umask does not apply). The corresponding C function is `fchmod`.
    public func setPermissions(_ mode: mode_t, path: String? = nil) throws(SystemError) {
        if retryingOnInterrupt({ fchmod(rawValue, mode) }) != 0 { throw SystemError("fchmod", path) }
    }
}
