import NIOCore

/// The server's open connections and which of them are still waiting for a complete request,
/// so that a new connection past `limit` evicts the one that has waited longest (a slowloris
/// holding many connections loses them one by one; a scrape in progress is never evicted).
/// Lives on the server's one event loop.
final class ConnectionTable {
    private struct Entry {
        let channel: Channel
        /// Set while no complete request is in: since when it waits.
        var waitingSince: NIODeadline?
    }
    private var open: [ObjectIdentifier: Entry] = [:]
    private let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    func opened(_ channel: Channel) {
        open[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: .now())
        guard open.count > limit else { return }
        var oldest: (key: ObjectIdentifier, since: NIODeadline)?
        for (key, entry) in open {
            guard let since = entry.waitingSince else { continue }
            if oldest.map({ since < $0.since }) ?? true { oldest = (key, since) }
        }
        // All others busy answering: the newcomer itself (the newest waiting one) is closed.
        guard let victim = oldest, let entry = open.removeValue(forKey: victim.key) else { return }
        entry.channel.close(promise: nil)
    }

    /// A complete request came in: it is being answered, not evictable.
    func answering(_ channel: Channel) { open[ObjectIdentifier(channel)]?.waitingSince = nil }

    /// Answered, kept alive: waits for its next request from now.
    func waiting(_ channel: Channel) { open[ObjectIdentifier(channel)]?.waitingSince = .now() }

    func closed(_ channel: Channel) { open.removeValue(forKey: ObjectIdentifier(channel)) }
}
