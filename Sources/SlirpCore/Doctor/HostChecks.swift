#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks of the host that explain the common slirp4netns start failures without
/// starting anything: the tun device, user namespaces, the API socket path, the tmp
/// dir, and whether the outbound addresses belong to this host.
public enum HostChecks {
    /// What to check.
    public struct Input: Sendable {
        public var isRoot: Bool
        public var uid: UInt32
        public var tmpDir: String
        /// Podman's API socket path, or nil when Podman would not create one (`apiSocketNote` says why).
        public var apiSocketPath: String?
        public var apiSocketNote: String
        public var outboundAddr: String?
        public var outboundAddr6: String?
        public var tunPath = "/dev/net/tun"
        public var procRoot = "/proc"
        /// The host's interfaces; nil: read them (`interfaces()`).
        public var interfaces: [Interface]?

        public init(isRoot: Bool, uid: UInt32, tmpDir: String, apiSocketPath: String?, apiSocketNote: String,
                    outboundAddr: String? = nil, outboundAddr6: String? = nil) {
            self.isRoot = isRoot
            self.uid = uid
            self.tmpDir = tmpDir
            self.apiSocketPath = apiSocketPath
            self.apiSocketNote = apiSocketNote
            self.outboundAddr = outboundAddr
            self.outboundAddr6 = outboundAddr6
        }
    }

    /// Runs every check; the step fails on the first problem that stops slirp4netns, and lists them all.
    public static func run(_ input: Input) -> DoctorStep {
        var step = DoctorStep(name: "host", title: "host checks: tun, user namespaces, API socket path, tmp_dir, outbound addresses")
        checkTun(input, &step)
        checkUserNamespaces(input, &step)
        checkAPISocket(input, &step)
        checkTmpDir(input, &step)
        checkOutbound(input, &step)
        return step
    }

    static func checkTun(_ input: Input, _ step: inout DoctorStep) {
        let path = input.tunPath
        let st: stat
        do throws(SystemError) { st = try Files.status(path) } catch {
            // Missing only when stat says so: a directory this user may not search hides the device, it does not remove it.
            if error.errno == .noSuchFileOrDirectory || error.errno == .notADirectory {
                step.fail("\(path): missing", cause: FailureCause.tunMissing(evidence: error.description))
            } else {
                let closed = error.isPermissionDenied ? Files.firstUnsearchableDirectory(of: path) : nil
                step.fail("\(path): cannot be checked as uid \(input.uid)" + (closed.map { " (permission denied: \($0) is not searchable)" } ?? ": \(error.reason)"),
                          cause: FailureCause(.tunDenied, cause: "\(path) cannot be reached by this user: slirp4netns cannot create its tap device",
                                              fix: closed.map { "chmod 0755 \($0) (it normally is)" } ?? "check \(path) and its directory as this user",
                                              evidence: error.description))
            }
            return
        }
        let mode = octal(Int(st.st_mode & 0o7777))
        let isChar = st.st_mode & S_IFMT == S_IFCHR
        let summary = "\(path): \(isChar ? "character device" : "NOT a character device"), mode \(mode), owner uid \(st.st_uid)"
        if !isChar {
            step.fail(summary, cause: FailureCause.tunMissing(evidence: summary))
        } else if input.isRoot {
            let note = st.st_mode & 0o006 == 0o006 ? "" : " (fine for root; rootless Podman users need 0666)"
            step.details.append(summary + note)
        } else if access(path, R_OK | W_OK) != 0 {
            step.fail(summary + ": this user (uid \(input.uid)) cannot open it read-write",
                      cause: FailureCause.tunDenied(mode: mode, evidence: summary))
        } else {
            step.details.append(summary + ": readable and writable by this user")
        }
    }

    static func checkUserNamespaces(_ input: Input, _ step: inout DoctorStep) {
        let root = input.procRoot
        let maxText = (try? Files.readText("\(root)/sys/user/max_user_namespaces"))?.trimmingSpaces
        let clone = (try? Files.readText("\(root)/sys/kernel/unprivileged_userns_clone"))?.trimmingSpaces
        let apparmor = (try? Files.readText("\(root)/sys/kernel/apparmor_restrict_unprivileged_userns"))?.trimmingSpaces
        var facts = ["user.max_user_namespaces=\(maxText ?? "?")"]
        if let clone { facts.append("kernel.unprivileged_userns_clone=\(clone)") }
        if let apparmor { facts.append("kernel.apparmor_restrict_unprivileged_userns=\(apparmor)") }
        let summary = "user namespaces: " + facts.joined(separator: ", ")
        let disabled = maxText == "0" || (!input.isRoot && clone == "0")
        if disabled && !input.isRoot {
            let fix = maxText == "0" ? "sysctl -w user.max_user_namespaces=15000 (and persist it in /etc/sysctl.d)"
                                     : "sysctl -w kernel.unprivileged_userns_clone=1 (and persist it in /etc/sysctl.d)"
            step.fail(summary + ": rootless Podman cannot create its user namespace",
                      cause: FailureCause(.userNamespacesDisabled, cause: "user namespaces are disabled for unprivileged users (\(facts.joined(separator: ", ")))",
                                          fix: fix, evidence: summary))
        } else if disabled {
            step.details.append(summary + " (root does not need them; rootless Podman does)")
        } else if !input.isRoot && apparmor == "1" {
            step.warn(summary + ": AppArmor may refuse unprivileged user namespaces to unconfined programs")
        } else {
            step.details.append(summary)
        }
    }

