import Foundation
import Testing

@testable import Tailship

@Suite struct ShipEncoderTests {
    static let strings: [(String, String)] = [
        ("plain", #""plain""#),
        ("", #""""#),
        ("quote \" backslash \\", #""quote \" backslash \\""#),
        ("line\nfeed\rtab\t", #""line\nfeed\rtab\t""#),
        ("\u{0}\u{1}\u{8}\u{c}\u{1f}", #""\u0000\u0001\u0008\u000c\u001f""#),
        ("slash / and del \u{7f}", "\"slash / and del \u{7f}\""),
        ("héllo wörld 日本 🚀", "\"héllo wörld 日本 🚀\""),
    ]

    @Test(arguments: strings)
    func escapesStrings(input: String, expected: String) {
        var out = [UInt8]()
        JSONWriter.appendString(input, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    static let invalidUTF8: [([UInt8], String)] = [
        ([0x61, 0xFF, 0x62], "\"a\u{FFFD}b\""),  // a byte that never starts a sequence
        ([0xC3], "\"\u{FFFD}\""),  // truncated 2-byte sequence at the end
        ([0xE2, 0x82, 0x41], "\"\u{FFFD}A\""),  // maximal subpart E2 82 is one replacement
        ([0xED, 0xA0, 0x80], "\"\u{FFFD}\u{FFFD}\u{FFFD}\""),  // encoded surrogate: each byte
        ([0xC0, 0xAF], "\"\u{FFFD}\u{FFFD}\""),  // overlong
        ([0xF4, 0x90, 0x80, 0x80], "\"\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\""),  // above U+10FFFF
        ([0xF0, 0x9F, 0x9A, 0x80, 0x22], "\"🚀\\\"\""),  // valid 4-byte then a quote
    ]

    @Test(arguments: invalidUTF8)
    func replacesInvalidUTF8(input: [UInt8], expected: String) {
        var out = [UInt8]()
        input.withUnsafeBytes { JSONWriter.appendString(bytes: $0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect(String(validating: out, as: UTF8.self) != nil)
    }

    static let ints: [(Int64, String)] = [
        (0, "0"), (7, "7"), (-1, "-1"), (1_700_000_000_123, "1700000000123"),
        (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"),
    ]

    @Test(arguments: ints)
    func writesIntegers(value: Int64, expected: String) {
        var out = [UInt8]()
        JSONWriter.appendInt(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    static let doubles: [(Double, String)] = [
        (1.5, "1.5"), (0.1, "0.1"), (-2.0, "-2.0"), (1e-5, "1e-05"), (1e20, "1e+20"), (-0.0, "-0.0"),
        (Double.nan, "null"), (Double.infinity, "null"), (-Double.infinity, "null"),
    ]

    @Test(arguments: doubles)
    func writesDoubles(value: Double, expected: String) {
        var out = [UInt8]()
        JSONWriter.appendDouble(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    @Test(arguments: [0.1, 1.0 / 3.0, 123456.789, Double.leastNonzeroMagnitude, 1.7976931348623157e308, 2.5e-8])
    func doublesRoundTripThroughJSON(value: Double) throws {
        var out = Array("[".utf8)
        JSONWriter.appendDouble(value, to: &out)
        out.append(UInt8(ascii: "]"))
        let parsed = try JSONSerialization.jsonObject(with: Data(out)) as! [NSNumber]
        #expect(parsed[0].doubleValue == value)
    }

    static let event = Event(
        name: "Purchase \"Completed\"", distinctId: "user-1", timeMs: 1_700_000_000_123, insertId: "abc-123",
        ip: "10.0.0.1",
        properties: [
            EventProperty(name: "amount", value: .float(12.5)), EventProperty(name: "count", value: .int(-3)),
            EventProperty(name: "pro", value: .bool(true)), EventProperty(name: "plan", value: .string("team\n")),
            EventProperty(name: "bad", value: .float(.nan)),
        ])

    @Test func encodesImportEvent() {
        let json = String(decoding: EventEncoder().encode(Self.event), as: UTF8.self)
        #expect(
            json
                == #"{"event":"Purchase \"Completed\"","properties":{"time":1700000000123,"distinct_id":"user-1","$insert_id":"abc-123","ip":"10.0.0.1","amount":12.5,"count":-3,"pro":true,"plan":"team\n","bad":null}}"#
        )
    }

    @Test func encodesTrackEventWithToken() throws {
        let bytes = EventEncoder(token: "tok\"en").encode(Event(name: "e", distinctId: "d", timeMs: 1, insertId: "i"))
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"event":"e","properties":{"time":1,"distinct_id":"d","$insert_id":"i","ip":"0","token":"tok\"en"}}"#
        )
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
        #expect((parsed["properties"] as! [String: Any])["token"] as? String == "tok\"en")
    }

    @Test func encodedEventIsValidJSONWithSameValues() throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(EventEncoder().encode(Self.event))) as! [String: Any]
        let properties = parsed["properties"] as! [String: Any]
        #expect(parsed["event"] as? String == "Purchase \"Completed\"")
        #expect((properties["time"] as? NSNumber)?.int64Value == 1_700_000_000_123)
        #expect(properties["plan"] as? String == "team\n")
        #expect(properties["bad"] is NSNull)
    }
}
