/// Which `childIP` a RootlessKit port may name, decided before the request is sent.
///
/// With the slirp4netns port driver, RootlessKit hands the port to slirp4netns as a hostfwd,
/// and slirp reaches only addresses of its own network (`--cidr`, 10.0.2.0/24 by default):
/// RootlessKit accepts `"childIP":"172.17.0.2"` (a Docker container's bridge address) and
/// `"127.0.0.1"` (although `/v1/info` says `disallowLoopbackChildIP`), and every connection
/// then times out. With the builtin driver the parent dials the address from inside the
/// namespace, so any address there works.
public enum ChildAddressRule {
    /// slirp4netns's default network (RootlessKit's `--cidr` default).
    public static let defaultSlirpNetwork = IPv4Network(address: IPv4Address(10, 0, 2, 0), prefixLength: 24)

    /// Why `childIP` cannot work with `portDriver` (`builtin`, `slirp4netns`), or nil when it can
    /// (or when no childIP is given: RootlessKit then uses slirp's own address).
    /// `slirpNetwork`: the instance's `--cidr` when it has one.
    public static func refusal(childIP: String?, portDriver: String, slirpNetwork: IPv4Network = defaultSlirpNetwork) -> String? {
        guard portDriver == "slirp4netns", let childIP else { return nil }
        guard let address = IPv4Address(childIP) else {
            return "the slirp4netns port driver forwards IPv4 only; leave childIP out (slirp's own address is used)"
        }
        guard slirpNetwork.contains(address), address != slirpNetwork.network else {
            return "\(address) is outside slirp4netns's network \(slirpNetwork): with the slirp4netns port driver slirp reaches "
                + "only its own network, so RootlessKit would accept the port and every connection would time out. "
                + "Leave childIP out and forward to a port something listens on at slirp's address (Docker's published "
                + "ports listen there), or run the daemon with the builtin port driver"
        }
        return nil
    }
}
