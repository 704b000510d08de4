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

    /// `command` (a shell command line, its words quoted: `Shell`) as the owner runs it.
    ///
    /// From root, with the owner's name known: `runuser -l OWNER -s /bin/sh -c 'COMMAND'`. A login
    /// (`-l`) so Podman gets the owner's HOME (containers.conf, storage) and a working directory it
    /// may enter (`runuser -u` keeps root's, and rootless Podman then fails "cannot chdir to
    /// /root"); `-s /bin/sh` because `-l` alone runs the owner's login shell, and the quoting is
    /// sh's: csh or fish would read it otherwise, and `/usr/sbin/nologin` runs nothing at all.
    ///
    /// Otherwise nothing here can run it as the owner: root cannot `runuser` to a uid with no user
    /// name (nor would rootless Podman find that user's HOME), and another user cannot switch at
    /// all. Then the line is a shell comment, `# run as OWNER ...: COMMAND`: it says whom it must
    /// run as, and pasted whole it does nothing, never the bare command as the wrong user (root's
    /// `podman rm -f NAME` removes root's container of that name, not the owner's).
    public func asOwner(_ command: String) -> String {
        if actor == 0, let ownerName {
            return "runuser -l \(Shell.quoted(ownerName)) -s /bin/sh -c \(Shell.quoted(command))"
        }
        let why = actor == 0 ? ", not as root (no user name for it here, so no runuser line)" : ""
        return Shell.comment("run as \(ownerWord)\(why): \(command)")
    }
}
