/// An optional whose JSON key is always written: `null` when the value is absent.
///
/// The `--json` schema is stable: a key whose value is unknown says `null`, it is never left
/// out. Swift's synthesized `Encodable` leaves a nil optional out (`encodeIfPresent`), so such a
/// property is marked `@NullWhenAbsent` and the conformance stays synthesized (a key only one
/// shape has, such as `show`'s detail keys, is a `@DetailKey`). Decoding reads a missing key or
/// `null` as nil.
@propertyWrapper
public struct NullWhenAbsent<Value> {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
}

extension NullWhenAbsent: Sendable where Value: Sendable {}
extension NullWhenAbsent: Equatable where Value: Equatable {}
extension NullWhenAbsent: Hashable where Value: Hashable {}

extension NullWhenAbsent: Encodable where Value: Encodable {
    /// The value, or `null` (for an encoder that reaches it other than through a keyed container).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }
}

extension NullWhenAbsent: Decodable where Value: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
    }
}

extension KeyedEncodingContainer {
    /// The value under `key`, or `null`. The synthesized `encode(to:)` picks this overload for a
    /// `@NullWhenAbsent` property; the concrete ones below keep strings and integers on the
    /// container's own methods (the generic path makes a nested encoder per value, and
    /// `list --json` writes a dozen such keys per instance).
    public mutating func encode<T: Encodable>(_ value: NullWhenAbsent<T>, forKey key: Key) throws {
        if let v = value.wrappedValue { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }

    public mutating func encode(_ value: NullWhenAbsent<String>, forKey key: Key) throws {
        if let v = value.wrappedValue { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }

    public mutating func encode(_ value: NullWhenAbsent<Int>, forKey key: Key) throws {
        if let v = value.wrappedValue { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }

    public mutating func encode(_ value: NullWhenAbsent<UInt32>, forKey key: Key) throws {
        if let v = value.wrappedValue { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

extension KeyedDecodingContainer {
    /// A `@NullWhenAbsent` property: nil when its key is missing or `null`.
    public func decode<T: Decodable>(_ type: NullWhenAbsent<T>.Type, forKey key: Key) throws -> NullWhenAbsent<T> {
        NullWhenAbsent(wrappedValue: try decodeIfPresent(T.self, forKey: key))
    }
}
