import SlirpCore

/// Why a metrics page could not be made or written.
public enum MetricsError: Error, Sendable, CustomStringConvertible {
    /// `/proc` could not be scanned: there is no inventory to show.
    case scan(SystemError)
    /// The textfile directory is not one to write into (`Textfile.write`): what is wrong and what to do.
    case unsafeDirectory(path: String, reason: String)
    /// Writing the textfile failed (nothing is left half written: the old file stays).
    case write(SystemError)

    public var description: String {
        switch self {
        case .scan(let error): "cannot scan /proc: \(error)"
        case .unsafeDirectory(let path, let reason): "refusing to write into \(path): \(reason)"
        case .write(let error): "cannot write the textfile: \(error)"
        }
    }
}
