import SlirpCore

/// The panes under the instance list.
public enum Pane: Int, CaseIterable, Sendable {
    case details, log, forwards, events
    public var title: String {
        switch self {
        case .details: "Details"
        case .log: "Log"
        case .forwards: "Forwards"
        case .events: "Events"
        }
    }
}

/// Which part of the screen the movement keys act on.
public enum Focus: Sendable { case list, pane }

/// The columns of the instance list, each sortable.
public enum Column: Int, CaseIterable, Sendable {
    case id, pid, state, uptime, cidr, guest, api, forwards, ipv6, mtu, user, cpu, rss, rx, tx
    public var title: String {
        switch self {
        case .id: "NAME"
        case .pid: "PID"
        case .user: "USER"
        case .state: "S"
        case .uptime: "UPTIME"
        case .cidr: "CIDR"
        case .guest: "GUEST IP"
        case .api: "API"
        case .forwards: "FWD"
        case .ipv6: "V6"
        case .mtu: "MTU"
        case .cpu: "CPU%"
        case .rss: "RSS"
        case .rx: "RX/s"
        case .tx: "TX/s"
        }
    }
}

/// A row of the list: the last snapshot, and for how many refreshes the process has been gone.
public struct InstanceRow: Equatable, Sendable {
    public var snapshot: InstanceSnapshot
    /// nil while running; the number of refreshes since it vanished.
    public var goneFor: Int?
    public init(snapshot: InstanceSnapshot, goneFor: Int? = nil) {
        self.snapshot = snapshot
        self.goneFor = goneFor
    }
    public var isGone: Bool { goneFor != nil }
}

/// What the forwards of one instance are known to be.
public struct ForwardsEntry: Equatable, Sendable {
    public var forwards: [HostForward]?
    /// For a RootlessKit instance, its ports (`GET /v1/ports`) joined with Docker's containers, by id;
    /// `forwards` stays nil.
    public var ports: [RootlessKitForward]?
    /// Why the ports' containers could not be named (the daemon did not answer), or nil.
    public var dockerProblem: String?
    /// True when `ports` are joined with Docker as they are now (else their origins say `unknown`
    /// for Docker rootless, or keep the last join of the same ports while a new one runs).
    public var dockerJoined = false
    /// A Docker join was asked for and has not answered.
    public var joinPending = false
    /// The wall time (`HH:MM:SS`) RootlessKit's ports were listed: its count is shown as of then.
    public var listedAt: String?
    public var error: String?
    public var pending = false
    /// Monotonic seconds of the last answer (or request).
    public var fetchedAt: Double = -1e9
    public init(forwards: [HostForward]? = nil, error: String? = nil, pending: Bool = false, fetchedAt: Double = -1e9) {
        self.forwards = forwards
        self.error = error
        self.pending = pending
        self.fetchedAt = fetchedAt
    }

    /// How many forwards (or RootlessKit ports) were listed; nil when not (yet).
    public var count: Int? { forwards?.count ?? ports?.count }
}

/// The log pane's content: lines of the selected instance's log.
public struct LogState: Equatable, Sendable {
    public var identity: ProcessIdentity?
    public var lines: [String] = []
    public var truncatedBefore = false
    public var error: String?
    public var follow = true
    /// First visible line when not following.
    public var top = 0
    public var search = ""
    /// UTF-8 bytes in `lines`, kept under `maximumBytes`.
    public var keptBytes = 0
    public init() {}
    public static let maximumLines = 20_000
    /// What the pane keeps of a log, in bytes: a real slirp4netns log of `maximumLines` lines is
    /// a few MiB; a user's log of long lines is kept only this far back.
    public static let maximumBytes = 8 << 20
}

/// A one-line message under the panes.
public struct StatusMessage: Equatable, Sendable {
    /// `warning`: something the operator must see at once (a slirp4netns died), in the warning colour.
    public enum Kind: Sendable { case info, error, waiting, warning }
    public var text: String
    public var kind: Kind
    /// Until when (`AppState.now`) it stays against event messages: an operator's own result.
    public var heldUntil: Double?
    /// When (`AppState.now`) it was said, for a loss (a death), and whose instances it names: another
    /// user's flood summary does not replace it for `AppState.operatorResultHold` seconds.
    public var lossSaidAt: Double?
    public var lossUsers: Set<String> = []
    public init(_ text: String, kind: Kind = .info) {
        self.text = text
        self.kind = kind
    }
}

