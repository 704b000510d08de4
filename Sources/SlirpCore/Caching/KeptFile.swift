/// The one format of slirpmon's files of kept facts (`ProcessFactsDiskCache`, `PodmanDiskCache`,
/// `PodmanHoldOff`): a header line that names the file, its version and what it is valid for,
/// then NUL-terminated fields, one after another. A number is its decimal digits; an optional text
/// is empty for nil and `=text` for text.
///
/// The files are private to their user and written whole (`PrivateFile`, `SafeFiles`); one that
/// does not parse whole is not used. A text that holds a NUL cannot be a field (it would end early
/// and shift every field after it, letting the text forge them): the writer then refuses the whole
/// file (`refused`) and the caller keeps nothing.
enum KeptFile {
    /// NUL-terminated fields, written one after another.
    struct Writer {
        private(set) var bytes: [UInt8]
        /// True once a text held a NUL: the bytes must not be written.
        private(set) var refused = false

        init(_ start: [UInt8], capacity: Int = 4096) {
            bytes = start
            bytes.reserveCapacity(capacity)
        }

        mutating func text(_ text: String) {
            let start = bytes.count
            bytes += text.utf8
            if bytes[start...].contains(0) { refused = true }
            bytes.append(0)
        }

        /// "" for nil, "=text" for text.
        mutating func optional(_ text: String?) {
            if let text {
                bytes.append(UInt8(ascii: "="))
                self.text(text)
            } else {
                bytes.append(0)
            }
        }

        /// A decimal number, its digits from the highest (a file holds one per field: no `String`
        /// is made for them).
        mutating func number(_ value: UInt64) {
            var unit: UInt64 = 1
            while value / unit >= 10 { unit *= 10 }
            var rest = value
            while unit > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / unit))
                rest %= unit
                unit /= 10
            }
            bytes.append(0)
        }

        /// A number that may be below zero: `-` and the digits of its magnitude.
        mutating func signed(_ value: Int64) {
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            number(value.magnitude)
        }
    }

    /// NUL-terminated fields, one after another.
    struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        var offset: Int

        init(_ buffer: UnsafeBufferPointer<UInt8>, from offset: Int) {
            self.buffer = buffer
            self.offset = offset
        }

        var atEnd: Bool { offset >= buffer.count }

        /// The next field, without its NUL; nil when there is no whole field left.
        mutating func next() -> UnsafeBufferPointer<UInt8>? {
            var end = offset
            while end < buffer.count && buffer[end] != 0 { end += 1 }
            guard end < buffer.count else { return nil }
            defer { offset = end + 1 }
            return UnsafeBufferPointer(rebasing: buffer[offset..<end])
        }

        /// The next field as text.
        mutating func text() -> String? {
            next().map { String(decoding: $0, as: UTF8.self) }
        }

        /// A decimal field.
        mutating func number<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard let field = next() else { return nil }
            return Self.digits(field, as: T.self)
        }

        /// A field `Writer.signed` wrote.
        mutating func signed<T: FixedWidthInteger & SignedInteger>(_: T.Type) -> T? {
            guard let field = next() else { return nil }
            guard field.first == UInt8(ascii: "-") else { return Self.digits(field, as: T.self) }
            // The magnitude as the unsigned type: T.min's is one more than T.max.
            guard let magnitude = Self.digits(UnsafeBufferPointer(rebasing: field[1...]), as: T.Magnitude.self) else { return nil }
            return T(exactly: -Int128(magnitude))
        }

        /// An optional text: "" is nil, "=text" is text; nil (the outer one) when neither.
        mutating func optional() -> String?? {
            guard let field = next() else { return nil }
            if field.isEmpty { return .some(nil) }
            guard field[0] == UInt8(ascii: "=") else { return nil }
            return .some(String(decoding: UnsafeBufferPointer(rebasing: field[1...]), as: UTF8.self))
        }

        private static func digits<T: FixedWidthInteger>(_ field: UnsafeBufferPointer<UInt8>, as _: T.Type) -> T? {
            guard !field.isEmpty, field.count <= 20 else { return nil }
            var value: T = 0
            for byte in field {
                guard byte >= 48 && byte <= 57 else { return nil }
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(T(byte - 48))
                guard !o1 && !o2 else { return nil }
                value = sum
            }
            return value
        }
    }
}
