/// The everyday `list_hostfwd` reply read in one pass over its bytes.
///
/// `slirpmon list` decodes a reply per instance; building a `JSONValue` tree of each (a boxed
/// value per member, a dictionary per forward) costs more than the request itself. This reader accepts only the shape
/// slirp4netns writes, `{"entries":[{"id":1,"proto":"tcp","host_addr":"…","host_port":…,
/// "guest_addr":"…","guest_port":…},…]}` (white space allowed), every member once, strings
/// without escapes (what `JSONScanner` reads). Anything else gives nil, and `APIMessage.decode`
/// reads the reply whole (and words its errors); for what it accepts, both give the same forwards.
extension APIMessage {
    static func quickEntries(_ bytes: [UInt8]) -> [HostForward]? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = QuickReader(scanner: JSONScanner(bytes: buffer))
            return reader.reply()
        }
    }
}

private struct QuickReader {
    var scanner: JSONScanner

    mutating func reply() -> [HostForward]? {
        guard scanner.take("{"), let key = scanner.string(), scanner.equals(key, "entries"), scanner.take(":"), scanner.take("[") else { return nil }
        var forwards: [HostForward] = []
        if !scanner.take("]") {
            repeat {
                guard let forward = forward() else { return nil }
                forwards.append(forward)
            } while scanner.take(",")
            guard scanner.take("]") else { return nil }
        }
        guard scanner.take("}") else { return nil }
        return scanner.atEnd() ? forwards : nil
    }

    private mutating func forward() -> HostForward? {
        guard scanner.take("{") else { return nil }
        var id: Int?, hostPort: Int?, guestPort: Int?
        var proto: ForwardProtocol?
        var hostAddr: String?, guestAddr: String?
        repeat {
            guard let key = scanner.string(), scanner.take(":") else { return nil }
            if scanner.equals(key, "id"), id == nil, let n = scanner.integer() {
                id = n
            } else if scanner.equals(key, "proto"), proto == nil, let text = scanner.string() {
                guard let p = ForwardProtocol(rawValue: scanner.text(text)) else { return nil }
                proto = p
            } else if scanner.equals(key, "host_addr"), hostAddr == nil, let text = scanner.string() {
                hostAddr = APIMessage.printable(scanner.text(text))
            } else if scanner.equals(key, "host_port"), hostPort == nil, let n = scanner.integer() {
                hostPort = n
            } else if scanner.equals(key, "guest_addr"), guestAddr == nil, let text = scanner.string() {
                guestAddr = APIMessage.printable(scanner.text(text))
            } else if scanner.equals(key, "guest_port"), guestPort == nil, let n = scanner.integer() {
                guestPort = n
            } else {
                return nil // another member, one given twice, or a value of another type
            }
        } while scanner.take(",")
        guard scanner.take("}"), let id, let proto, let hostAddr, let hostPort, let guestAddr, let guestPort else { return nil }
        return HostForward(id: id, proto: proto, hostAddr: hostAddr, hostPort: hostPort, guestAddr: guestAddr, guestPort: guestPort)
    }
}
