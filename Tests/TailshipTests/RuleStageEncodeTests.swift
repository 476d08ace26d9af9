import Foundation
import Logging
import Testing

@testable import Tailship

/// `run`'s rule stage encodes events straight from the line's bytes into its submit groups;
/// what reaches the destination must be, byte for byte, what `process` and `EventEncoder`
/// made of the same lines before (the golden corpus of `ShipEncoderGoldenTests`).
@Suite struct RuleStageEncodeTests {
    /// The corpus's lines through a `RuleStage` into a `kind: file` shipper; returns the file's
    /// lines and the dead letters' event JSON.
    static func run(
        _ make: () throws -> RuleEngine, format: LogFormat, rules: [RuleConfig], lines: [[UInt8]],
        api: IngestionEndpoint = .import, now: Int64 = RulesFixture.now
    ) throws -> (output: [String], letters: [String]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "stage-test")
        logger.logLevel = .critical
        let metrics = AgentMetrics()
        let checkpointer = try Checkpointer(
            directory: dir, name: CheckpointStore.liveStoreName, metrics: metrics, logger: logger)
        let destination = DestinationConfig(
            kind: .file, api: api, path: dir + "/out.ndjson", gzip: false,
            batch: BatchConfig(maxEvents: 7, maxBytes: 1 << 20, flushIntervalMs: 30))
        let shipper = Shipper(
            destination: destination, credentials: ShipCredentials(token: "tok\"\u{1}"), stateDir: dir,
            logger: logger, acknowledgements: checkpointer, metrics: metrics)
        try shipper.start()
        let stage = RuleStage(
            sources: [RulesFixture.source(rules, format: format)], engines: [try make()], shipper: shipper,
            checkpointer: checkpointer, deadLetters: DeadLetterWriter(stateDir: dir), metrics: metrics,
            logger: logger, nowMs: { now })
        let identity = FileIdentity(device: 1, inode: 2, fingerprint: 3, fingerprintLength: 4)
        stage.fileOpened(
            FileOpening(
                file: 1, source: 0, path: dir + "/app.log", key: .forTest(identity), identity: identity, offset: 0,
                start: .beginning))
        var splitter = LineSplitter(startOffset: 0, maxLineBytes: 1 << 20)
        text(lines).withUnsafeBytes { splitter.feed($0) { stage.lines(file: 1, $0) } }
        #expect(stage.waitForRoom(timeout: .seconds(5)))
        #expect(shipper.stop(deadline: .now + .seconds(10)))
        checkpointer.stop()
        let output = (try? String(contentsOfFile: dir + "/out.ndjson", encoding: .utf8)) ?? ""
        let letters = try ShipShipperTests.deadLetters(dir).compactMap { letter -> String? in
            guard let event = letter["event"], !(event is NSNull) else { return nil }
            let json = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
            return String(decoding: json, as: UTF8.self)
        }
        return (output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init), letters)
    }

    /// What `process` and `EventEncoder` make of the same lines, at the offsets and content
    /// basis the splitter gives them.
    static func expected(
        _ engine: RuleEngine, lines: [[UInt8]], token: String? = nil, now: Int64 = RulesFixture.now
    ) -> [String] {
        let encoder = EventEncoder(token: token)
        var splitter = LineSplitter(startOffset: 0, maxLineBytes: 1 << 20)
        var out: [String] = []
        text(lines).withUnsafeBytes {
            splitter.feed($0) { batch in
                for line in batch {
                    let outcome = engine.process(
                        line: line.bytes, basis: line.basis, offset: line.offset, nowMs: now)
                    if case .event(let event, _) = outcome {
                        out.append(String(decoding: encoder.encode(event), as: UTF8.self))
                    }
                }
            }
        }
        return out
    }

    static let corpora: [(rules: [RuleConfig], format: LogFormat, lines: [[UInt8]])] = [
        (ShipEncoderGoldenTests.regexRules, .regex, ShipEncoderGoldenTests.regexLines),
        ([ShipEncoderGoldenTests.jsonRule], .json, ShipEncoderGoldenTests.jsonLines.map { Array($0.utf8) }),
        ([ShipEncoderGoldenTests.logfmtRule], .logfmt, ShipEncoderGoldenTests.logfmtLines.map { Array($0.utf8) }),
    ]

    @Test func runSendsTheSameBytesAsProcessAndTheEncoder() throws {
        for corpus in Self.corpora {
            let make = { try RulesFixture.engine(corpus.rules, format: corpus.format) }
            let (output, letters) = try Self.run(make, format: corpus.format, rules: corpus.rules, lines: corpus.lines)
            let expected = Self.expected(try make(), lines: corpus.lines)
            #expect(!expected.isEmpty)
            #expect(output == expected)
            // Only the lines `process` finds invalid are dead-lettered, without an event JSON.
            #expect(letters.isEmpty)
        }
    }

    /// `/track`: the token is in every event; events older than the 5 days it keeps (the
    /// corpus's times, 2026-11-28, against today's clock) are dead-lettered with their JSON,
    /// the token removed.
    @Test func trackEventsCarryTheTokenAndTooOldOnesAreDeadLettered() throws {
        let corpus = Self.corpora[0]
        let make = { try RulesFixture.engine(corpus.rules, format: corpus.format) }
        let now = WallClock.nowMs()
        let (output, letters) = try Self.run(
            make, format: corpus.format, rules: corpus.rules, lines: corpus.lines, api: .track, now: now)
        let expected = Self.expected(try make(), lines: corpus.lines, token: "tok\"\u{1}", now: now)
        let cutoff = WallClock.nowMs() - Shipper.trackMaxAgeMs
        let recent = expected.filter { Self.time($0) >= cutoff }
        let old = expected.filter { Self.time($0) < cutoff }
        #expect(!recent.isEmpty && !old.isEmpty)
        #expect(output == recent)
        #expect(recent.allSatisfy { $0.contains(#","token":"tok\"\u0001""#) })
        let fragment = EventEncoder.tokenFragment("tok\"\u{1}")
        let redacted = try old.map { json in
            let bytes = EventEncoder.removing(fragment, from: Array(json.utf8))
            let object = try JSONSerialization.jsonObject(with: Data(bytes))
            return String(
                decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(letters == redacted)
    }

    /// A chunk's events cut into submit groups at 256 events, or before a group's JSON and
    /// entries pass 256 KiB; each event's JSON and `$insert_id` come out whole.
    @Test func submitGroupsCutAtTheirLimits() {
        for padding in [0, 4000] {
            let buffer = ByteBuffer(capacity: 64)
            var groups = RuleStage.SubmitGroups(buffer)
            let encoder = EventEncoder()
            var events: [PendingEvent] = []
            for i in 0..<600 {
                var pending = ShipShipperTests.pending(i, insertId: "id-\(i)-\(String(repeating: "x", count: i % 20))")
                pending.event.properties.append(
                    EventProperty(name: "pad", value: .string(String(repeating: "p", count: padding))))
                events.append(pending)
                var out = buffer
                let start = out.byteCount
                let insertId = encoder.append(pending.event, to: &out)
                groups.append(
                    from: start, key: DedupeWindow.Key(pending.event), timeMs: pending.event.timeMs,
                    insertId: insertId, origin: pending.origin)
            }
            let done = groups.finish()
            #expect(done.reduce(0) { $0 + $1.count } == 600)
            #expect(done.allSatisfy { $0.count <= RuleStage.submitGroup && $0.bytes <= RuleStage.submitGroupBytes })
            if padding == 0 { #expect(done.map(\.count) == [256, 256, 88]) } else { #expect(done.count > 3) }
            var i = 0
            for group in done {
                for k in 0..<group.count {
                    let json = group.json(at: k)
                    let range = group.entries[k].insertId
                    #expect(Array(json) == encoder.encode(events[i].event))
                    #expect(
                        String(decoding: json.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self)
                            == events[i].event.insertId)
                    #expect(group.entries[k].key == DedupeWindow.Key(events[i].event))
                    i += 1
                }
            }
            #expect(buffer.byteCount == 0)
        }
    }

    /// The lines as a file holds them, each ended by a newline.
    static func text(_ lines: [[UInt8]]) -> [UInt8] {
        lines.reduce(into: []) { text, line in
            text += line
            text.append(0x0A)
        }
    }

    static func time(_ json: String) -> Int64 {
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return ((object?["properties"] as? [String: Any])?["time"] as? NSNumber)?.int64Value ?? 0
    }
}
