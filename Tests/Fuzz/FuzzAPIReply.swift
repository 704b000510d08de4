// Replies from an API socket: whatever bytes the peer sends. Nothing decoded may carry a
// control character to the operator's terminal.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPIReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    func printable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
    let bytes = fuzzBytes(data, size)
    // The quick reader of the everyday list reply must say what the whole JSON tree says.
    if case .entries(let quick)? = try? APIMessage.decode(bytes) {
        let whole = try? APIMessage.decodeWhole(bytes)
        require(whole == .entries(quick), "decode \(quick) but decodeWhole \(String(describing: whole))")
    }
    do {
        switch try APIMessage.decode(bytes) {
        case .entries(let entries):
            for entry in entries { require(printable(entry.hostAddr) && printable(entry.guestAddr), "control characters in \(entry)") }
        case .error(let desc):
            require(printable(desc), "control characters in the error desc")
        case .added, .done:
            break
        }
    } catch {
        require(error.description.utf8.count < 1_000, "an error description of \(error.description.utf8.count) bytes")
        require(printable(error.description), "control characters in \(error.description.debugDescription)")
    }
    return 0
}