    static func checkAPISocket(_ input: Input, _ step: inout DoctorStep) {
        guard let path = input.apiSocketPath else {
            step.details.append("API socket: none (\(input.apiSocketNote))")
            return
        }
        let length = path.utf8.count
        if length > maximumUnixSocketPathLength {
            step.fail("API socket \(path): \(length) bytes, longer than the \(maximumUnixSocketPathLength) a unix socket path can hold",
                      cause: FailureCause(.apiSocketPathTooLong,
                                          cause: "Podman's API socket path <tmp_dir>/<ID>.net is \(length) bytes; a unix socket path holds at most \(maximumUnixSocketPathLength), so slirp4netns cannot bind it",
                                          fix: "set a shorter engine.tmp_dir in containers.conf (this one is \(input.tmpDir.utf8.count) bytes; at most \(FailureCause.longestTmpDirForAPISocket) fit), or use port_handler=rootlesskit",
                                          evidence: "\(length) bytes: \(path)"))
        } else {
            step.details.append("API socket path: \(length) bytes (at most \(maximumUnixSocketPathLength)): \(path)")
        }
    }

    static func checkTmpDir(_ input: Input, _ step: inout DoctorStep) {
        let dir = input.tmpDir
        // A directory on the way that this user may not search hides tmp_dir: it is neither there nor
        // missing for this user, and Podman (as this user) cannot use it.
        if case .failure(let error) = Result(catching: { () throws(SystemError) in try Files.status(dir) }), error.isPermissionDenied {
            let closed = Files.firstUnsearchableDirectory(of: dir) ?? dir
            step.fail("tmp_dir \(dir): cannot be reached by uid \(input.uid) (permission denied: \(closed) is not searchable)",
                      cause: FailureCause(.tmpDirNotWritable, cause: "Podman cannot create the slirp4netns log (and API socket) in \(dir): \(closed) is not searchable for this user",
                                          fix: "make \(closed) searchable for this user, or set engine.tmp_dir in containers.conf to a directory this user can write",
                                          evidence: error.description))
            return
        }
        if Files.exists(dir) {
            if access(dir, W_OK | X_OK) == 0 {
                step.details.append("tmp_dir \(dir): writable")
            } else {
                step.fail("tmp_dir \(dir): not writable by uid \(input.uid)",
                          cause: FailureCause(.tmpDirNotWritable, cause: "Podman cannot create the slirp4netns log (and API socket) in \(dir)",
                                              fix: "make \(dir) writable for this user, or set engine.tmp_dir in containers.conf to a directory that is",
                                              evidence: "\(dir): \(SystemError("access", dir).reason)"))
            }
            return
        }
        // Podman creates it: the nearest existing parent must be writable.
        var parent = dir
        while !Files.exists(parent) && parent.contains("/") && parent != "/" {
            parent = String(parent[..<(parent.lastIndex(of: "/") ?? parent.startIndex)])
            if parent.isEmpty { parent = "/" }
        }
        if access(parent, W_OK | X_OK) == 0 {
            step.details.append("tmp_dir \(dir): does not exist yet; Podman creates it (\(parent) is writable)")
        } else {
            step.fail("tmp_dir \(dir): missing, and \(parent) is not writable",
                      cause: FailureCause(.tmpDirNotWritable, cause: "Podman cannot create its tmp_dir \(dir)",
                                          fix: "create \(dir) for this user, or set engine.tmp_dir in containers.conf to a writable directory",
                                          evidence: "\(parent): \(SystemError("access", parent).reason)"))
        }
    }

