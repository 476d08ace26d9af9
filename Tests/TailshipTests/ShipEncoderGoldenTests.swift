import Foundation
import Testing

@testable import Tailship

/// Pins the bytes of the event JSON the rules and the encoder make of a corpus of lines:
/// escapes, control characters, invalid UTF-8 (replaced), every property type, constant,
/// multi-piece and fallback templates, derived, kept and hashed `$insert_id`s, JSON and logfmt
/// values. The expected text was captured from the encoder before the per-line path was made
/// allocation-free, so a faster path that changes one byte fails here.
@Suite struct ShipEncoderGoldenTests {
    static let regexRules = [
        RulesFixture.rule(
            "typed", match: #"^T (?<user>\S+) (?<n>\S+) (?<f>\S+) (?<b>\S+)(?: m=(?<missing>\S+))? (?<s>.*)$"#,
            event: "Typed {{user}}!",
            distinctId: "{{user}}",
            properties: [
                ("n", "{{n}}", .int), ("f", "{{f}}", .float), ("b", "{{b}}", .bool), ("s", "{{s}}", .string),
                ("const", "web", .string), ("pick", "{{missing|user}}", .string),
                ("fallback", "{{missing|'dflt'}}", .string), ("both", "{{n}}/{{s}}", .string),
                ("absent", "{{missing}}", .string),
            ]),
        RulesFixture.rule(
            "esc", match: #"^E (?<id>\S+) (?<text>.*)$"#, event: "Escaped \"{{id}}\"", distinctId: "{{id}}",
            insertId: "{{id}}", ip: "{{id}}", properties: [("text", "{{text}}", .string)]),
        RulesFixture.rule(
            "timed", match: #"^D (?<ts>\S+) (?<u>\S*)"#, event: "Timed", distinctId: "{{u}}",
            time: ("ts", "iso8601"), insertId: "{{u}}"),
        RulesFixture.rule("skip", match: "^S ", drop: true),
    ]

    static let regexLines: [[UInt8]] = [
        Array("T alice 42 387.03 yes plain text".utf8),
        Array("T bob -7 1e-5 OFF quote \" backslash \\ slash /".utf8),
        Array("T carol 0 -0.0 1 tab\there del \u{7f} ctrl \u{1}\u{1f}".utf8),
        Array("T dave 9223372036854775807 1e20 false héllo 日本 🚀".utf8),
        Array("T erin 12 0.1 true ".utf8),
        Array("T kim 5 5 1 m=here with the optional field".utf8),
        Array("T f\u{1}x 1 2.5 no ctrl in id".utf8),
        Array("T frank 99999999999999999999 1.5 yes overflow".utf8),
        Array("T gina 1 nan yes not a float".utf8),
        Array("T hank 1 0x1p3 yes hex float".utf8),
        Array("T ivan 1 2 maybe not a bool".utf8),
        Array("T null 1 2 yes placeholder user".utf8),
        Array("T jo 1 1.7976931348623157e308 on big".utf8),
        [0x54, 0x20, 0x6B, 0xFF, 0x61, 0x20, 0x31, 0x20, 0x32, 0x20, 0x6F, 0x6E, 0x20, 0x62, 0x61, 0x64, 0xC3],
        [0x45, 0x20, 0x69, 0x64, 0x2D, 0x31, 0x20, 0xE2, 0x82, 0x41, 0x20, 0xED, 0xA0, 0x80, 0x20, 0xF0, 0x9F, 0x9A],
        Array("E abc-DEF-123 kept insert id".utf8),
        Array("E weird:id/with spaces hashed insert id".utf8),
        Array("E 0 placeholder insert id".utf8),
        Array("E 0123456789012345678901234567890123456789 too long".utf8),
        Array("D 2026-11-28T04:59:15.481Z u1".utf8),
        Array("D 2026-11-28 04:59:15+02:00 u2".utf8),
        Array("D yesterday u3".utf8),
        Array("D 2026-11-28T04:59:15Z ".utf8),
        Array("S skipped".utf8),
        Array("nothing matches this".utf8),
        [],
    ]

