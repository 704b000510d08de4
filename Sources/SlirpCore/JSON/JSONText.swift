/// `Encodable` values as JSON text, without Foundation's `JSONEncoder`.
///
/// `JSONEncoder` boxes every value and makes a dynamic cast per value for its special cases;
/// `list --json` writes many values, so this encoder collects them through the `Encoder`
/// protocol into a light tree and writes it in one pass, in the CLI's one form: pretty, keys
/// sorted, two-space indents, `"key" : value`, slashes not escaped.
public enum JSONText {
    /// `value` as JSON text (UTF-8), as its `encode(to:)` describes it: pretty with sorted keys,
    /// or compact on one line.
    ///
    /// Throws `EncodingError.invalidValue` for a non-finite number (JSON has none), and what
    /// `encode(to:)` throws.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> [UInt8] {
        let root = Node(parent: nil, key: nil)
        try value.encode(to: TreeEncoder(node: root))
        var writer = Writer(pretty: pretty)
        writer.write(root, depth: 0)
        return writer.out
    }
}

extension JSONValue {
    /// The JSON value of `value`, as its `encode(to:)` describes it (the tree `JSONText` writes).
    public init<T: Encodable>(encoding value: T) throws {
        let root = Node(parent: nil, key: nil)
        try value.encode(to: TreeEncoder(node: root))
        self = root.value
    }

    /// The value as JSON text (as `JSONText` writes it): pretty-printed with keys sorted, or on
    /// one line. Throws for a non-finite number.
    public func text(pretty: Bool = true) throws -> String {
        String(decoding: try JSONText.encode(self, pretty: pretty), as: UTF8.self)
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .object(let members):
            var c = encoder.container(keyedBy: IndexKey.self)
            for (key, value) in members { try c.encode(value, forKey: IndexKey(stringValue: key)) }
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .integer(let n):
            var c = encoder.singleValueContainer()
            try c.encode(n)
        case .number(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        }
    }
}

/// Appends JSON text to a byte buffer.
private struct Writer {
    let pretty: Bool
    var out: [UInt8] = []
    private var orders: [(keys: [String], order: [Int])] = []

    init(pretty: Bool) {
        self.pretty = pretty
        out.reserveCapacity(16 << 10)
    }

    mutating func write(_ member: Member, depth: Int) {
        switch member {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .integer(let n): digits(UInt64(n.magnitude), negative: n < 0)
        case .unsigned(let n): digits(n, negative: false)
        case .number(let d):
            if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 { digits(UInt64(abs(d)), negative: d < 0) } else { append(String(d)) }
        case .string(let s): string(s)
        case .node(let node): write(node, depth: depth)
        }
    }

