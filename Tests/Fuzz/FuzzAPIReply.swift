// Replies from an API socket: whatever bytes the peer sends.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let reply = try APIMessage.decode(fuzzBytes(data, size))
        if case .entries(let entries) = reply { for entry in entries { _ = "\(entry)" } }
    } catch {
        require(error.description.utf8.count < 1_000, "an error description of \(error.description.utf8.count) bytes")
    }
    return 0
}
