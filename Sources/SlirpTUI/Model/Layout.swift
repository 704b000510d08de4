/// Where each part of the main screen goes at a given size; shared by rendering and paging.
public struct Layout: Equatable, Sendable {
    public static let minimum = Size(width: 40, height: 10)

    public let size: Size
    /// Two lines, three when Podman failures are reported.
    public let headerRows: Int
    public var columnHeaderRow: Int { headerRows }
    public var listTop: Int { headerRows + 1 }
    public let listHeight: Int
    public var paneTitleRow: Int { listTop + listHeight }
    public var paneTop: Int { paneTitleRow + 1 }
    public var paneHeight: Int { max(0, statusRow - paneTop) }
    public var statusRow: Int { size.height - 2 }
    public var barRow: Int { size.height - 1 }

    public var isTooSmall: Bool { size.width < Self.minimum.width || size.height < Self.minimum.height }

    /// `rowCount` visible instances get up to 2/5 of the free rows, at least 3.
    public init(size: Size, rowCount: Int, headerRows: Int = 2) {
        self.size = size
        self.headerRows = headerRows
        let free = max(0, size.height - headerRows - 1 - 1 - 2) // header, column header, pane title, status+bar
        let maximum = max(3, free * 2 / 5)
        listHeight = min(max(3, rowCount), maximum, max(0, free - 1))
    }
}
