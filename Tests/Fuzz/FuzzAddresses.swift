// CIDRs and addresses from command lines, options and /proc, and Podman's address computation.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddresses(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    if let address = IPv4Address(text) {
        require(IPv4Address(address.description) == address, "IPv4 \(address) does not read back")
    }
    if let network = IPv4Network(text) {
        require((0...32).contains(network.prefixLength), "prefix length \(network.prefixLength)")
        _ = try? PodmanAddressing.guestAddress(in: network)
        _ = try? PodmanAddressing.gatewayAddress(in: network)
        _ = try? PodmanAddressing.dnsAddress(in: network)
    }
    _ = try? PodmanAddressing.network(fromCIDR: text)
    if let address = IPv6Address(text) {
        require(IPv6Address(address.description) == address, "IPv6 \(address) does not read back")
    }
    _ = IPv4Address(procHex: text)
    _ = IPv6Address(procHex: text)
    _ = IPv6Address(bytes: fuzzBytes(data, size))
    return 0
}
