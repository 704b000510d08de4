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
        return "\(s / 86400)d" + two(s % 86400 / 3600) + "h"
    }

    /// A short interval with one decimal: `1.0s`, `0.5s`, `2.5s` (the monitor's refresh delay).
    public static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)).0s" : "\((value * 10).rounded() / 10)s"
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