/// A text prompt in the status line.
public struct Prompt: Equatable, Sendable {
    public enum Kind: Sendable { case search, filter, logSearch }
    public var kind: Kind
    public var text: String
    public var label: String {
        switch kind {
        case .search: "Search: "
        case .filter: "Filter: "
        case .logSearch: "Search log: "
        }
    }
}

/// What is on top of the main screen.
public enum Mode: Equatable, Sendable {
    case normal
    case help(top: Int)
    case prompt(Prompt)
    case form(ForwardForm)
    /// Asks before removing `forward` from the instance.
    case confirmRemove(EffectTarget, HostForward)
    /// Asks before removing a RootlessKit port (`DELETE /v1/ports/{id}`).
    case confirmRemovePort(EffectTarget, RootlessKitForward)
    /// The startup doctor's report (`AppState.doctor`), scrolled to line `top`.
    case doctor(top: Int)
}

/// One DNS check of an instance (`N`): running, then its report or why it could not run.
public struct DNSCheckRun: Equatable, Sendable {
    public var identity: ProcessIdentity
    public var report: DNSReport?
    public var error: String?
    public var isRunning: Bool { report == nil && error == nil }
}

/// One run of the startup doctor for a container: the steps so far, then the report.
public struct DoctorRun: Equatable, Sendable {
    public var containerID: String
    public var name: String
    /// Said above the steps, e.g. that a rootless container is examined as root.
    public var note: String?
    public var steps: [DoctorStep] = []
    public var report: DoctorReport?
    public init(containerID: String, name: String, note: String? = nil) {
        self.containerID = containerID
        self.name = name
        self.note = note
    }
    public var isRunning: Bool { report == nil }
}

/// Facts about the host and the program for the header.
public struct HostInfo: Equatable, Sendable {
    public var hostName: String
    public var userName: String
    /// nil while probing; the version or an error text after.
    public var slirpVersion: String?
    public var features: [String]
    public init(hostName: String = "", userName: String = "", slirpVersion: String? = nil, features: [String] = []) {
        self.hostName = hostName
        self.userName = userName
        self.slirpVersion = slirpVersion
        self.features = features
    }
}

/// Everything the screen shows; the screen is `render(state, size)`.
public struct AppState: Equatable, Sendable {
    public var rows: [InstanceRow] = [] { didSet { orderVisibleRows() } }
    /// Positions in `rows` of the rows the filter keeps, in sort order: kept up to date when the
    /// rows, the sort or the filter change, not recomputed by every reader (a frame reads it often).
    public private(set) var visibleOrder: [Int] = []
    /// True once the first scan has answered.
    public var loaded = false
    public var refreshing = false
    public var inventoryError: String?
    public var selected: ProcessIdentity?
    public var listTop = 0
    public var sortColumn: Column = .pid { didSet { orderVisibleRows() } }
    public var sortAscending = true { didSet { orderVisibleRows() } }
    public var filter = "" { didSet { orderVisibleRows() } }
    public var search = ""
    public var pane: Pane = .details
    public var focus: Focus = .list
    public var mode: Mode = .normal
    public var status: StatusMessage?
    public var paneTop = 0
    public var forwardIndex = 0
    public var forwards: [ProcessIdentity: ForwardsEntry] = [:] {
        didSet { if sortColumn == .forwards { orderVisibleRows() } } // the FWD column sorts by these counts
    }
    public var log = LogState()
    /// Work in flight (adds/removes), shown as "waiting".
    public var busy: String?
    /// What to say with the answer of the add in flight (`ForwardCaveat`), if anything.
    public var addNote: String?
    /// Requests sent without an answer, per instance: its forwards are listed again at the normal
    /// cadence (`forwardsInterval`) until it answers, then the status says what became of them.
    public var unanswered: [ProcessIdentity: UnansweredRequest] = [:]
    /// What Podman answered (its failures go into the header as one line).
    public var podman = PodmanStatus.absent
    /// The last (or running) doctor run.
    public var doctor: DoctorRun?
    /// The last (or running) DNS check, shown in the details pane while its instance is selected.
    public var dnsCheck: DNSCheckRun?
    /// What changed, oldest first (`InventoryEvent`, made by the refresh), at most `maximumEvents`.
    public var events: [InventoryEvent] = []
    /// An event's status message that came while an operator's result held the status line: said after.
    public var deferredStatus: StatusMessage?
    /// The losses that `deferredStatus` names, while it waits: a loss noticed later is merged in.
    public var deferredLosses: [InventoryEvent] = []
    /// A flooding user's summary not said yet (another user's loss was on the line): said once that loss is old.
    public var pendingSummary: PendingSummary?
    /// Per user, the events they put into `events` this minute (`admit`).
    public var eventQuota: [String: EventQuota] = [:]
    /// The last (or running) probe of a forward (`p` in the forwards pane).
    public var probe: ProbeState?

