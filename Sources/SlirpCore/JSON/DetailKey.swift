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
    /// nil until the property is set: the key is then not part of this report's shape. Once set,
    /// it is written as a `@NullWhenAbsent` value (`null` when unknown).
    fileprivate var key: NullWhenAbsent<Value>?

    public var wrappedValue: Value? {
        get { key?.wrappedValue }
        set { key = NullWhenAbsent(wrappedValue: newValue) }
    }

    /// Not part of the shape until set.
    public init() { key = nil }
}

extension DetailKey: Sendable where Value: Sendable {}
extension DetailKey: Equatable where Value: Equatable {}

extension DetailKey: Encodable where Value: Encodable {
    /// `null` when unset (for an encoder that reaches it other than through a keyed container).
    public func encode(to encoder: any Encoder) throws { try key.encode(to: encoder) }
}

extension KeyedEncodingContainer {
    /// A `@DetailKey` property: nothing when it is not part of the report's shape, else the value
    /// or `null`. The synthesized `encode(to:)` picks this overload (as for `@NullWhenAbsent`).
    public mutating func encode<T: Encodable>(_ value: DetailKey<T>, forKey key: Key) throws {
        guard let set = value.key else { return }
        try encode(set, forKey: key)
    }
}
