/// Bounds on how much of other processes' descriptor tables one probe reads to name a socket's
/// holder: each descriptor is a `readlink`, and any user can hold a hundred thousand of them in one
/// process (or in many). A process with more than `perProcess` descriptors is not looked into,
/// and nothing is looked into once the deadline passed; each is said (`notChecked`), so a holder
/// not named is never taken for one that does not exist.
struct DescriptorScan {
    /// Descriptors read of one process at most (a busy server has thousands; a user's pile, more).
    static let perProcess = 16_384

    let deadline: Deadline
    let limit: Int
    /// What was not looked into, in words ("pid 123 (sleep, user alice) has more than 16384 descriptors").
    private(set) var notChecked: [String] = []

    init(deadline: Deadline, perProcess: Int = Self.perProcess) {
        self.deadline = deadline
        limit = perProcess
    }

    /// True when process `pid` has socket `inode` among its descriptors; nil when it was not looked
    /// into (too many descriptors, the deadline passed: said in `notChecked`).
    mutating func holds(_ pid: Int32, inode: UInt64, procRoot: String) -> Bool? {
        guard !deadline.hasPassed else {
            note("the search for the holder of socket \(inode) stopped at its deadline, before pid \(pid)")
            return nil
        }
        guard let fds = try? Files.directoryEntries("\(procRoot)/\(pid)/fd", limit: limit + 1) else { return false }
        guard fds.count <= limit else {
            note("pid \(pid) (\(Self.who(pid, procRoot: procRoot))) has more than \(limit) descriptors: not looked into")
            return nil
        }
        let wanted = "socket:[\(inode)]"
        for (index, fd) in fds.enumerated() {
            if index % 256 == 255 && deadline.hasPassed {
                note("the search for the holder of socket \(inode) stopped at its deadline, in pid \(pid)")
                return nil
            }
            if (try? Files.readLink("\(procRoot)/\(pid)/fd/\(fd)")) == wanted { return true }
        }
        return false
    }

    /// True once the deadline passed (said once in `notChecked`): no holder is looked for after it.
    mutating func expired() -> Bool {
        guard deadline.hasPassed else { return false }
        note("the search for sockets' holders stopped at its deadline: the sockets after it are not named")
        return true
    }

    /// The first of `pids` that holds socket `inode`, within the bounds.
    mutating func owner(of inode: UInt64, among pids: [Int32], procRoot: String) -> Int32? {
        for pid in pids {
            if holds(pid, inode: inode, procRoot: procRoot) == true { return pid }
            if deadline.hasPassed { break }
        }
        return nil
    }

    private mutating func note(_ text: String) {
        if !notChecked.contains(text) { notChecked.append(text) }
    }

    /// `sleep, user alice` for a process (its comm is its owner's text: made safe where shown).
    private static func who(_ pid: Int32, procRoot: String) -> String {
        let command = (try? Files.readText("\(procRoot)/\(pid)/comm"))?.trimmingSpaces ?? "?"
        let user = (try? Files.status("\(procRoot)/\(pid)")).map { UserNames.name(of: $0.st_uid) ?? "uid \($0.st_uid)" } ?? "?"
        return "\(command), user \(user)"
    }
}
