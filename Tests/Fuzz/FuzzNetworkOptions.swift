// Podman's --network slirp4netns:OPTIONS (comma-separated) and containers.conf network_cmd_options.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetworkOptions(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fields = fuzzFields(data, size)
    let options = (fields.first ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let engine = fields.dropFirst().map { $0 }
    do {
        let parsed = try SlirpNetworkOptions.parse(options, engineOptions: engine, interfaceExists: { $0 == "lo" })
        _ = parsed
    } catch {
        require(!error.message.isEmpty, "an empty error message")
    }
    return 0
}
