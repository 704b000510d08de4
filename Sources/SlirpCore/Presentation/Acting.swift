#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who acts on whose instance, when they are not the same user: root adding a forward to a
/// rootless user's slirp4netns changes that user's instance, and what keeps the forward is
/// that user's Podman configuration, so its commands must run as that user (root's own
/// `podman` knows nothing of a rootless user's containers).
public struct Acting: Sendable, Equatable {
    /// The effective uid slirpmon runs as.
    public let actor: UInt32
    /// The instance's owner (the container's owner, else the process's user).
    public let owner: UInt32
    public let ownerName: String?

    /// Nil when `actor` owns the instance or the owner is not known.
    public init?(actor: UInt32 = geteuid(), owner: UInt32?, ownerName: String?) {
        guard let owner, owner != actor else { return nil }
        self.actor = actor
        self.owner = owner
        self.ownerName = ownerName
    }

    /// The owner as words: the user name, else `uid N`.
    public var ownerWord: String { ownerName ?? "uid \(owner)" }

    /// "as root, on slirpmon-rl's instance".
    public var note: String {
        let me = actor == 0 ? "root" : (UserNames.name(of: actor) ?? "uid \(actor)")
        return "as \(me), on \(ownerWord)'s instance"
    }

    /// `command` (a shell command line) as the owner runs it. From root: `runuser -l OWNER -c
    /// 'COMMAND'`, a login shell, so Podman gets the owner's HOME (containers.conf, storage) and a
    /// working directory it may enter (`runuser -u` keeps root's, and rootless Podman then fails
    /// "cannot chdir to /root"). From another user: nothing runs as the owner; the command is
    /// labelled with whom it must run as.
    public func asOwner(_ command: String) -> String {
        guard actor == 0, let ownerName else { return "(as \(ownerWord)) \(command)" }
        return "runuser -l \(shellQuoted(ownerName)) -c \(shellQuoted(command))"
    }
}