    mutating func write(_ node: Node, depth: Int) {
        switch node.kind {
        case .unset: append("{}") // a type that encodes nothing, as JSONEncoder writes it
        case .scalar(let member): write(member, depth: depth)
        case .array:
            guard !node.items.isEmpty else { append("[]"); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in node.items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(item, depth: depth + 1)
            }
            newline(depth)
            out.append(UInt8(ascii: "]"))
        case .object:
            let members = node.members
            guard !members.isEmpty else { append("{}"); return }
            out.append(UInt8(ascii: "{"))
            for (n, i) in memberOrder(members.map(\.key)).enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                string(members[i].key)
                append(pretty ? " : " : ":")
                write(members[i].value, depth: depth + 1)
            }
            newline(depth)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The order to write an object's members in: by key, and of a key encoded twice only the
    /// last (as in JSONEncoder). Objects of one type have the same keys in the same order, so
    /// the order is worked out once per key sequence (a list of 100 rows sorts once, not 100 times).
    private mutating func memberOrder(_ keys: [String]) -> [Int] {
        if let known = orders.first(where: { $0.keys == keys }) { return known.order }
        let sorted = keys.indices.sorted { a, b in keys[a] == keys[b] ? a < b : keys[a] < keys[b] }
        let order = sorted.indices.filter { n in n + 1 == sorted.count || keys[sorted[n + 1]] != keys[sorted[n]] }.map { sorted[$0] }
        if orders.count < 16 { orders.append((keys, order)) }
        return order
    }

    private mutating func newline(_ depth: Int) {
        guard pretty else { return }
        out.append(0x0A)
        for _ in 0..<(2 * depth) { out.append(UInt8(ascii: " ")) }
    }

    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    private mutating func digits(_ magnitude: UInt64, negative: Bool) {
        if negative { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var magnitude = magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, and every character
    /// `TerminalText` would not show as it is (DEL, C1 such as the CSI U+009B, bidi overrides and
    /// other format characters) as `\uXXXX`: `--json` lands on terminals too (`jq` without `-r`
    /// prints strings as they are given), and the escape reads back to the same string.
    /// Everything else as UTF-8.
    private mutating func string(_ s: String) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { bytes in
            // Most strings are printable ASCII without quotes or backslashes: one look at each
            // byte, one copy.
            var clean = true
            for byte in bytes where byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { clean = false; break }
            if clean { out.append(contentsOf: bytes); return }
            escaping(bytes)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The string's bytes with what needs it escaped (apart from `string`, so that its common
    /// path stays as small and as fast as the writer was before it escaped more).
    @inline(never)
    private mutating func escaping(_ bytes: UnsafeBufferPointer<UInt8>) {
        var run = 0 // start of the bytes not yet copied
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte >= 0x80 {
                // A multi-byte character (the text is valid UTF-8): copied with its run unless hidden.
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                // Lead bytes of U+00C0-U+05FF (C3-D7) and U+4000-U+EFFF (E4-EE: CJK, Hangul)
                // start no hidden character: skipped undecoded (accents, Cyrillic, CJK).
                if (0xC3...0xD7).contains(byte) || (0xE4...0xEE).contains(byte) { i += length; continue }
                var value = UInt32(byte & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07))
                for k in 1..<length where i + k < bytes.count { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
                if let scalar = Unicode.Scalar(value), TerminalText.isHidden(scalar) {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                    if value > 0xFFFF { // a surrogate pair, as JSON spells characters beyond the BMP
                        let v = value - 0x10000
                        unicodeEscape(0xD800 + UInt16(v >> 10))
                        unicodeEscape(0xDC00 + UInt16(v & 0x3FF))
                    } else {
                        unicodeEscape(UInt16(value))
                    }
                    run = i + length
                }
                i += length
                continue
            }
            guard byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { i += 1; continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
            i += 1
            run = i
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            default: unicodeEscape(UInt16(byte))
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
    }

    /// `\uXXXX`, lower-case hex as JSONSerialization writes it.
    private mutating func unicodeEscape(_ unit: UInt16) {
        func hex(_ nibble: UInt16) -> UInt8 { nibble < 10 ? UInt8(nibble) + 0x30 : UInt8(nibble) + 0x57 }
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "u"))
        out.append(hex(unit >> 12))
        out.append(hex(unit >> 8 & 0xF))
        out.append(hex(unit >> 4 & 0xF))
        out.append(hex(unit & 0xF))
    }
}

// MARK: - The Encoder

/// An encoded value as its container keeps it: a scalar in place, a container in its own node.
private enum Member {
    case null
    case bool(Bool)
    case integer(Int)
    case unsigned(UInt64) // above Int.max: exact in the text
    case number(Double)
    case string(String)
    case node(Node)

    var value: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .integer(let n): return .integer(n)
        case .unsigned(let n): return .number(Double(n))
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .node(let node): return node.value
        }
    }
}

/// A value being encoded through an encoder of its own (a nested `Encodable`): a scalar, or an
/// object or array whose members are filled in later (containers hand out references to it).
/// It knows its key and parent for `codingPath`.
private final class Node {
    enum Kind { case unset, scalar(Member), object, array }
    var kind = Kind.unset
    var members: [(key: String, value: Member)] = []
    var items: [Member] = []
    unowned let parent: Node?
    let key: (any CodingKey)?

    init(parent: Node?, key: (any CodingKey)?) {
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: Node? = self
        while let n = node, let key = n.key { path.append(key); node = n.parent }
        return path.reversed()
    }

    var value: JSONValue {
        switch kind {
        case .unset: return .object([:])
        case .scalar(let member): return member.value
        case .object: return .object(Dictionary(members.map { ($0.key, $0.value.value) }, uniquingKeysWith: { _, last in last }))
        case .array: return .array(items.map(\.value))
        }
    }

    /// What a container keeps of this node once its value is encoded: a scalar without the node.
    var member: Member {
        if case .scalar(let member) = kind { return member }
        return .node(self)
    }

    func makeObject() { if case .object = kind { return }; kind = .object; members = [] }
    func makeArray() { if case .array = kind { return }; kind = .array; items = [] }

    /// `value` encoded below this node under `key` (its own encoder, its own containers).
    func encoding<T: Encodable>(_ value: T, key: any CodingKey) throws -> Member {
        let child = Node(parent: self, key: key)
        try value.encode(to: TreeEncoder(node: child))
        return child.member
    }