    static func checkOutbound(_ input: Input, _ step: inout DoctorStep) {
        if let addr = input.outboundAddr {
            if let ipv4 = IPv4Address(addr) {
                let trie = (try? Files.readText("\(input.procRoot)/net/fib_trie")) ?? ""
                let local = ObservedAddresses.localAddresses(fibTrie: trie)
                if local.contains(ipv4) {
                    step.details.append("outbound_addr \(addr): an address of this host")
                } else {
                    let list = local.filter { !$0.description.hasPrefix("127.") }.map(\.description).sorted().joined(separator: ", ")
                    step.fail("outbound_addr \(addr): not an address of this host (it has \(list.isEmpty ? "none readable" : list))",
                              cause: outboundNotLocal(addr, list: list))
                }
            } else {
                checkOutboundName("outbound_addr", addr, input, &step)
            }
        }
        if let addr6 = input.outboundAddr6 {
            if let ipv6 = IPv6Address(addr6), IPv4Address(addr6) == nil {
                let text = (try? Files.readText("\(input.procRoot)/net/if_inet6")) ?? ""
                let local = text.split(separator: "\n").compactMap { line in
                    line.split(separator: " ", omittingEmptySubsequences: true).first.flatMap { IPv6Address(procHex: $0) }
                }
                if local.contains(ipv6) {
                    step.details.append("outbound_addr6 \(addr6): an address of this host")
                } else {
                    let list = local.map(\.description).joined(separator: ", ")
                    step.fail("outbound_addr6 \(addr6): not an address of this host (it has \(list.isEmpty ? "none" : list))",
                              cause: outboundNotLocal(addr6, list: list))
                }
            } else {
                checkOutboundName("outbound_addr6", addr6, input, &step)
            }
        }
    }

    /// An interface name given as `option`: slirp4netns takes the interface's first address of the
    /// option's family, and refuses to start without one. For outbound_addr6 it looks up the
    /// outbound_addr value instead (slirp4netns 1.2.0 to 1.3.x), so only the same name there works.
    static func checkOutboundName(_ option: String, _ name: String, _ input: Input, _ step: inout DoctorStep) {
        let six = option == "outbound_addr6"
        let interfaces = input.interfaces ?? interfaces()
        let looked = six ? input.outboundAddr : name
        let found = interfaces.first { $0.name == looked }.map { six ? $0.ipv6 : $0.ipv4 } ?? []
        if let first = found.first {
            if looked == name {
                step.details.append("\(option) \(name): the interface \(name) has \(six ? "IPv6" : "IPv4") address \(first)")
            } else {
                step.warn("\(option) \(name): slirp4netns looks up outbound_addr's interface \(looked ?? "-") instead (a slirp4netns bug) and binds to its address \(first); give the IPv6 address to be sure")
            }
            return
        }
        let cause = FailureCause.outboundAddressInvalid(option, value: name, outboundAddr: input.outboundAddr, interfaces: interfaces, evidence: nil)
        step.fail("\(option) \(name): slirp4netns will refuse it (\(cause.cause))", cause: cause)
    }

    /// One network interface of this host with its addresses.
    public struct Interface: Sendable, Equatable {
        public let name: String
        public var ipv4: [String] = []
        public var ipv6: [String] = []

        public init(name: String, ipv4: [String] = [], ipv6: [String] = []) {
            self.name = name
            self.ipv4 = ipv4
            self.ipv6 = ipv6
        }
    }

    /// This host's interfaces (this process's network namespace), in `getifaddrs` order.
    public static func interfaces() -> [Interface] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let head = list else { return [] }
        defer { freeifaddrs(head) }
        var result: [Interface] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = head
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let cName = entry.pointee.ifa_name else { continue }
            let name = String(cString: cName)
            var index = result.firstIndex { $0.name == name }
            if index == nil { result.append(Interface(name: name)); index = result.count - 1 }
            guard let i = index, let address = entry.pointee.ifa_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                result[i].ipv4.append(IPv4Address(UInt32(bigEndian: v4)).description)
            case AF_INET6:
                let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                if let v6 = IPv6Address(bytes: bytes) { result[i].ipv6.append(v6.description) }
            default: break
            }
        }
        return result
    }

    static func outboundNotLocal(_ addr: String, list: String) -> FailureCause {
        FailureCause(.outboundAddressNotLocal,
                     cause: "outbound address \(addr) is not assigned to this host: slirp4netns starts, but binding each outgoing connection to it fails (Cannot assign requested address), so the container cannot reach anything",
                     fix: "use one of this host's addresses\(list.isEmpty ? "" : " (\(list))") or an interface name, e.g. outbound_addr=eth0",
                     evidence: "outbound address \(addr) not among this host's addresses")
    }
}

/// `0644`-style octal text.
func octal(_ value: Int) -> String {
    let digits = String(value, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