    static let jsonRule = RulesFixture.rule(
        "json", event: "{{event|'Default'}}", distinctId: "{{user.id}}",
        properties: [
            ("msg", "{{msg}}", .string), ("count", "{{count}}", .int), ("ok", "{{ok}}", .bool),
            ("ratio", "{{ratio}}", .float),
        ])

    static let jsonLines: [String] = [
        #"{"event":"Signed \"Up\"","user":{"id":"u\u00e9\n1"},"msg":"a\\b\tc\u0001","count":3,"ok":true,"ratio":0.25}"#,
        #"{"event":"A\/B","user":{"id":"u\u00e9 1"},"msg":"a\\b\tc\u0001\"","count":-3,"ok":false,"ratio":-1e3}"#,
        #"{"user":{"id":"u2"},"msg":"\ud83d\ude80 rocket","count":"12","ok":"no","ratio":"3"}"#,
        #"{"user":{"id":"u3"},"msg":null,"count":1.5}"#,
        #"not json"#,
    ]

    static let logfmtRule = RulesFixture.rule(
        "kv", event: "KV {{action}}", distinctId: "{{user}}",
        properties: [("msg", "{{msg}}", .string), ("flag", "{{flag}}", .bool)])

    static let logfmtLines: [String] = [
        #"action=login user=u1 msg="quoted \"value\" here" flag"#,
        #"action=logout user="u 2" msg=bare"#,
    ]

    /// One line per input line: the event JSON, or what else came of it.
    static func render(_ engine: RuleEngine, _ lines: [[UInt8]]) -> String {
        let encoder = EventEncoder()
        var out: [String] = []
        for (i, line) in lines.enumerated() {
            let outcome = line.withUnsafeBytes {
                engine.process(line: $0, basis: RulesFixture.basis, offset: UInt64(i * 100), nowMs: RulesFixture.now)
            }
            switch outcome {
            case .event(let event, let rule):
                out.append("\(rule) " + String(decoding: encoder.encode(event), as: UTF8.self))
            case .dropped(let rule): out.append("dropped \(rule)")
            case .unmatched: out.append("unmatched")
            case .limitHit(let rule): out.append("limit \(rule)")
            case .invalid(let rule, let problems):
                out.append("invalid \(rule): " + problems.map(\.description).joined(separator: "; "))
            }
        }
        return out.joined(separator: "\n")
    }

    @Test func regexCorpusIsByteIdentical() throws {
        let engine = try RulesFixture.engine(Self.regexRules)
        #expect(Self.render(engine, Self.regexLines) == Self.expectedRegex)
        #expect(engine.utf8Replaced == Self.expectedReplaced)
    }

    @Test func jsonAndLogfmtCorpusIsByteIdentical() throws {
        let json = try RulesFixture.engine([Self.jsonRule], format: .json)
        #expect(Self.render(json, Self.jsonLines.map { Array($0.utf8) }) == Self.expectedJSON)
        let logfmt = try RulesFixture.engine([Self.logfmtRule], format: .logfmt)
        #expect(Self.render(logfmt, Self.logfmtLines.map { Array($0.utf8) }) == Self.expectedLogfmt)
    }

