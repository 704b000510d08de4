// Replies at slirp4netns's DNS address: whatever a process in a user's namespace sends back to
// `slirpmon dns`; and resolv.conf text as slirp4netns's owner wrote it. Nothing read may crash,
// and no address or nameserver shown may carry a control character to the operator's terminal.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDnsReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    func printable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
    let bytes = fuzzBytes(data, size)
    // The seeds are replies to this very query (ID 0x1234, probe.test): mutations keep matching it.
    let labels = (try? DNSMessage.labels(of: "probe.test").get()) ?? []
    for type in [DNSMessage.QueryType.a, .aaaa] {
        let query = DNSMessage.query(id: 0x1234, labels: labels, type: type)
        if let reply = try? DNSMessage.reply(bytes, to: query, type: type) {
            require(reply.addresses.count <= 256, "\(reply.addresses.count) addresses")
            for address in reply.addresses {
                require(printable(address) && address.utf8.count <= 39, "address \(address.debugDescription)")
            }
            require(printable(reply.codeWord), "code word \(reply.codeWord.debugDescription)")
        }
    }
    let servers = HostResolver.nameservers(inResolvConf: fuzzText(data, size))
    require(servers.count <= 32, "\(servers.count) nameservers")
    for server in servers { require(printable(server) && server.utf8.count <= 64, "nameserver \(server.debugDescription)") }
    return 0
}
