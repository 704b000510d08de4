import SlirpCore

/// What a click or the mouse wheel reaches at a cell: recorded by the views as they draw, so
/// the mouse handler finds what is on the screen instead of working out the layout again.
public enum HitTarget: Equatable, Sendable {
    /// A row of the instance list.
    case instance(ProcessIdentity)
    /// The instance list's rows where no instance is drawn.
    case list
    /// A pane's tab in the row under the list.
    case paneTab(Pane)
    /// The pane's lines.
    case pane
    /// A forward's row in the forwards pane (its index in the listing).
    case forward(Int)
    /// A key of the function-key bar.
    case functionKey(Int)
    /// Where the wheel scrolls the list or the pane (not a click target).
    case scrolls(Focus)
}

/// A rectangle of cells and what it reaches.
public struct HitArea: Equatable, Sendable {
    public let target: HitTarget
    public let columns: Range<Int>
    public let rows: Range<Int>

    public func contains(x: Int, y: Int) -> Bool { columns.contains(x) && rows.contains(y) }
}

extension Screen {
    /// Records that the cells `columns` x `rows` reach `target` (an area drawn later lies on top).
    mutating func mark(_ target: HitTarget, columns: Range<Int>, rows: Range<Int>) {
        guard !columns.isEmpty, !rows.isEmpty else { return }
        hitAreas.append(HitArea(target: target, columns: columns, rows: rows))
    }

    /// Records that row `y`, across the screen, reaches `target`.
    mutating func mark(_ target: HitTarget, row y: Int) {
        mark(target, columns: 0..<width, rows: y..<(y + 1))
    }

    /// What a click at (x, y) reaches: the topmost click target drawn there, if any.
    public func clickTarget(x: Int, y: Int) -> HitTarget? {
        hitAreas.last { area in
            if case .scrolls = area.target { return false }
            return area.contains(x: x, y: y)
        }?.target
    }

    /// What the wheel at (x, y) scrolls, if anything.
    public func wheelTarget(x: Int, y: Int) -> Focus? {
        for area in hitAreas.reversed() where area.contains(x: x, y: y) {
            if case .scrolls(let focus) = area.target { return focus }
        }
        return nil
    }
}