    public var readOnly: Bool
    public var banner: String?
    public var delay: Double
    public var useColor: Bool
    public var host: HostInfo
    /// The wall-clock time of the last refresh, already formatted (`HH:MM:SS`).
    public var lastRefresh: String?
    /// Monotonic seconds, set by the runtime before each reconcile.
    public var now: Double = 0
    /// The terminal size last seen (for paging).
    public var size = Size(width: 80, height: 24)

    /// How many refreshes a vanished instance stays listed (greyed).
    public static let goneRefreshes = 3
    /// The events kept for the Events pane (the oldest go first).
    public static let maximumEvents = 5000
    /// Events of one user admitted into `events` per minute; the rest are one summary line per user.
    public static let maximumEventsPerUserPerMinute = 60
    /// Seconds an operator's own result (add, remove, probe) stays in the status line against event messages.
    public static let operatorResultHold = 5.0
    /// Forwards of the shown instance are re-listed this often (each listing is logged by slirp4netns).
    public static let forwardsInterval = 5.0

    public init(readOnly: Bool = false, banner: String? = nil, delay: Double = 1, useColor: Bool = true, host: HostInfo = HostInfo()) {
        self.readOnly = readOnly
        self.banner = banner
        self.delay = delay
        self.useColor = useColor
        self.host = host
    }

    // MARK: Derived

    /// How many rows the filter keeps.
    public var visibleCount: Int { visibleOrder.count }

    /// Rows after the filter, in sort order.
    public var visibleRows: [InstanceRow] { visibleOrder.map { rows[$0] } }

    private mutating func orderVisibleRows() {
        let needle = filter.lowercased()
        var order = needle.isEmpty ? Array(rows.indices) : rows.indices.filter { searchText(rows[$0]).contains(needle) }
        // Positions are sorted, not rows: a row is large, and a sort moves what it sorts.
        rows.withUnsafeBufferPointer { all in
            order.sort { precedes(all[$0], all[$1]) }
        }
        visibleOrder = order
    }

    private func precedes(_ a: InstanceRow, _ b: InstanceRow) -> Bool {
        let order = compare(a, b, by: sortColumn)
        if order != 0 { return sortAscending ? order < 0 : order > 0 }
        if a.snapshot.pid != b.snapshot.pid { return a.snapshot.pid < b.snapshot.pid }
        return a.snapshot.name < b.snapshot.name
    }

    public var selectedRow: InstanceRow? {
        guard let selected else { return nil }
        return rows.first { $0.snapshot.identity == selected }
    }

    public var selectedIndex: Int? {
        guard let selected else { return nil }
        return visibleOrder.firstIndex { rows[$0].snapshot.identity == selected }
    }

    /// The instance the effects target.
    public var selectedTarget: EffectTarget? {
        selectedRow.map { $0.snapshot.effectTarget }
    }

    public var selectedForwards: ForwardsEntry? {
        selected.flatMap { forwards[$0] }
    }

    /// The forward under the cursor in the forwards pane.
    public var selectedForward: HostForward? {
        guard let list = selectedForwards?.forwards, !list.isEmpty else { return nil }
        return list[min(max(0, forwardIndex), list.count - 1)]
    }

    /// The RootlessKit port under the cursor in the forwards pane.
    public var selectedPort: RootlessKitForward? {
        guard let list = selectedForwards?.ports, !list.isEmpty else { return nil }
        return list[min(max(0, forwardIndex), list.count - 1)]
    }

    /// Why adding a forward to the selection is impossible now, or nil.
    public var addBlocker: String? {
        guard let row = selectedRow else { return "no instance selected" }
        if row.isGone { return "the process has exited" }
        return row.snapshot.forwardBlocker
    }

    /// The log lines matching the log search (indexes).
    public var logMatches: [Int] {
        let needle = log.search.lowercased()
        guard !needle.isEmpty else { return [] }
        return log.lines.indices.filter { log.lines[$0].lowercased().contains(needle) }
    }

