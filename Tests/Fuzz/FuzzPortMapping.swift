// Podman -p mappings typed by the operator (CLI arguments and the add-forward form).
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPortMapping(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    do {
        let mapping = try PortMapping.parse(text)
        let requests = mapping.requests()
        require(requests.count == mapping.hostPorts.count * mapping.protocols.count, "request count")
        for request in requests {
            require((1...65535).contains(Int(request.hostPort.value)) && (1...65535).contains(Int(request.guestPort.value)), "port range")
            let line = APIMessage.addRequest(request)
            require(line.count <= APIMessage.maximumRequestBytes && line.filter({ $0 == 10 }).count == 1, "one short JSON line")
        }
    } catch {
        require(error.message.utf8.count < 600, "an error message of \(error.message.utf8.count) bytes")
    }
    return 0
}
