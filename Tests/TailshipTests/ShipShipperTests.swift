import Foundation
import Logging
import Synchronization
import Testing

@testable import Tailship

/// Collects the shipper's acknowledgements (in the checkpointer's place).
final class AckRecorder: AcknowledgementSink {
    private let acks = Mutex<[(AckHandle, DeliveryResult)]>([])

    func acknowledge(_ handles: [AckHandle], result: DeliveryResult) {
        acks.withLock { list in list += handles.map { ($0, result) } }
    }

    var all: [(AckHandle, DeliveryResult)] { acks.withLock { $0 } }

    func segments(_ result: DeliveryResult) -> [UInt64] {
        all.filter { $0.1 == result }.map(\.0.segment).sorted()
    }

    /// Waits until `count` acknowledgements arrived (or 15 s); returns whether they did.
    func wait(for count: Int, timeout: Double = 15) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if all.count >= count { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return all.count >= count
    }
}

/// The shipper end to end against a real HTTP server on 127.0.0.1.
@Suite struct ShipShipperTests {
    /// An hour ago: recent enough for `/track`, which keeps 5 days.
    static let recentMs = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000

    static func pending(
        _ i: Int, insertId: String? = nil, name: String = "Purchase", source: SourceLog? = nil,
        baseMs: Int64 = 1_700_000_000_000
    ) -> PendingEvent {
        let event = Event(
            name: name, distinctId: "user-\(i)", timeMs: baseMs + Int64(i),
            insertId: insertId ?? "id-\(i)", properties: [EventProperty(name: "n", value: .int(Int64(i)))])
        let origin = EventOrigin(
            source: "app", path: source?.path ?? "/var/log/app.log",
            identity: source?.identity ?? FileIdentity(device: 1, inode: 2, fingerprint: 3, fingerprintLength: 4),
            offset: UInt64(i * 100), rule: "purchase", ack: AckHandle(file: 1, segment: UInt64(i)))
        return PendingEvent(event: event, origin: origin)
    }

    /// A log file on disk whose line `i` starts at offset 100 × i, for dead letters, which read
    /// an event's line again from its file.
    struct SourceLog {
        let path: String
        let identity: FileIdentity

        static func line(_ i: Int) -> String {
            let text = "line \(i) \"quoted\" "
            return text + String(repeating: "x", count: 99 - text.utf8.count)
        }

        init(lines: Int) throws {
            path =
                FileManager.default.temporaryDirectory.appendingPathComponent("ship-src-\(UUID().uuidString).log").path
            try (0..<lines).map { Self.line($0) + "\n" }.joined().write(
                toFile: path, atomically: false, encoding: .utf8)
            identity = try FileIdentity.compute(for: ReadableFile(path: path))
        }
    }

    static func destination(
        _ url: String, api: IngestionEndpoint = .import, maxEvents: Int = 10,
        maxBytes: Int = 1 << 20, gzip: Bool = true
    ) -> DestinationConfig {
        DestinationConfig(
            kind: .mixpanel, api: api, url: url, projectId: "42",
            auth: AuthConfig(username: "sa.user", secret: .env("X")), gzip: gzip, maxInFlight: 1,
            batch: BatchConfig(maxEvents: maxEvents, maxBytes: maxBytes, flushIntervalMs: 30),
            timeoutMs: 5000, retry: RetryConfig(initialBackoffMs: 50, maxBackoffMs: 200))
    }

    static let credentials = ShipCredentials(
        basicUser: "sa.user", basicPassword: "s3cret", projectId: "42", token: "tok")
    static let tuning = ShipperTuning(jitterMs: 0...10, connectTimeoutMs: 2000)

