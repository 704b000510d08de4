/// A kept fact: a value read once, the key that proves it still holds, and when it was read.
///
/// Every cache in slirpmon keeps facts this way, in memory (`InventoryCache`, `PodmanCatalog`,
/// `PasswdFile`) or on disk (`KeptFile`): a value is used again only while what it depends on is
/// the same (`key`: a namespace file's device and inode, a process's PID and start time, Podman's
/// state files, `/etc/passwd`'s inode, size and time) and, where facts age, only while it is
/// younger than a maximum age. Anything else reads the fact anew.
struct Kept<Key: Equatable, Value> {
    let key: Key
    let value: Value
    /// Seconds on the clock the caller compares with (monotonic in memory, the epoch on disk).
    let readAt: Double

    init(_ value: Value, key: Key, readAt: Double) {
        self.key = key
        self.value = value
        self.readAt = readAt
    }

    /// The value while `key` is its key and it is younger than `maxAge` seconds at `now` (an age
    /// below zero, a clock gone back, does not count as young).
    func value(provenBy key: Key, now: Double, maxAge: Double = .infinity) -> Value? {
        guard key == self.key, isYoung(now: now, maxAge: maxAge) else { return nil }
        return value
    }

    /// The value while it is younger than `maxAge` seconds at `now`, whatever its key (for a caller
    /// that cannot look at what the key names).
    func value(now: Double, maxAge: Double) -> Value? {
        isYoung(now: now, maxAge: maxAge) ? value : nil
    }

    private func isYoung(now: Double, maxAge: Double) -> Bool {
        let age = now - readAt
        return age >= 0 && age < maxAge
    }
}

extension Kept: Sendable where Key: Sendable, Value: Sendable {}
extension Kept: Equatable where Value: Equatable {}