    /// A finite number, or an error at this node's path (plus `key`).
    func number<T: BinaryFloatingPoint>(_ v: T, key: (any CodingKey)?) throws -> Member {
        let d = Double(v)
        guard d.isFinite else {
            throw EncodingError.invalidValue(v, .init(codingPath: codingPath + (key.map { [$0] } ?? []),
                                                      debugDescription: "JSON has no \(d) (not a finite number)"))
        }
        return .number(d)
    }

    /// An integer, exact (also a UInt64 above Int.max).
    static func integer<T: BinaryInteger>(_ v: T) -> Member {
        if let n = Int(exactly: v) { return .integer(n) }
        return .unsigned(UInt64(v))
    }
}

private struct TreeEncoder: Encoder {
    let node: Node
    var codingPath: [any CodingKey] { node.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedContainer(node: node)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(node: node) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    var codingPath: [any CodingKey] { node.codingPath }

    private func put(_ key: Key, _ member: Member) { node.members.append((key.stringValue, member)) }

    /// A new node for a nested container under `key`.
    private func child(_ key: Key) -> Node {
        let child = Node(parent: node, key: key)
        put(key, .node(child))
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { put(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, try node.number(value, key: key)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(key, try node.number(value, key: key)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, Node.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(key, try node.encoding(value, key: key)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: child(key)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: child(key)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = Node(parent: node, key: IndexKey(stringValue: "super"))
        node.members.append(("super", .node(child)))
        return TreeEncoder(node: child)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(node: child(key)) }
}

/// A key made at run time: an array element's index, or a name (`super`, a `JSONValue` member).
private struct IndexKey: CodingKey {
    let intValue: Int?
    private let name: String?
    var stringValue: String { name ?? "Index \(intValue ?? 0)" } // made only when a path is shown
    init(_ index: Int) { intValue = index; name = nil }
    init(stringValue: String) { intValue = nil; name = stringValue }
    init?(intValue: Int) { self.init(intValue) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey] { node.codingPath }
    var count: Int { node.items.count }

    private func add(_ member: Member) { node.items.append(member) }
    private var nextKey: IndexKey { IndexKey(node.items.count) }

    private func child() -> Node {
        let child = Node(parent: node, key: nextKey)
        add(.node(child))
        return child
    }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(try node.number(value, key: nextKey)) }
    mutating func encode(_ value: Float) throws { add(try node.number(value, key: nextKey)) }
    mutating func encode(_ value: Int) throws { add(Node.integer(value)) }
    mutating func encode(_ value: Int8) throws { add(Node.integer(value)) }
    mutating func encode(_ value: Int16) throws { add(Node.integer(value)) }
    mutating func encode(_ value: Int32) throws { add(Node.integer(value)) }
    mutating func encode(_ value: Int64) throws { add(Node.integer(value)) }
    mutating func encode(_ value: UInt) throws { add(Node.integer(value)) }
    mutating func encode(_ value: UInt8) throws { add(Node.integer(value)) }
    mutating func encode(_ value: UInt16) throws { add(Node.integer(value)) }
    mutating func encode(_ value: UInt32) throws { add(Node.integer(value)) }
    mutating func encode(_ value: UInt64) throws { add(Node.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { add(try node.encoding(value, key: nextKey)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: child()).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { TreeEncoder(node: child()).unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: child()) }
}

/// A single value lands in the encoder's own node.
private struct SingleContainer: SingleValueEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey] { node.codingPath }

    private func set(_ member: Member) { node.kind = .scalar(member) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try node.number(value, key: nil)) }
    mutating func encode(_ value: Float) throws { set(try node.number(value, key: nil)) }
    mutating func encode(_ value: Int) throws { set(Node.integer(value)) }
    mutating func encode(_ value: Int8) throws { set(Node.integer(value)) }
    mutating func encode(_ value: Int16) throws { set(Node.integer(value)) }
    mutating func encode(_ value: Int32) throws { set(Node.integer(value)) }
    mutating func encode(_ value: Int64) throws { set(Node.integer(value)) }
    mutating func encode(_ value: UInt) throws { set(Node.integer(value)) }
    mutating func encode(_ value: UInt8) throws { set(Node.integer(value)) }
    mutating func encode(_ value: UInt16) throws { set(Node.integer(value)) }
    mutating func encode(_ value: UInt32) throws { set(Node.integer(value)) }
    mutating func encode(_ value: UInt64) throws { set(Node.integer(value)) }
    /// A nested value encodes straight into this node (its own containers land here).
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: TreeEncoder(node: node)) }
}