    /// A started shipper writing dead letters into a fresh temporary state directory.
    static func shipper(
        _ destination: DestinationConfig, _ recorder: AckRecorder,
        credentials: ShipCredentials = credentials, tuning: ShipperTuning = tuning
    ) throws -> (Shipper, String) {
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("ship-state-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        var logger = Logger(label: "ship-test")
        logger.logLevel = .critical
        let shipper = Shipper(
            destination: destination, credentials: credentials, stateDir: stateDir, logger: logger,
            tuning: tuning, acknowledgements: recorder)
        try shipper.start()
        return (shipper, stateDir)
    }

    static func deadLetters(_ stateDir: String) throws -> [[String: Any]] {
        let path = stateDir + "/" + DeadLetterWriter.fileName
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    /// `pending(i)`'s event as the import API gets it, written out (not from `EventEncoder`).
    static func importJSON(_ i: Int) -> String {
        #"{"event":"Purchase","properties":{"time":\#(1_700_000_000_000 + i),"distinct_id":"user-\#(i)","#
            + #""$insert_id":"id-\#(i)","ip":"0","n":\#(i)}}"#
    }

    static func insertIds(_ request: ShipTestServer.Request) throws -> [String] {
        try request.events().map { ($0["properties"] as! [String: Any])["$insert_id"] as! String }
    }

    @Test func acceptedBatchIsAcknowledgedWithTheDocumentedRequest() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL), recorder)
        #expect(shipper.submit((0..<5).map { Self.pending($0) }))
        shipper.flush()
        #expect(recorder.wait(for: 5))
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        #expect(recorder.segments(.accepted) == [0, 1, 2, 3, 4])
        let requests = try server.requests()
        #expect(requests.count == 1)
        let request = requests[0]
        #expect(request.path == "/import?strict=1&project_id=42")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["content-encoding"] == "gzip")
        #expect(request.headers["user-agent"] == "tailship/\(TailshipVersion.current)")
        #expect(request.headers["authorization"] == "Basic " + Data("sa.user:s3cret".utf8).base64EncodedString())
        #expect(try Self.insertIds(request) == ["id-0", "id-1", "id-2", "id-3", "id-4"])
        let expected = "[" + (0..<5).map { Self.importJSON($0) }.joined(separator: ",") + "]"
        #expect(try String(decoding: request.decodedBody(), as: UTF8.self) == expected)
    }

    @Test func strictPartialFailureDeadLettersExactlyTheFailedRecords() throws {
        let server = try ShipTestServer(script: [["fail_indices": [1, 3]]])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try Self.shipper(Self.destination(server.baseURL), recorder)
        let log = try SourceLog(lines: 5)
        shipper.submit((0..<5).map { Self.pending($0, source: $0 == 3 ? nil : log) })
        shipper.flush()
        #expect(recorder.wait(for: 5))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.accepted) == [0, 2, 4])
        #expect(recorder.segments(.deadLettered) == [1, 3])
        #expect(try server.requests().count == 1)  // a 400 is never retried
        let letters = try Self.deadLetters(stateDir)
        #expect(letters.count == 2)
        let first = letters[0]
        #expect(first["reason"] as? String == "api_rejected")
        #expect(first["field"] as? String == "properties.time")
        #expect(first["message"] as? String == "'properties.time' is invalid: must not be in the future")
        #expect(first["path"] as? String == log.path)
        #expect((first["offset"] as? NSNumber)?.intValue == 100)
        #expect(first["rule"] as? String == "purchase")
        #expect(first["source"] as? String == "app")
        #expect(first["identity"] as? String == log.identity.description)
        // The shipper keeps no lines: the line is read again from its file at its offset...
        #expect(first["line"] as? String == SourceLog.line(1))
        // ...and is null when that file is no longer there.
        #expect(letters[1]["line"] is NSNull)
        #expect(
            ((first["event"] as? [String: Any])?["properties"] as? [String: Any])?["$insert_id"] as? String == "id-1")
        #expect((letters[1]["offset"] as? NSNumber)?.intValue == 300)
    }

    @Test func failedRecordsMatchByIndexWithDollarKeyToo() throws {
        let server = try ShipTestServer(script: [["fail_indices": [0], "insert_id_key": "$insert_id"]])
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit((0..<2).map { Self.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 2))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.deadLettered) == [0])
        #expect(recorder.segments(.accepted) == [1])
    }

    @Test func tooLargeSplitsInHalvesAndResends() throws {
        let body413 =
            #"{"code":413,"error":"request exceeds max limit of 2097152 bytes","status":"Request Entity Too Large"}"#
        let server = try ShipTestServer(script: [["status": 413, "body": body413]])
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit((0..<4).map { Self.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 4))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.accepted) == [0, 1, 2, 3])
        let requests = try server.requests()
        #expect(
            try requests.map(Self.insertIds) == [
                ["id-0", "id-1", "id-2", "id-3"], ["id-0", "id-1"], ["id-2", "id-3"],
            ])
    }

    @Test func singleEventTooLargeIsDeadLettered() throws {
        let server = try ShipTestServer(script: [["status": 413, "body": "too big"]])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit([Self.pending(7)])
        shipper.flush()
        #expect(recorder.wait(for: 1))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.deadLettered) == [7])
        #expect(try Self.deadLetters(stateDir).first?["reason"] as? String == "too_large")
    }

    /// Steps as JSON text (test arguments must be Sendable), with the least wait expected
    /// between the two attempts: Retry-After 1 s, the longest backoff (200 ms) for a 401, else
    /// the first backoff (50 ms, less a margin for the clocks).
    @Test(arguments: [
        (
            #"{"status":429,"headers":{"Retry-After":"1"},"body":"{\"code\":429,\"error\":\"Project exceeded rate limits.\",\"status\":\"Too Many Requests\"}"}"#,
            0.9
        ),
        (#"{"status":503,"body":"upstream connect error or disconnect/reset before headers"}"#, 0.04),
        (
            #"{"status":401,"body":"{\"code\":401,\"error\":\"Invalid credentials\",\"status\":\"Unauthorized\"}"}"#,
            0.15
        ),
        (#"{"drop":true}"#, 0.04),
    ])
    func retriesTheSameBytesUntilAccepted(stepJSON: String, minimumWait: Double) throws {
        let step = try JSONSerialization.jsonObject(with: Data(stepJSON.utf8)) as! [String: Any]
        let server = try ShipTestServer(script: [step])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit((0..<3).map { Self.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 3))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.accepted) == [0, 1, 2])
        let requests = try server.requests()
        #expect(requests.count == 2)
        #expect(requests[0].body == requests[1].body)  // byte-identical gzip body
        #expect(requests[1].time - requests[0].time >= minimumWait)
        #expect(try Self.deadLetters(stateDir).isEmpty)
    }

    @Test func wholeBatchRejectionDeadLettersEveryEvent() throws {
        let server = try ShipTestServer(script: [
            ["status": 400, "body": #"{"code":400,"error":"data, missing or empty","status":0}"#]
        ])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit((0..<3).map { Self.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 3))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.deadLettered) == [0, 1, 2])
        #expect(
            try Self.deadLetters(stateDir).map { $0["message"] as? String }
                == Array(repeating: "400: data, missing or empty", count: 3))
    }

    @Test func alreadyAcceptedEventsAreNotResent() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit([Self.pending(1), Self.pending(2)])
        shipper.flush()
        #expect(recorder.wait(for: 2))
        // The same two events again (a re-read), plus a new one.
        shipper.submit([Self.pending(1), Self.pending(2), Self.pending(3)])
        shipper.flush()
        #expect(recorder.wait(for: 5))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.accepted) == [1, 1, 2, 2, 3])
        #expect(try server.requests().map(Self.insertIds) == [["id-1", "id-2"], ["id-3"]])
    }

    @Test func batchesCloseAtMaxEvents() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL, maxEvents: 4, gzip: false), recorder)
        shipper.submit((0..<10).map { Self.pending($0) })
        #expect(recorder.wait(for: 10))  // the last two go after the 30 ms flush interval
        shipper.stop(deadline: .now + .seconds(5))
        let requests = try server.requests()
        #expect(requests.map { $0.headers["content-encoding"] } == [nil, nil, nil])
        #expect(try requests.map { try $0.events().count } == [4, 4, 2])
    }

    @Test func severalDeliveryThreadsShipEveryEventOnce() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        var destination = Self.destination(server.baseURL, maxEvents: 5)
        destination.maxInFlight = 3
        let (shipper, _) = try Self.shipper(destination, recorder)
        shipper.submit((0..<30).map { Self.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 30))
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        #expect(recorder.segments(.accepted) == (0..<30).map(UInt64.init))
        let shipped = try server.requests().flatMap(Self.insertIds)
        #expect(shipped.sorted() == (0..<30).map { "id-\($0)" }.sorted())
    }

    @Test func trackEndpointSendsTheTokenInEachEventAndRetriesTemporaryFailures() throws {
        let server = try ShipTestServer(script: [["body": #"{"status":0,"error":"a temporary failure occurred"}"#]])
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL, api: .track), recorder)
        shipper.submit([Self.pending(1, baseMs: Self.recentMs)])
        shipper.flush()
        #expect(recorder.wait(for: 1))
        shipper.stop(deadline: .now + .seconds(5))
        let requests = try server.requests()
        #expect(requests.count == 2)
        #expect(requests[0].path == "/track?verbose=1")
        #expect(requests[0].headers["authorization"] == nil)
        let properties = try requests[0].events()[0]["properties"] as! [String: Any]
        #expect(properties["token"] as? String == "tok")
    }

    @Test func tokenAuthOmitsProjectId() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let credentials = ShipCredentials(basicUser: "project-token", basicPassword: nil, projectId: "42")
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL + "/"), recorder, credentials: credentials)
        shipper.submit([Self.pending(1)])
        shipper.flush()
        #expect(recorder.wait(for: 1))
        shipper.stop(deadline: .now + .seconds(5))
        let request = try #require(try server.requests().first)
        #expect(request.path == "/import?strict=1")
        #expect(request.headers["authorization"] == "Basic " + Data("project-token:".utf8).base64EncodedString())
    }

    @Test func stopAtDeadlineAbandonsWithoutAcknowledging() throws {
        let server = try ShipTestServer(script: Array(repeating: ["status": 503, "body": "down"], count: 200))
        let recorder = AckRecorder()
        let (shipper, _) = try Self.shipper(Self.destination(server.baseURL), recorder)
        shipper.submit((0..<3).map { Self.pending($0) })
        shipper.flush()
        Thread.sleep(forTimeInterval: 0.3)
        let started = Date()
        #expect(shipper.stop(deadline: .now + .milliseconds(500)) == false)
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(recorder.all.isEmpty)
        #expect(shipper.submit([Self.pending(9)]) == false)
    }

    /// A stop (or a reload) during an outage does not wait out its grace for batches that can
    /// only fail: once nothing is in flight and all that is left waits for a retry, each is
    /// tried once more at once, and given up when that fails too.
    @Test func stopDoesNotWaitForBatchesThatFailedAndWaitForARetry() throws {
        let server = try ShipTestServer(script: Array(repeating: ["status": 503, "body": "down"], count: 200))
        let recorder = AckRecorder()
        // One event per batch and one request in flight: the slot waits for its retry, the next
        // batch waits for the slot and the batching thread waits to hand over the one after.
        var destination = Self.destination(server.baseURL, maxEvents: 1)
        destination.retry = RetryConfig(initialBackoffMs: 5000, maxBackoffMs: 5000)
        let (shipper, _) = try Self.shipper(destination, recorder)
        shipper.submit((0..<10).map { Self.pending($0) })
        shipper.flush()
        #expect(eventually { (try? server.requests().count) ?? 0 >= 1 }, "the first attempt was made (and failed)")
        Thread.sleep(forTimeInterval: 0.2)
        let started = Date()
        #expect(shipper.stop(deadline: .now + .seconds(10)) == false)
        #expect(Date().timeIntervalSince(started) < 1.5, "stop waited for a retry that could only fail")
        #expect(try server.requests().count == 2, "the first attempt, and one more made at the stop")
        #expect(recorder.all.isEmpty, "given-up events are never acknowledged")
    }

    @Test func fileDestinationAppendsNDJSONAndAcknowledges() throws {
        let recorder = AckRecorder()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ship-out-\(UUID().uuidString).ndjson")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var destination = Self.destination("http://unused")
        destination.kind = .file
        destination.path = path
        let (shipper, _) = try Self.shipper(destination, recorder)
        shipper.submit((0..<3).map { Self.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 3))
        shipper.stop(deadline: .now + .seconds(5))
        let expected = (0..<3).map { Self.importJSON($0) + "\n" }.joined()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
        #expect(recorder.segments(.accepted) == [0, 1, 2])
    }

    /// `/track` drops events older than 5 days while answering success: they are dead-lettered
    /// before a request is spent on them (`too_old_for_track`), the recent ones sent.
    @Test func trackDeadLettersEventsTooOldForIt() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let (shipper, stateDir) = try Self.shipper(Self.destination(server.baseURL, api: .track), recorder)
        let sixDaysAgo = Self.recentMs - 5 * 24 * 3_600_000
        shipper.submit([Self.pending(0, baseMs: sixDaysAgo), Self.pending(1, baseMs: Self.recentMs)])
        shipper.flush()
        #expect(recorder.wait(for: 2))
        shipper.stop(deadline: .now + .seconds(5))
        #expect(recorder.segments(.deadLettered) == [0])
        #expect(recorder.segments(.accepted) == [1])
        #expect(try server.requests().flatMap(Self.insertIds) == ["id-1"])
        let letters = try Self.deadLetters(stateDir)
        #expect(letters.count == 1)
        #expect(letters.first?["reason"] as? String == "too_old_for_track")
        #expect(letters.first?["field"] as? String == "properties.time")
    }
}