    /// Running instances; failed ones (zombies, containers whose slirp4netns failed or is
    /// missing); instances with an API socket; rows gone; stopped containers.
    public var counts: (running: Int, failed: Int, withAPI: Int, gone: Int, stopped: Int) {
        var running = 0, failed = 0, api = 0, gone = 0, stopped = 0
        for row in rows {
            if row.isGone { gone += 1; continue }
            if let detached = row.snapshot.detached {
                if detached.isFailure { failed += 1 } else { stopped += 1 }
                continue
            }
            if row.snapshot.isZombie { failed += 1 } else { running += 1 }
            // A RootlessKit instance's API is RootlessKit's (the builtin port driver gives slirp4netns none).
            if (row.snapshot.apiSocket != nil || row.snapshot.api == .rootlessKit) && !row.snapshot.isZombie { api += 1 }
        }
        return (running, failed, api, gone, stopped)
    }

    /// Show the USER column: more than one user's rows, or another user's.
    public var showsUserColumn: Bool {
        let users = Set(rows.map { $0.snapshot.user ?? "?" })
        return users.count > 1 || (users.first.map { $0 != host.userName } ?? false)
    }

    func searchText(_ row: InstanceRow) -> String {
        let s = row.snapshot
        var words = [s.name, s.shortID, s.containerID ?? "", s.isDetached ? "" : String(s.pid), s.state, s.cidr ?? "", s.guest ?? "", s.apiSocket ?? "",
                     s.netnsPath ?? "", s.user ?? "", s.logPath ?? ""]
        if let c = s.container { words += [c.image, c.state, c.podName ?? ""] + s.podMembers.map(\.name) }
        return words.joined(separator: " ").lowercased()
    }

    /// The FWD column's count: the refresh's (`InstanceSnapshot.forwardCount`, kept current by the
    /// instance's log), else the forwards pane's listing (a RootlessKit instance's only source).
    func forwardCount(_ row: InstanceRow) -> Int? {
        row.snapshot.forwardCount ?? forwards[row.snapshot.identity]?.count
    }

    private func compare(_ a: InstanceRow, _ b: InstanceRow, by column: Column) -> Int {
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        let x = a.snapshot, y = b.snapshot
        switch column {
        case .id: return cmp(x.containerID == nil ? "~" : x.name, y.containerID == nil ? "~" : y.name)
        case .pid: return cmp(x.isDetached ? Int32.max : x.pid, y.isDetached ? Int32.max : y.pid)
        case .user: return cmp(x.user ?? "~", y.user ?? "~")
        case .state: return cmp(x.state, y.state)
        case .uptime: return cmp(x.uptimeSeconds, y.uptimeSeconds)
        case .cidr: return cmp(AddressSort.key(x.cidr ?? ""), AddressSort.key(y.cidr ?? ""))
        case .guest: return cmp(AddressSort.key(x.guest ?? ""), AddressSort.key(y.guest ?? ""))
        case .api: return cmp(x.apiColumn, y.apiColumn)
        case .forwards: return cmp(forwardCount(a) ?? -1, forwardCount(b) ?? -1)
        case .ipv6: return cmp(x.ipv6 ? 1 : 0, y.ipv6 ? 1 : 0)
        case .mtu: return cmp(x.mtu ?? -1, y.mtu ?? -1)
        // Not measured (a first reading, a defunct or detached row) sorts below every measured value.
        case .cpu: return cmp(x.load?.cpuPercent ?? -1, y.load?.cpuPercent ?? -1)
        case .rss: return cmp(x.isDetached || x.isZombie ? -1 : x.residentBytes, y.isDetached || y.isZombie ? -1 : y.residentBytes)
        case .rx: return cmp(x.load?.tapRates?.rxBytes ?? -1, y.load?.tapRates?.rxBytes ?? -1)
        case .tx: return cmp(x.load?.tapRates?.txBytes ?? -1, y.load?.tapRates?.txBytes ?? -1)
        }
    }
}

/// Sorts dotted quads numerically (10.0.2.100 after 10.0.2.9).
enum AddressSort {
    static func key(_ text: String) -> String {
        let head = text.split(separator: "/").first.map(String.init) ?? text
        guard let address = IPv4Address(head) else { return "~" + text }
        let hex = String(address.value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex + text
    }
}
