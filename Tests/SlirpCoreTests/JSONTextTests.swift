import Foundation
import Testing
@testable import SlirpCore

/// `--json` output is written by `JSONText`, not Foundation's `JSONEncoder`: the same values,
/// the same pretty form (sorted keys, two-space indents, `"key" : value`, slashes as they are).
@Suite("JSON text")
struct JSONTextTests {
    struct Inner: Encodable, Equatable { let name: String; let ports: [Int] }

    struct Sample: Encodable {
        let pid: Int32
        let big: UInt64
        let ratio: Double
        let whole: Double
        let flag: Bool
        let missing: String?
        let inner: Inner
        let table: [String: String]
        let rows: [Inner]
        let empty: [String: Int]

        enum CodingKeys: String, CodingKey { case pid, big, ratio, whole, flag, missing, inner, table, rows, empty }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(pid, forKey: .pid)
            try c.encode(big, forKey: .big)
            try c.encode(ratio, forKey: .ratio)
            try c.encode(whole, forKey: .whole)
            try c.encode(flag, forKey: .flag)
            try c.encode(missing, forKey: .missing) // an explicit null
            try c.encode(inner, forKey: .inner)
            try c.encode(table, forKey: .table)
            try c.encode(rows, forKey: .rows)
            try c.encode(empty, forKey: .empty)
        }
    }

    static let sample = Sample(
        pid: -42, big: UInt64.max, ratio: 0.25, whole: 3, flag: true, missing: nil,
        inner: Inner(name: "/run/netns/a \"quoted\" \\ tab\t nl\n bell\u{7} é ✓", ports: [1, 65535]),
        table: ["zeta": "z", "alpha": "a", "mid": "m"], rows: [Inner(name: "r", ports: [])], empty: [:])

    private func text(_ value: some Encodable) throws -> String {
        String(decoding: try JSONText.encode(value), as: UTF8.self)
    }

    @Test func sameValuesAsFoundationsEncoder() throws {
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(try JSONText.encode(Self.sample))) as? NSDictionary)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let theirs = try #require(try JSONSerialization.jsonObject(with: encoder.encode(Self.sample)) as? NSDictionary)
        #expect(ours == theirs)
    }

    @Test func prettyFormWithSortedKeys() throws {
        let out = try text(Self.sample)
        #expect(out.hasPrefix("{\n  \"big\" : 18446744073709551615,\n  \"empty\" : {},\n  \"flag\" : true,\n"))
        #expect(out.contains("\n  \"missing\" : null,\n"))
        #expect(out.contains("\"table\" : {\n    \"alpha\" : \"a\",\n    \"mid\" : \"m\",\n    \"zeta\" : \"z\"\n  }"))
        #expect(out.contains("\"ports\" : [\n      1,\n      65535\n    ]"))
        #expect(out.contains("\"ports\" : []"))
        #expect(out.contains("\"ratio\" : 0.25,\n  \"rows\" : ["))
        #expect(out.contains("\"whole\" : 3\n}"), "a whole Double without a fraction")
        #expect(out.contains("\"pid\" : -42,"))
        #expect(out.contains(#""name" : "/run/netns/a \"quoted\" \\ tab\t nl\n bell\u0007 é ✓""#), "escapes; slashes and non-ASCII as they are")
    }

    @Test func compactFormOnOneLine() throws {
        let out = String(decoding: try JSONText.encode(Self.Inner(name: "x", ports: [2, 3]), pretty: false), as: UTF8.self)
        #expect(out == #"{"name":"x","ports":[2,3]}"#)
    }

    @Test func everyRowOfAListSortedTheSame() throws {
        struct Row: Encodable { let b: Int; let a: Int; let c: [String: Int] }
        let rows = (0..<3).map { Row(b: $0, a: -$0, c: ["y": $0, "x": 0]) }
        let out = String(decoding: try JSONText.encode(rows, pretty: false), as: UTF8.self)
        #expect(out == #"[{"a":0,"b":0,"c":{"x":0,"y":0}},{"a":-1,"b":1,"c":{"x":0,"y":1}},{"a":-2,"b":2,"c":{"x":0,"y":2}}]"#)
    }

    @Test func aKeyEncodedTwiceKeepsTheLastValue() throws {
        struct Twice: Encodable {
            enum K: String, CodingKey { case k }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                try c.encode(1, forKey: .k)
                try c.encode(2, forKey: .k)
            }
        }
        #expect(String(decoding: try JSONText.encode(Twice(), pretty: false), as: UTF8.self) == #"{"k":2}"#)
        #expect(try JSONValue(encoding: Twice()) == .object(["k": .integer(2)]))
    }

    @Test func nonFiniteNumbersAreRefusedWithTheirPath() throws {
        struct Bad: Encodable { let rows: [[String: Double]] }
        do {
            _ = try JSONText.encode(Bad(rows: [["ok": 1], ["x": .nan]]))
            Issue.record("NaN was written")
        } catch let EncodingError.invalidValue(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["rows", "Index 1", "x"])
        }
    }

    @Test func valueTreeMatchesTheText() throws {
        let value = try JSONValue(encoding: Self.sample)
        #expect(value["pid"] == .integer(-42))
        #expect(value["big"] == .number(Double(UInt64.max)))
        #expect(value["missing"] == .null)
        #expect(value["empty"] == .object([:]))
        #expect(try JSONValue.parse(Array(value.text().utf8)).text() == (try value.text()), "its text reads back to the same text")
        #expect(try value.text(pretty: false).hasPrefix(#"{"big":1.8446744073709552e+19,"empty":{},"flag":true,"inner":{"name":"#))
    }
}
