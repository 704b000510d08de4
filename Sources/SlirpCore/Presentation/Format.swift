/// The words slirpmon writes for numbers and IDs: durations, sizes, short container IDs, the
/// name an operator knows an instance by. One rule each, shared by the CLI (`slirpmon list`,
/// `show`, `doctor`) and the monitor, so the two never say the same thing two ways.
///
/// Pure and without Foundation: integer arithmetic only (the monitor formats a row per
/// instance per frame).
public enum Format {
    /// How much of a duration to show.
    public enum DurationStyle: Sendable {
        /// `59s`, `12m03s`, `3h07m`, `12d04h`: the two largest units.
        case exact
        /// `<1m`, `12m`, `3h07m`, `12d04h`: no seconds, so the text changes at most once a
        /// minute (a list row that does not change every second costs an idle screen nothing).
        case coarse
    }

    /// `seconds` in words (`DurationStyle`); a negative or non-finite time reads as `0s`.
    public static func duration(_ seconds: Double, _ style: DurationStyle = .exact) -> String {
        let s = seconds.isFinite ? Int(min(max(0, seconds), 1e15)) : 0
        if s < 60 { return style == .coarse ? "<1m" : "\(s)s" }
        if s < 3600 { return style == .coarse ? "\(s / 60)m" : "\(s / 60)m" + two(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + two(s % 3600 / 60) + "m" }
        // From 100 days the coarse text drops the hours: `100d04h` would not fit the monitor's
        // 6-column UPTIME and be cut into a number that reads wrong.
        if style == .coarse && s >= 100 * 86400 { return "\(s / 86400)d" }
        return "\(s / 86400)d" + two(s % 86400 / 3600) + "h"
    }

    /// A count in at most `width` columns: its digits when they fit, else thousands, millions
    /// or billions rounded down with one decimal when there is room (`1.2k`, `12k`, `123k`, `1.2M`):
    /// a column too narrow for the number shows a smaller unit, never the number cut short
    /// (`10…` for 1000 reads as ten). Digits when nothing fits: the caller's clipping marks the cut.
    public static func count(_ n: Int, width: Int) -> String {
        let digits = String(n)
        guard digits.utf8.count > width, n > 0 else { return digits }
        for (unit, suffix) in [(1000, "k"), (1_000_000, "M"), (1_000_000_000, "G")] where n >= unit {
            let whole = n / unit
            let tenth = n % unit / (unit / 10)
            let withTenth = "\(whole).\(tenth)\(suffix)", plain = "\(whole)\(suffix)"
            if whole < 10, withTenth.utf8.count <= width { return withTenth }
            if plain.utf8.count <= width { return plain }
        }
        return digits
    }

    /// Forward ids as an operator reads them: each run of consecutive ids as `first-last`, the rest
    /// by commas (`1-1000`, `3,5,7-9`), in the order given. One rule for every human line that lists
    /// ids (`fwd add`, `fwd rm`, the monitor's status); JSON keeps the full list.
    public static func idRanges(_ ids: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < ids.count {
            var end = index
            while end + 1 < ids.count, ids[end] < Int.max, ids[end + 1] == ids[end] + 1 { end += 1 }
            // Two in a row read better as `4,5` than as a range.
            if end - index >= 2 {
                parts.append("\(ids[index])-\(ids[end])")
            } else {
                parts += ids[index...end].map(String.init)
            }
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// A short interval with one decimal: `1.0s`, `0.5s`, `2.5s` (the monitor's refresh delay).
    public static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)).0s" : "\((value * 10).rounded() / 10)s"
    }

    /// `127.0.0.1:8080`, `[::1]:8080`, `*:8080`: an IPv6 address (any with a colon) in brackets, as
    /// Podman, Docker and RootlessKit write a host and port.
    public static func hostPort(_ address: String, _ port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// `n` as two digits at least: `07`, `12`, `123`.
    public static func two(_ n: Int) -> String { n < 10 && n >= 0 ? "0\(n)" : "\(n)" }

    /// A size in binary units: `812 B`, `812.0 KiB`, `2.3 MiB`, `1.5 GiB`. One decimal from KiB
    /// up, rounded to the nearest tenth (a tie to the even tenth), as C's `%.1f` rounds it.
    public static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        let (unit, name): (Int64, String) = n < 1 << 20 ? (1 << 10, "KiB") : n < 1 << 30 ? (1 << 20, "MiB") : (1 << 30, "GiB")
        var whole = n / unit
        let scaled = (n % unit) * 10 // < 10 GiB: no overflow
        var tenth = scaled / unit
        let rest = scaled % unit
        if rest * 2 > unit || (rest * 2 == unit && tenth % 2 == 1) { tenth += 1 }
        if tenth == 10 { whole += 1; tenth = 0 }
        return "\(whole).\(tenth) \(name)"
    }

    /// The first 12 hex digits of a container ID, as Podman shows it.
    public static func shortID(_ id: String) -> String { String(id.prefix(12)) }

    /// The short container ID, or `manual` for an instance Podman did not start.
    public static func shortID(_ id: String?) -> String { id.map { shortID($0) } ?? "manual" }

    /// The name an operator knows an instance by: its container's name (`pod:NAME` for a pod's
    /// infra container), else the short ID its files claim, else `manual`.
    public static func instanceName(container: PodmanContainer?, containerID: String?) -> String {
        guard let container else { return shortID(containerID) }
        return container.isInfra ? (container.podName.map { "pod:\($0)" } ?? container.name) : container.name
    }
}
