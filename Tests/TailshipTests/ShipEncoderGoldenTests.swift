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

    /// `encode` (bytes straight from the line) against `process` and the encoder, line by
    /// line on a fresh engine each: the same outcome and bytes, or `.slow` (then `process`
    /// decides). Returns each line's path, to pin which lines take the fast one.
    static func compareFastPath(
        _ make: () throws -> RuleEngine, _ lines: [[UInt8]], token: String? = nil
    ) throws -> String {
        let fast = try make()
        let slow = try make()
        let encoder = EventEncoder(token: token)
        let fragment = token.map(EventEncoder.tokenFragment)
        var paths: [String] = []
        for (i, line) in lines.enumerated() {
            let offset = UInt64(i * 100)
            let expected = line.withUnsafeBytes {
                slow.process(line: $0, basis: RulesFixture.basis, offset: offset, nowMs: RulesFixture.now)
            }
            var out: [UInt8] = Array("prefix".utf8)
            let encoded = line.withUnsafeBytes {
                fast.encode(
                    line: $0, basis: RulesFixture.basis, offset: offset, nowMs: RulesFixture.now, token: fragment,
                    into: &out)
            }
            switch (encoded, expected) {
            case (.event(let rule, let timeMs, let key, let insertId), .event(let event, let name)):
                #expect(fast.rules[rule].name == name && timeMs == event.timeMs, "line \(i)")
                // The dedupe key and the insert id come from the same bytes as the JSON.
                #expect(key == DedupeWindow.Key(event), "line \(i)")
                #expect(String(decoding: out[insertId], as: UTF8.self) == event.insertId, "line \(i)")
                #expect(
                    String(decoding: out, as: UTF8.self)
                        == "prefix" + String(decoding: encoder.encode(event), as: UTF8.self), "line \(i)")
                paths.append("fast")
            case (.dropped(let rule), .dropped(let name)):
                #expect(fast.rules[rule].name == name)
                paths.append("fast")
            case (.unmatched, .unmatched):
                paths.append("fast")
            case (.slow, _):
                #expect(out == Array("prefix".utf8), "line \(i): nothing written on the slow path")
                _ = line.withUnsafeBytes {
                    fast.process(line: $0, basis: RulesFixture.basis, offset: offset, nowMs: RulesFixture.now)
                }
                paths.append("slow")
            default:
                Issue.record("line \(i): encode gave \(encoded), process \(expected)")
            }
        }
        #expect(fast.utf8Replaced == slow.utf8Replaced)
        return paths.joined(separator: " ")
    }

    @Test func fastPathWritesTheSameBytesAsProcessAndTheEncoder() throws {
        let regex = try Self.compareFastPath({ try RulesFixture.engine(Self.regexRules) }, Self.regexLines)
        // The plain events, the drop and the unmatched lines go fast; every line with a problem,
        // an int of 19 digits, a value to repair, or a short non-ASCII id (whose placeholder
        // check lowercases Unicode) goes slow.
        #expect(
            regex
                == "fast fast fast slow fast fast slow slow slow slow slow slow fast slow slow fast fast slow fast "
                + "fast fast slow fast fast fast fast")
        let tracked = try Self.compareFastPath(
            { try RulesFixture.engine(Self.regexRules) }, Self.regexLines, token: "tok\"\u{1}")
        #expect(tracked == regex)
        let json = try Self.compareFastPath(
            { try RulesFixture.engine([Self.jsonRule], format: .json) }, Self.jsonLines.map { Array($0.utf8) })
        #expect(json == "slow slow fast slow fast")
        let logfmt = try Self.compareFastPath(
            { try RulesFixture.engine([Self.logfmtRule], format: .logfmt) }, Self.logfmtLines.map { Array($0.utf8) })
        #expect(logfmt == "fast fast")
    }

    @Test func fastPathNumbersConvertLikeTheStandardLibrary() {
        let floats = [
            "0", "-0", "+1", "387.03", "759.35", "0.1", "1e-5", "1E+20", "-1e3", ".5", "5.", "123456789012345",
            "1234567890123456789", "0.000000000000000000001", "9007199254740993", "1e22", "1e23", "1e-22", "1e-400",
            "1e400", "00012.50", "3.14159265358979", "2.2250738585072014e-308",
        ]
        for text in floats {
            var copy = text
            let fast = copy.withUTF8 { FastValues.float(UnsafeRawBufferPointer($0)) }
            // What `TypedValues.float` did before it had a fast path.
            let standard = Double(text).flatMap { $0.isFinite ? $0 : nil }
            #expect(fast?.bitPattern == standard?.bitPattern, "\(text)")
        }
        for text in ["1x", "e5", "1e", "1.2.3", " 1", "nan", "inf", "0x10", "1_000", ""] {
            var copy = text
            #expect(copy.withUTF8 { FastValues.float(UnsafeRawBufferPointer($0)) } == nil, "\(text)")
        }
        for text in ["0", "-7", "+5", "007", "123456789012345678", "-123456789012345678"] {
            var copy = text
            #expect(copy.withUTF8 { FastValues.int(UnsafeRawBufferPointer($0)) } == TypedValues.int(text), "\(text)")
        }
        for text in ["", "-", "+", "1.5", "12345678901234567890", "1 ", "0x1"] {
            var copy = text
            #expect(copy.withUTF8 { FastValues.int(UnsafeRawBufferPointer($0)) } == nil, "\(text)")
        }
        for (text, value) in [
            ("true", true), ("YES", true), ("On", true), ("1", true), ("false", false), ("no", false),
            ("OFF", false), ("0", false),
        ] {
            var copy = text
            #expect(copy.withUTF8 { FastValues.bool(UnsafeRawBufferPointer($0)) } == value, "\(text)")
        }
        for text in ["maybe", "truee", "", "tru", "yes!"] {
            var copy = text
            #expect(copy.withUTF8 { FastValues.bool(UnsafeRawBufferPointer($0)) } == nil, "\(text)")
        }
    }

    /// `tailship test`'s output and summary: the same with and without `--explain` (which takes
    /// the slow path for every line), and the same bytes as the encoder's.
    @Test func dryRunOutputIsTheSameOnBothPaths() throws {
        let dir = NSTemporaryDirectory() + "golden-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        state_dir: \(dir)/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: [\(dir)/*.log]
            rules:
              - name: typed
                match: '^T (?<user>\\S+) (?<n>\\S+) (?<f>\\S+) (?<b>\\S+) (?<s>.*)$'
                event: "Typed {{user}}"
                distinct_id: "{{user}}"
                time: { from: read }
                properties:
                  n: { value: "{{n}}", type: int }
                  f: { value: "{{f}}", type: float }
                  b: { value: "{{b}}", type: bool }
                  s: "{{s}}"
              - name: skip
                match: '^S '
                drop: true
        """.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        var log: [UInt8] = []
        for line in Self.regexLines where line.first == UInt8(ascii: "T") || line.first == UInt8(ascii: "S") {
            log += line + [0x0A]
        }
        log += Array("unmatched 123\nunmatched 456\n".utf8)
        FileManager.default.createFile(atPath: dir + "/app.log", contents: Data(log))
        let plan = try AgentPlan.load(path: dir + "/agent.yaml", environment: [:])

        func run(explain: Bool) throws -> (String, DryRun.Summary) {
            var out: [UInt8] = []
            let dryRun = DryRun(
                plan: plan, sourceIndex: 0, explain: explain, write: { out += $0 }, err: { _ in })
            var summary = DryRun.Summary()
            try dryRun.run(.file(dir + "/app.log"), summary: &summary)
            // The time is the time read (a millisecond apart between the two runs).
            let text = String(decoding: out, as: UTF8.self).replacing(#/"time":\d+,/#, with: "")
            return (text, summary)
        }
        let (fast, fastSummary) = try run(explain: false)
        let (slow, slowSummary) = try run(explain: true)
        #expect(fast == slow)
        #expect(fastSummary == slowSummary)
        #expect(fastSummary.events == 8 && fastSummary.invalid == 6 && fastSummary.dropped == 1)
        #expect(fastSummary.unmatched == 2 && fastSummary.unmatchedShapes == ["unmatched N": 2])
        #expect(fastSummary.eventsByRule == ["typed": 8] && fastSummary.matchesByRule == ["typed": 14, "skip": 1])
        // Each event on its own line, exactly the encoder's JSON of `process`'s event.
        let engine = plan.engines[0]
        let events = fast.split(separator: "\n").map(String.init)
        #expect(events.count == 8)
        if case .event(let event, _) = engine.process(line: "T alice 42 387.03 yes plain text", nowMs: RulesFixture.now)
        {
            let json = String(decoding: EventEncoder().encode(event), as: UTF8.self)
            #expect(events[0].hasPrefix(#"{"event":"Typed alice","properties":{"distinct_id":"alice""#))
            #expect(events[0].hasSuffix(#","n":42,"f":387.03,"b":true,"s":"plain text"}}"#))
            #expect(json.hasSuffix(#","n":42,"f":387.03,"b":true,"s":"plain text"}}"#))
        }
    }

    /// Events encoded back to back into one `ByteBuffer` (grown from a tiny capacity, with
    /// a rolled-back write in between) are the same bytes as each event's own array.
    @Test func contiguousBufferHoldsTheSameBytesAsArrays() throws {
        let engine = try RulesFixture.engine(Self.regexRules)
        let encoder = EventEncoder(token: "t\u{1}")
        let buffer = ByteBuffer(capacity: 16)
        var out = buffer
        var expected: [UInt8] = []
        for line in Self.regexLines {
            let outcome = line.withUnsafeBytes {
                engine.process(line: $0, basis: RulesFixture.basis, offset: 0, nowMs: RulesFixture.now)
            }
            guard case .event(let event, _) = outcome else { continue }
            let start = out.byteCount
            JSONWriter.appendString("rolled back \u{0}", to: &out)
            out.truncate(to: start)
            encoder.append(event, to: &out)
            out.write(UInt8(ascii: "\n"))
            expected += encoder.encode(event) + [UInt8(ascii: "\n")]
        }
        #expect(expected.count > 1000)
        #expect(Array(buffer.bytes) == expected)
        buffer.removeAll()
        #expect(buffer.byteCount == 0 && buffer.bytes.isEmpty)
    }

    static let expectedReplaced = 6
    static let expectedRegex = [
        "typed {\"event\":\"Typed alice!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"alice\",\"$insert_id\":\"76427633-f38b-8ad4-a033-60670b25a2d9\",\"ip\":\"0\",\"n\":42,\"f\":387.03,\"b\":true,\"s\":\"plain text\",\"const\":\"web\",\"pick\":\"alice\",\"fallback\":\"dflt\",\"both\":\"42/plain text\"}}",
        "typed {\"event\":\"Typed bob!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"bob\",\"$insert_id\":\"2040a0b0-355e-8f1c-bfb4-14f14caf058a\",\"ip\":\"0\",\"n\":-7,\"f\":1e-05,\"b\":false,\"s\":\"quote \\\" backslash \\\\ slash /\",\"const\":\"web\",\"pick\":\"bob\",\"fallback\":\"dflt\",\"both\":\"-7/quote \\\" backslash \\\\ slash /\"}}",
        "typed {\"event\":\"Typed carol!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"carol\",\"$insert_id\":\"e9b4a495-745e-832a-9274-9d3fbcec021b\",\"ip\":\"0\",\"n\":0,\"f\":-0.0,\"b\":true,\"s\":\"tab\\there del \u{7F} ctrl \\u0001\\u001f\",\"const\":\"web\",\"pick\":\"carol\",\"fallback\":\"dflt\",\"both\":\"0/tab\\there del \u{7F} ctrl \\u0001\\u001f\"}}",
        "typed {\"event\":\"Typed dave!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"dave\",\"$insert_id\":\"ebd679da-4f5e-8cb2-b5b3-125abef56244\",\"ip\":\"0\",\"n\":9223372036854775807,\"f\":1e+20,\"b\":false,\"s\":\"héllo 日本 🚀\",\"const\":\"web\",\"pick\":\"dave\",\"fallback\":\"dflt\",\"both\":\"9223372036854775807/héllo 日本 🚀\"}}",
        "typed {\"event\":\"Typed erin!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"erin\",\"$insert_id\":\"5cecc2ee-165e-8daf-a71b-717280debc3d\",\"ip\":\"0\",\"n\":12,\"f\":0.1,\"b\":true,\"s\":\"\",\"const\":\"web\",\"pick\":\"erin\",\"fallback\":\"dflt\",\"both\":\"12/\"}}",
        "typed {\"event\":\"Typed kim!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"kim\",\"$insert_id\":\"def2b455-915e-8737-8a73-b933c7eb39e6\",\"ip\":\"0\",\"n\":5,\"f\":5.0,\"b\":true,\"s\":\"with the optional field\",\"const\":\"web\",\"pick\":\"here\",\"fallback\":\"here\",\"both\":\"5/with the optional field\",\"absent\":\"here\"}}",
        "invalid typed: 'event' must not contain control characters; 'properties.distinct_id' is invalid: must not contain control characters",
        "invalid typed: 'properties.n' is invalid: \"99999999999999999999\" is not an int",
        "invalid typed: 'properties.f' is invalid: \"nan\" is not a float",
        "invalid typed: 'properties.f' is invalid: \"0x1p3\" is not a float",
        "invalid typed: 'properties.b' is invalid: \"maybe\" is not a bool",
        "invalid typed: 'properties.distinct_id' is invalid: must not be a placeholder value (null)",
        "typed {\"event\":\"Typed jo!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"jo\",\"$insert_id\":\"8bf3d3db-a595-84b0-8a8e-673a8a6306bc\",\"ip\":\"0\",\"n\":1,\"f\":1.7976931348623157e+308,\"b\":true,\"s\":\"big\",\"const\":\"web\",\"pick\":\"jo\",\"fallback\":\"dflt\",\"both\":\"1/big\"}}",
        "typed {\"event\":\"Typed k\u{FFFD}a!\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"k\u{FFFD}a\",\"$insert_id\":\"7fbeb3e1-2a95-8bd0-86d2-4485e9ff7e13\",\"ip\":\"0\",\"n\":1,\"f\":2.0,\"b\":true,\"s\":\"bad\u{FFFD}\",\"const\":\"web\",\"pick\":\"k\u{FFFD}a\",\"fallback\":\"dflt\",\"both\":\"1/bad\u{FFFD}\"}}",
        "esc {\"event\":\"Escaped \\\"id-1\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"id-1\",\"$insert_id\":\"id-1\",\"ip\":\"id-1\",\"text\":\"\u{FFFD}A \u{FFFD}\u{FFFD}\u{FFFD} \u{FFFD}\"}}",
        "esc {\"event\":\"Escaped \\\"abc-DEF-123\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"abc-DEF-123\",\"$insert_id\":\"abc-DEF-123\",\"ip\":\"abc-DEF-123\",\"text\":\"kept insert id\"}}",
        "esc {\"event\":\"Escaped \\\"weird:id/with\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"weird:id/with\",\"$insert_id\":\"76d0d85e-1019-8f15-acd9-c57f3ae96896\",\"ip\":\"weird:id/with\",\"text\":\"spaces hashed insert id\"}}",
        "invalid esc: 'properties.distinct_id' is invalid: must not be a placeholder value (0)",
        "esc {\"event\":\"Escaped \\\"0123456789012345678901234567890123456789\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"0123456789012345678901234567890123456789\",\"$insert_id\":\"f2640446-8090-8707-ad04-f97c61997c5d\",\"ip\":\"0123456789012345678901234567890123456789\",\"text\":\"too long\"}}",
        "timed {\"event\":\"Timed\",\"properties\":{\"time\":1795841955481,\"distinct_id\":\"u1\",\"$insert_id\":\"u1\",\"ip\":\"0\"}}",
        "timed {\"event\":\"Timed\",\"properties\":{\"time\":1795824000000,\"distinct_id\":\"04:59:15+02:00\",\"$insert_id\":\"555354c5-0e4e-87d2-92b0-bae3758f3b1a\",\"ip\":\"0\"}}",
        "invalid timed: 'properties.time' is invalid: cannot read \"yesterday\" with format iso8601",
        "timed {\"event\":\"Timed\",\"properties\":{\"time\":1795841955000,\"distinct_id\":\"\",\"$insert_id\":\"124f7498-66ad-8348-9c4d-fb6a7e4ce880\",\"ip\":\"0\"}}",
        "dropped skip",
        "unmatched",
        "unmatched",
    ].joined(separator: "\n")
    static let expectedJSON = [
        "invalid json: 'properties.distinct_id' is invalid: must not contain control characters",
        "json {\"event\":\"A/B\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"ué 1\",\"$insert_id\":\"e7a0fdb8-9c65-834c-bbbb-7dc3ba4f12dc\",\"ip\":\"0\",\"msg\":\"a\\\\b\\tc\\u0001\\\"\",\"count\":-3,\"ok\":false,\"ratio\":-1000.0}}",
        "json {\"event\":\"Default\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"u2\",\"$insert_id\":\"5220c956-ea65-835c-8897-880fabdab983\",\"ip\":\"0\",\"msg\":\"🚀 rocket\",\"count\":12,\"ok\":false,\"ratio\":3.0}}",
        "invalid json: 'properties.count' is invalid: \"1.5\" is not an int",
        "unmatched",
    ].joined(separator: "\n")
    static let expectedLogfmt = [
        "kv {\"event\":\"KV login\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"u1\",\"$insert_id\":\"de99e314-bcdc-884d-a913-26aab2a302e6\",\"ip\":\"0\",\"msg\":\"quoted \\\"value\\\" here\",\"flag\":true}}",
        "kv {\"event\":\"KV logout\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"u 2\",\"$insert_id\":\"20150530-71a0-8b35-bfe2-447772b25c1f\",\"ip\":\"0\",\"msg\":\"bare\"}}",
    ].joined(separator: "\n")
    static let expectedTrack =
        "{\"event\":\"Escaped \\\"abc\\\"\",\"properties\":{\"time\":1795842000000,\"distinct_id\":\"abc\",\"$insert_id\":\"abc\",\"ip\":\"abc\",\"token\":\"tok\\\"\\u0001\",\"text\":\"\\\"x\\\"\"}}"
}
