/// The everyday `list_hostfwd` reply read in one pass over its bytes.
///
/// `slirpmon list` decodes a reply per instance; building a `JSONValue` tree of each (a boxed
/// value per member, a dictionary per forward) costs more than the request itself. This reader accepts only the shape
/// slirp4netns writes, `{"entries":[{"id":1,"proto":"tcp","host_addr":"…","host_port":…,
/// "guest_addr":"…","guest_port":…},…]}` (white space allowed), every member once, strings
/// without escapes. Anything else gives nil, and `APIMessage.decode` reads the reply whole
/// (and words its errors); for what it accepts, both give the same forwards.
extension APIMessage {
    static func quickEntries(_ bytes: [UInt8]) -> [HostForward]? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = QuickReader(bytes: buffer)
            return reader.reply()
        }
    }
}

private struct QuickReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func reply() -> [HostForward]? {
        guard take("{"), let key = string(), equals(key, "entries"), take(":"), take("[") else { return nil }
        var forwards: [HostForward] = []
        if !take("]") {
            repeat {
                guard let forward = forward() else { return nil }
                forwards.append(forward)
            } while take(",")
            guard take("]") else { return nil }
        }
        guard take("}") else { return nil }
        skipSpace()
        return i == bytes.count ? forwards : nil
    }

    private mutating func forward() -> HostForward? {
        guard take("{") else { return nil }
        var id: Int?, hostPort: Int?, guestPort: Int?
        var proto: ForwardProtocol?
        var hostAddr: String?, guestAddr: String?
        repeat {
            guard let key = string(), take(":") else { return nil }
            if equals(key, "id"), id == nil, let n = integer() {
                id = n
            } else if equals(key, "proto"), proto == nil, let text = string() {
                guard let p = ForwardProtocol(rawValue: String(decoding: bytes[text], as: UTF8.self)) else { return nil }
                proto = p
            } else if equals(key, "host_addr"), hostAddr == nil, let text = string() {
                hostAddr = APIMessage.printable(String(decoding: bytes[text], as: UTF8.self))
            } else if equals(key, "host_port"), hostPort == nil, let n = integer() {
                hostPort = n
            } else if equals(key, "guest_addr"), guestAddr == nil, let text = string() {
                guestAddr = APIMessage.printable(String(decoding: bytes[text], as: UTF8.self))
            } else if equals(key, "guest_port"), guestPort == nil, let n = integer() {
                guestPort = n
            } else {
                return nil // another member, one given twice, or a value of another type
            }
        } while take(",")
        guard take("}"), let id, let proto, let hostAddr, let hostPort, let guestAddr, let guestPort else { return nil }
        return HostForward(id: id, proto: proto, hostAddr: hostAddr, hostPort: hostPort, guestAddr: guestAddr, guestPort: guestPort)
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    /// Consumes `c` after any white space.
    private mutating func take(_ c: Unicode.Scalar) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: c) else { return false }
        i += 1
        return true
    }

    /// The bytes of a string without escapes or control characters, after any white space.
    private mutating func string() -> Range<Int>? {
        guard take("\"") else { return nil }
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return start..<(i - 1)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// A JSON integer (no fraction, no exponent, no leading zero) that fits 18 digits.
    private mutating func integer() -> Int? {
        skipSpace()
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let start = i
        var value = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            value = value &* 10 &+ Int(bytes[i] - 0x30) // wraps past 18 digits: refused below
            i += 1
        }
        let digits = i - start
        guard digits > 0, digits <= 18, !(digits > 1 && bytes[start] == 0x30) else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") { return nil }
        return negative ? -value : value
    }

    private func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        for k in 0..<range.count where bytes[range.lowerBound + k] != text.utf8Start[k] { return false }
        return true
    }
}