    @Test func trackTokenIsByteIdentical() throws {
        let engine = try RulesFixture.engine(Self.regexRules)
        let outcome = engine.process(line: "E abc \"x\"", nowMs: RulesFixture.now)
        guard case .event(let event, _) = outcome else {
            Issue.record("no event: \(outcome)")
            return
        }
        #expect(
            String(decoding: EventEncoder(token: "tok\"\u{1}").encode(event), as: UTF8.self) == Self.expectedTrack)
    }

    static let expectedReplaced = 6
    static let expectedRegex = [
        "typed {\"event\":\"Typed alice!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"alice\",\"$insert_id\":\"76427633-f38b-8ad4-a033-60670b25a2d9\",\"ip\":\"0\",\"n\":42,\"f\":387.03,\"b\":true,\"s\":\"plain text\",\"const\":\"web\",\"pick\":\"alice\",\"fallback\":\"dflt\",\"both\":\"42/plain text\"}}",
        "typed {\"event\":\"Typed bob!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"bob\",\"$insert_id\":\"2040a0b0-355e-8f1c-bfb4-14f14caf058a\",\"ip\":\"0\",\"n\":-7,\"f\":1e-05,\"b\":false,\"s\":\"quote \\\" backslash \\\\ slash /\",\"const\":\"web\",\"pick\":\"bob\",\"fallback\":\"dflt\",\"both\":\"-7/quote \\\" backslash \\\\ slash /\"}}",
        "typed {\"event\":\"Typed carol!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"carol\",\"$insert_id\":\"e9b4a495-745e-832a-9274-9d3fbcec021b\",\"ip\":\"0\",\"n\":0,\"f\":-0.0,\"b\":true,\"s\":\"tab\\there del \u{7F} ctrl \\u0001\\u001f\",\"const\":\"web\",\"pick\":\"carol\",\"fallback\":\"dflt\",\"both\":\"0/tab\\there del \u{7F} ctrl \\u0001\\u001f\"}}",
        "typed {\"event\":\"Typed dave!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"dave\",\"$insert_id\":\"ebd679da-4f5e-8cb2-b5b3-125abef56244\",\"ip\":\"0\",\"n\":9223372036854775807,\"f\":1e+20,\"b\":false,\"s\":\"héllo 日本 🚀\",\"const\":\"web\",\"pick\":\"dave\",\"fallback\":\"dflt\",\"both\":\"9223372036854775807/héllo 日本 🚀\"}}",
        "typed {\"event\":\"Typed erin!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"erin\",\"$insert_id\":\"5cecc2ee-165e-8daf-a71b-717280debc3d\",\"ip\":\"0\",\"n\":12,\"f\":0.1,\"b\":true,\"s\":\"\",\"const\":\"web\",\"pick\":\"erin\",\"fallback\":\"dflt\",\"both\":\"12/\"}}",
        "typed {\"event\":\"Typed kim!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"kim\",\"$insert_id\":\"def2b455-915e-8737-8a73-b933c7eb39e6\",\"ip\":\"0\",\"n\":5,\"f\":5.0,\"b\":true,\"s\":\"with the optional field\",\"const\":\"web\",\"pick\":\"here\",\"fallback\":\"here\",\"both\":\"5/with the optional field\",\"absent\":\"here\"}}",
        "invalid typed: event: 'event' must not contain control characters; properties.distinct_id: 'properties.distinct_id' is invalid: must not contain control characters",
        "invalid typed: properties: 'properties.n' is invalid: \"99999999999999999999\" is not a int",
        "invalid typed: properties: 'properties.f' is invalid: \"nan\" is not a float",
        "invalid typed: properties: 'properties.f' is invalid: \"0x1p3\" is not a float",
        "invalid typed: properties: 'properties.b' is invalid: \"maybe\" is not a bool",
        "invalid typed: properties.distinct_id: 'properties.distinct_id' is invalid: must not be a placeholder value (null)",
        "typed {\"event\":\"Typed jo!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"jo\",\"$insert_id\":\"8bf3d3db-a595-84b0-8a8e-673a8a6306bc\",\"ip\":\"0\",\"n\":1,\"f\":1.7976931348623157e+308,\"b\":true,\"s\":\"big\",\"const\":\"web\",\"pick\":\"jo\",\"fallback\":\"dflt\",\"both\":\"1/big\"}}",
        "typed {\"event\":\"Typed k\u{FFFD}a!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"k\u{FFFD}a\",\"$insert_id\":\"7fbeb3e1-2a95-8bd0-86d2-4485e9ff7e13\",\"ip\":\"0\",\"n\":1,\"f\":2.0,\"b\":true,\"s\":\"bad\u{FFFD}\",\"const\":\"web\",\"pick\":\"k\u{FFFD}a\",\"fallback\":\"dflt\",\"both\":\"1/bad\u{FFFD}\"}}",
        "esc {\"event\":\"Escaped \\\"id-1\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"id-1\",\"$insert_id\":\"id-1\",\"ip\":\"id-1\",\"text\":\"\u{FFFD}A \u{FFFD}\u{FFFD}\u{FFFD} \u{FFFD}\"}}",
        "esc {\"event\":\"Escaped \\\"abc-DEF-123\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"abc-DEF-123\",\"$insert_id\":\"abc-DEF-123\",\"ip\":\"abc-DEF-123\",\"text\":\"kept insert id\"}}",
        "esc {\"event\":\"Escaped \\\"weird:id/with\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"weird:id/with\",\"$insert_id\":\"76d0d85e-1019-8f15-acd9-c57f3ae96896\",\"ip\":\"weird:id/with\",\"text\":\"spaces hashed insert id\"}}",
        "invalid esc: properties.distinct_id: 'properties.distinct_id' is invalid: must not be a placeholder value (0)",
        "esc {\"event\":\"Escaped \\\"0123456789012345678901234567890123456789\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"0123456789012345678901234567890123456789\",\"$insert_id\":\"f2640446-8090-8707-ad04-f97c61997c5d\",\"ip\":\"0123456789012345678901234567890123456789\",\"text\":\"too long\"}}",
        "timed {\"event\":\"Timed\",\"properties\":{\"time\":1795841955481,\"distinct_id\":\"u1\",\"$insert_id\":\"u1\",\"ip\":\"0\"}}",
        "timed {\"event\":\"Timed\",\"properties\":{\"time\":1795824000000,\"distinct_id\":\"04:59:15+02:00\",\"$insert_id\":\"555354c5-0e4e-87d2-92b0-bae3758f3b1a\",\"ip\":\"0\"}}",
        "invalid timed: properties.time: 'properties.time' is invalid: cannot read \"yesterday\" with format iso8601",
        "timed {\"event\":\"Timed\",\"properties\":{\"time\":1795841955000,\"distinct_id\":\"\",\"$insert_id\":\"124f7498-66ad-8348-9c4d-fb6a7e4ce880\",\"ip\":\"0\"}}",
        "dropped skip",
        "unmatched",
        "unmatched",
    ].joined(separator: "\n")
    static let expectedJSON = [
        "invalid json: properties.distinct_id: 'properties.distinct_id' is invalid: must not contain control characters",
        "json {\"event\":\"A/B\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"ué 1\",\"$insert_id\":\"e7a0fdb8-9c65-834c-bbbb-7dc3ba4f12dc\",\"ip\":\"0\",\"msg\":\"a\\\\b\\tc\\u0001\\\"\",\"count\":-3,\"ok\":false,\"ratio\":-1000.0}}",
        "json {\"event\":\"Default\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"u2\",\"$insert_id\":\"5220c956-ea65-835c-8897-880fabdab983\",\"ip\":\"0\",\"msg\":\"🚀 rocket\",\"count\":12,\"ok\":false,\"ratio\":3.0}}",
        "invalid json: properties: 'properties.count' is invalid: \"1.5\" is not a int",
        "unmatched",
    ].joined(separator: "\n")
    static let expectedLogfmt = [
        "kv {\"event\":\"KV login\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"u1\",\"$insert_id\":\"de99e314-bcdc-884d-a913-26aab2a302e6\",\"ip\":\"0\",\"msg\":\"quoted \\\"value\\\" here\",\"flag\":true}}",
        "kv {\"event\":\"KV logout\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"u 2\",\"$insert_id\":\"20150530-71a0-8b35-bfe2-447772b25c1f\",\"ip\":\"0\",\"msg\":\"bare\"}}",
    ].joined(separator: "\n")
    static let expectedTrack =
        "{\"event\":\"Escaped \\\"abc\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"abc\",\"$insert_id\":\"abc\",\"ip\":\"abc\",\"token\":\"tok\\\"\\u0001\",\"text\":\"\\\"x\\\"\"}}"
}
