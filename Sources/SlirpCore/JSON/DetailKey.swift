/// A key of the detailed shape of a report: not written at all in the summary shape, always
/// written (`null` when unknown) in the detailed one.
///
/// `list --json` and `show --json` are two documented shapes of one `InstanceReport`, and in
/// each every key is always present: `list` has the summary keys, `show` has those plus the
/// detail keys. Which shape a report has is decided where it is made: setting a `@DetailKey`
/// property (to a value or to nil) puts the key in the report, so `InstanceReport(_:detailed:
/// true)` sets every one of them; a report made without detail sets none and writes none (no
/// `"arguments": null` in a row that never read them, and nothing more for `list` to write).
@propertyWrapper
public struct DetailKey<Value> {
    private var value: Value?
    /// True once the property was set: the key is part of this report's shape.
    public private(set) var isInShape: Bool

    public var wrappedValue: Value? {
        get { value }
        set { value = newValue; isInShape = true }
    }

    /// Not part of the shape until set.
    public init() {
        value = nil
        isInShape = false
    }
}

extension DetailKey: Sendable where Value: Sendable {}
extension DetailKey: Equatable where Value: Equatable {}

extension DetailKey: Encodable where Value: Encodable {
    /// The value, or `null` (for an encoder that reaches it other than through a keyed container).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

extension KeyedEncodingContainer {
    /// A `@DetailKey` property: nothing when it is not part of the report's shape, else the value or `null`.
    /// The synthesized `encode(to:)` picks this overload (as for `@NullWhenAbsent`).
    public mutating func encode<T: Encodable>(_ value: DetailKey<T>, forKey key: Key) throws {
        guard value.isInShape else { return }
        if let v = value.wrappedValue { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
