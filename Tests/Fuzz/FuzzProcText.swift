// /proc texts: PID/stat, net/unix, and the namespace's route, fib_trie, if_inet6, ipv6_route.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProcText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    if let stat = ProcessStat(text) { _ = stat.isZombie }
    _ = UnixSocketTable.parse(text)
    let parts = fuzzFields(data, size)
    func part(_ i: Int) -> String { i < parts.count ? parts[i] : "" }
    _ = ObservedAddresses.parse(interface: "tap0", route: part(0), fibTrie: part(1), ifInet6: part(2), ipv6Route: part(3))
    _ = ObservedAddresses.parse(interface: "tap0", route: text, fibTrie: text, ifInet6: text, ipv6Route: text)
    return 0
}
