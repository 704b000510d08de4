#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The IPv4 interfaces of a network namespace besides slirp4netns's tap and the loopback: the
/// bridges of a rootless user's shared Podman network (`cni-podman1 10.89.0.1/24`), which no
/// process inside shows (the containers have their own namespaces).
///
/// Read as root on a throwaway thread inside the namespace (`NamespaceReader.runInside`), from
/// `/proc/thread-self/net/route` and `fib_trie`. Only `show` reads them: one namespace, once.
public enum NamespaceInterfaces {
    /// One interface with its IPv4 addresses (with prefix), as the namespace has them.
    public struct Interface: Sendable, Equatable, Encodable {
        public let name: String
        public let ipv4: [String]
    }

    /// The interfaces with an IPv4 route in the namespace at `path`, except `tap` and `lo`; with
    /// `owner`, only in a namespace that user owns (`NamespaceReader.runInside`).
    public static func read(netnsPath path: String, excluding tap: String, owner: UInt32? = nil) -> Result<[Interface], NamespaceReader.Failure> {
        NamespaceReader.runInside(path, owner: owner) { () -> Result<[Interface], NamespaceReader.Failure> in
            let route: String, fibTrie: String
            do throws(SystemError) {
                route = try Files.readText("/proc/thread-self/net/route")
                fibTrie = try Files.readText("/proc/thread-self/net/fib_trie")
            } catch {
                return .failure(.unreadable(error))
            }
            return .success(parse(route: route, fibTrie: fibTrie, excluding: tap))
        }
    }

    /// The interfaces named in `route` (in its order), each with its addresses from `fibTrie`.
    static func parse(route: String, fibTrie: String, excluding tap: String) -> [Interface] {
        var names: [String] = []
        for line in route.byteLines.dropFirst() {
            guard let name = line.byteFields.first.map(String.init), name != tap, name != "lo", !names.contains(name) else { continue }
            names.append(name)
        }
        return names.map { name in
            Interface(name: name, ipv4: ObservedAddresses.parse(interface: name, route: route, fibTrie: fibTrie, ifInet6: "", ipv6Route: "").ipv4)
        }
    }
}
