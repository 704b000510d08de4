/// The few DNS messages slirpmon sends and reads (RFC 1035): one question of type A or AAAA, and
/// the reply's code and addresses.
///
/// A reply is whatever answered at slirp4netns's DNS address inside a namespace its user
/// controls: it is read within its bytes (every length and offset checked, compression pointers
/// followed only backwards and at most a few times) and only its code and the addresses of the
/// question's name are kept, formatted by slirpmon, never its text.
public enum DNSMessage {
    /// A record type asked for.
    public enum QueryType: UInt16, Sendable, Codable {
        case a = 1
        case aaaa = 28

        public var word: String { self == .a ? "A" : "AAAA" }
    }

    /// A name that can be asked: dot-separated labels of 1-63 bytes, letters, digits, `-` and
    /// `_`, 253 bytes at most; a final dot is allowed. Nil with the reason otherwise.
    public static func labels(of name: String) -> Result<[[UInt8]], NameError> {
        var text = Array(name.utf8)
        if text.last == UInt8(ascii: ".") { text.removeLast() }
        guard !text.isEmpty else { return .failure(NameError(name: name, reason: "empty")) }
        guard text.count <= 253 else { return .failure(NameError(name: name, reason: "longer than 253 bytes")) }
        var labels: [[UInt8]] = []
        for label in text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63 else {
                return .failure(NameError(name: name, reason: label.isEmpty ? "an empty label (two dots)" : "a label longer than 63 bytes"))
            }
            guard label.allSatisfy({ isNameByte($0) }) else {
                return .failure(NameError(name: name, reason: "only letters, digits, '-', '_' and '.' can be asked"))
            }
            labels.append(Array(label))
        }
        return .success(labels)
    }

    /// Why a name cannot be asked.
    public struct NameError: Error, Sendable, Equatable, CustomStringConvertible {
        public let name: String
        public let reason: String
        public var description: String { "name \(goQuoted(abbreviated(name))) cannot be asked: \(reason)" }
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    /// A recursive query with `id` for `labels` (from `labels(of:)`), class IN.
    public static func query(id: UInt16, labels: [[UInt8]], type: QueryType) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in labels {
            bytes.append(UInt8(label.count))
            bytes += label
        }
        bytes += [0, UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        return bytes
    }

    /// What a reply says: its response code and the addresses it gives for the name asked.
    public struct Reply: Sendable, Equatable {
        /// RFC 1035's RCODE: 0 no error, 2 server failure, 3 no such name, 5 refused.
        public let code: UInt8
        /// The A or AAAA records of the answer section (those of the name asked and of the
        /// names its CNAMEs lead to; all are of the chain the resolver built), formatted.
        public let addresses: [String]
        /// True when the reply was cut (TC): a TCP retry would carry the rest.
        public let truncated: Bool

        /// RFC 1035 / 2136 names of the codes a resolver gives.
        public var codeWord: String {
            switch code {
            case 0: "NOERROR"
            case 1: "FORMERR"
            case 2: "SERVFAIL"
            case 3: "NXDOMAIN"
            case 4: "NOTIMP"
            case 5: "REFUSED"
            default: "RCODE \(code)"
            }
        }
    }

    /// Why a datagram is not the reply to our query.
    public enum ReplyError: Error, Sendable, Equatable {
        /// Not ours (another ID or question, or not a response): wait for the next datagram.
        case notOurs
        /// Ours, but cut short or inconsistent.
        case malformed(String)
    }

    /// Reads `bytes` as the reply to `query` (the bytes sent): same ID and question, QR set.
    public static func reply(_ bytes: [UInt8], to query: [UInt8], type: QueryType) throws(ReplyError) -> Reply {
        guard bytes.count >= 12, query.count >= 12 else { throw .notOurs }
        guard bytes[0] == query[0], bytes[1] == query[1], bytes[2] & 0x80 != 0 else { throw .notOurs }
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        let answers = Int(bytes[6]) << 8 | Int(bytes[7])
        let code = bytes[3] & 0x0F
        // The question must be ours, byte for byte but for case (resolvers may echo 0x20-mixed case).
        let question = query[12...]
        if questions == 1 {
            guard bytes.count >= 12 + question.count,
                  zip(bytes[12..<(12 + question.count)], question).allSatisfy({ lower($0) == lower($1) }) else { throw .notOurs }
        } else if questions != 0 || code == 0 {
            throw .notOurs
        }
        let truncated = bytes[2] & 0x02 != 0
        var offset = 12 + (questions == 1 ? question.count : 0)
        var addresses: [String] = []
        for _ in 0..<min(answers, 256) {
            guard let afterName = skipName(bytes, at: offset), afterName + 10 <= bytes.count else {
                if truncated { break }
                throw .malformed("answer \(addresses.count + 1) cut short")
            }
            let rtype = UInt16(bytes[afterName]) << 8 | UInt16(bytes[afterName + 1])
            let rclass = UInt16(bytes[afterName + 2]) << 8 | UInt16(bytes[afterName + 3])
            let length = Int(bytes[afterName + 8]) << 8 | Int(bytes[afterName + 9])
            let data = afterName + 10
            guard data + length <= bytes.count else {
                if truncated { break }
                throw .malformed("answer data cut short")
            }
            if rclass == 1 && rtype == type.rawValue {
                if type == .a && length == 4 {
                    addresses.append(IPv4Address(bytes[data], bytes[data + 1], bytes[data + 2], bytes[data + 3]).description)
                } else if type == .aaaa && length == 16, let v6 = IPv6Address(bytes: Array(bytes[data..<(data + 16)])) {
                    addresses.append(v6.description)
                }
            }
            offset = data + length
        }
        return Reply(code: code, addresses: addresses, truncated: truncated)
    }

    private static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }

    /// The offset after the name at `offset` (labels, ending in a zero byte or a compression
    /// pointer), or nil when it runs past the message or is not a name.
    static func skipName(_ bytes: [UInt8], at start: Int) -> Int? {
        var offset = start
        // 128 labels is more than a 255-byte name can have: a loop of labels ends here.
        for _ in 0..<128 {
            guard offset < bytes.count else { return nil }
            let length = Int(bytes[offset])
            switch length & 0xC0 {
            case 0:
                if length == 0 { return offset + 1 }
                offset += 1 + length
            case 0xC0:
                return offset + 2 <= bytes.count ? offset + 2 : nil
            default:
                return nil
            }
        }
        return nil
    }
}
