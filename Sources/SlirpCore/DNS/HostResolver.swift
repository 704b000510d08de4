#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The resolver slirp4netns forwards its DNS address to: the nameservers of `/etc/resolv.conf`
/// as the slirp4netns process itself sees it (`/proc/PID/root`: its mount namespace and, with
/// --enable-sandbox, the root it pivoted into).
///
/// What slirp4netns 1.2.0 (libslirp 4.7.0) does with them, seen on this machine (see
/// Tests/SlirpIntegrationTests/DNSCheckTests.swift): a query to 10.0.2.3 goes to the FIRST IPv4
/// nameserver only, one to fd00::3 to the first IPv6 one only (a second line is never asked, even
/// when the first is dead); a loopback nameserver (127.0.0.53, ::1) is reached from the host's
/// side, with --disable-host-loopback too (that option covers 10.0.2.2, not the DNS address); with
/// no nameserver of the family the query is dropped (no fallback); a change of the file is read
/// within a second, without a restart.
public struct HostResolver: Sendable, Equatable, Encodable {
    /// The file read: `/proc/PID/root/etc/resolv.conf`.
    public let path: String
    /// Every `nameserver` line's address that slirp4netns can use (IPv4, or IPv6 with an optional `%scope`), in order.
    public let nameservers: [String]
    /// Where slirp4netns sends a query to its IPv4 DNS address: the first IPv4 nameserver.
    @NullWhenAbsent public private(set) var ipv4: String?
    /// Where it sends one to fd00::3: the first IPv6 nameserver.
    @NullWhenAbsent public private(set) var ipv6: String?
    /// Why the file was not read, when it was not.
    @NullWhenAbsent public private(set) var problem: String?
    /// Whose file it is: the host's /etc/resolv.conf, or one in slirp4netns's own mount namespace.
    @NullWhenAbsent public private(set) var controlledBy: Controller?

    /// Who can change the file slirp4netns forwards by.
    public enum Controller: String, Sendable, Encodable {
        /// The very file of the host's /etc/resolv.conf (same device and inode): the host's administrator.
        case host
        /// Another file, in slirp4netns's own mount namespace (a bind mount, a private root):
        /// whoever started slirp4netns set it up and changes it; editing the host's does nothing.
        case instanceOwner = "instance_owner"
    }

    enum CodingKeys: String, CodingKey {
        case path, nameservers, ipv4, ipv6, problem
        case controlledBy = "controlled_by"
    }

    init(path: String, nameservers: [String], problem: String?, controlledBy: Controller? = nil) {
        self.controlledBy = controlledBy
        self.path = path
        self.nameservers = nameservers
        ipv4 = nameservers.first { !$0.contains(":") }
        ipv6 = nameservers.first { $0.contains(":") }
        self.problem = problem
    }

    /// The nameservers slirp4netns would read from `text`: lines that begin with `nameserver`,
    /// a blank and an address (libslirp's `sscanf("nameserver%*[ \t]%256s")` and `inet_pton`),
    /// re-formatted by slirpmon (the file is its owner's text, shown to root). At most 32.
    public static func nameservers(inResolvConf text: String) -> [String] {
        var found: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where found.count < 32 {
            guard line.hasPrefix("nameserver"), let blank = line.dropFirst(10).first, blank == " " || blank == "\t" else { continue }
            guard let token = line.dropFirst(10).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first else { continue }
            if let v4 = IPv4Address(token) {
                found.append(v4.description)
            } else {
                let parts = token.split(separator: "%", maxSplits: 1)
                guard let v6 = parts.first.flatMap({ IPv6Address($0) }) else { continue }
                // A scope is an interface name (at most 15 bytes); anything else is left off, not shown.
                let scope = parts.count == 2 && (1...15).contains(parts[1].utf8.count)
                    && parts[1].utf8.allSatisfy { DNSMessage.isNameByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "@") }
                found.append(v6.description + (scope ? "%" + parts[1] : ""))
            }
        }
        return found
    }

    /// True for 127.0.0.0/8 and ::1: a resolver on the host's loopback (systemd-resolved's 127.0.0.53 stub, a local dnsmasq).
    public static func isLoopback(_ server: String) -> Bool {
        let bare = server.split(separator: "%", maxSplits: 1).first.map(String.init) ?? server
        return IPv4Address(bare)?.isLoopback == true || IPv6Address(bare) == IPv6Address("::1")
    }

    /// The nameservers of the family of `first` listed after it: never asked by slirp4netns.
    public func neverAsked(after first: String) -> [String] {
        let family = nameservers.filter { $0.contains(":") == first.contains(":") }
        return Array(family.drop { $0 != first }.dropFirst())
    }

    /// Reads `/etc/resolv.conf` as slirp4netns `pid` (owned by `uid`) sees it; a file its owner put
    /// there is read as `NamespaceReader.resolvConf` reads a container's (no FIFO, device or FUSE,
    /// only if that owner may read it).
    public static func of(pid: Int32, uid: UInt32?, procRoot: String = "/proc", hostResolvConf: String = "/etc/resolv.conf") -> HostResolver {
        let base = "\(procRoot)/\(pid)"
        let path = "\(base)/root/etc/resolv.conf"
        let directory: FileDescriptor
        do { directory = try FileDescriptor.open(base, .readOnly, options: [.directory, .closeOnExec]) } catch {
            return HostResolver(path: path, nameservers: [], problem: error.description)
        }
        defer { directory.close() }
        do throws(SystemError) {
            let owner: uid_t
            if let uid { owner = uid } else { owner = try directory.status(path: base).st_uid }
            var identity: ContainerJoin.FileIdentity?
            let text = try NamespaceReader.resolvConf(process: directory, path: "\(base)/root", readableBy: owner, identity: &identity)
            // The host's: /etc/resolv.conf as slirpmon (root, the host's mount namespace) opens it.
            let host = ContainerJoin.identity(hostResolvConf)
            let controller: Controller? = identity.flatMap { own in host.map { $0 == own ? .host : .instanceOwner } }
            return HostResolver(path: path, nameservers: nameservers(inResolvConf: text), problem: nil, controlledBy: controller)
        } catch {
            return HostResolver(path: path, nameservers: [], problem: error.isGone ? "\(path): no such file (slirp4netns has no nameserver to forward to)" : error.description)
        }
    }
}
