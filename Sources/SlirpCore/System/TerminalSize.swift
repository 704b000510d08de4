import CSlirpSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The size of a terminal in character cells, as the kernel has it now.
public struct TerminalSize: Equatable, Sendable {
    public let columns: Int
    public let rows: Int

    /// The size of the terminal on `fd`; nil when `fd` is not a terminal or reports no size
    /// (0 columns or rows). The corresponding C call is `ioctl(fd, TIOCGWINSZ)`.
    public init?(of fd: Int32) {
        var rows: Int32 = 0, columns: Int32 = 0
        guard isatty(fd) != 0, cslirp_window_size(fd, &rows, &columns) == 0, columns > 0, rows > 0 else { return nil }
        self.columns = Int(columns)
        self.rows = Int(rows)
    }
}
