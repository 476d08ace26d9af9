import Foundation
import Testing

@testable import Tailship

/// The per-batch state machine, driven by hand: no server, no threads, no clock.
@Suite struct ShipBatchDeliveryTests {
    static func batch(_ range: Range<Int>, token: String? = nil) -> Batch<ShipItem> {
        let events = range.map { ShipShipperTests.pending($0) }
        let group = EncodedEvents(events, encoder: EventEncoder(token: token))
        let items = group.entries.map { ShipItem(origin: $0.origin, insertId: $0.insertId, key: $0.key) }
        return Batch(items: items, encoded: group.entries.indices.map { Array(group.json(at: $0)) })
    }

    static func target(_ api: IngestionEndpoint = .import, credentials: ShipCredentials = ShipShipperTests.credentials)
        -> IngestionTarget
    {
        IngestionTarget(
            destination: ShipShipperTests.destination("http://api.test", api: api),
            credentials: credentials, connectTimeoutMs: 1000)
    }

    /// Backoff 50 ms doubling to 200 ms, no jitter: waits are exact.
    static func delivery(_ batch: Batch<ShipItem>) -> BatchDelivery {
        BatchDelivery(
            batch: batch, backoff: Backoff(initialMs: 50, maxMs: 200, jitterMs: 0...0, random: { $0.lowerBound }))
    }

    static func response(_ status: Int, _ body: String = "", headers: [(name: String, value: String)] = [])
        -> Result<HTTPResponse, TransportError>
    {
        .success(HTTPResponse(status: status, headers: headers, body: Array(body.utf8)))
    }

    /// A strict `/import` success for `count` events.
    static func imported(_ count: Int) -> String {
        #"{"code":200,"num_records_imported":\#(count),"status":"OK"}"#
    }

    /// Starts `delivery` as the delivery loop does: with its body gzipped (the target gzips), which
    /// sets the body aside until an answer needs it. Returns the payload.
    @discardableResult
    static func start(_ delivery: inout BatchDelivery, target: IngestionTarget = target()) throws -> [UInt8] {
        let payload = try GzipCompressor(level: 1).compress(delivery.batch.body())
        _ = delivery.start(payload: payload, target: target)
        #expect(!delivery.batch.holdsBody, "only the compressed payload is kept while in flight")
        return payload
    }

    static func sentBody(_ action: BatchDelivery.Action) -> [UInt8]? {
        if case .send(let request) = action { return request.body }
        return nil
    }

    @Test func acceptedAfterOneAttempt() {
        var delivery = Self.delivery(Self.batch(0..<3))
        let first = delivery.start(payload: [1, 2, 3], target: Self.target())
        #expect(Self.sentBody(first) == [1, 2, 3])
        guard case .accept(let attempts) = delivery.complete(Self.response(200, Self.imported(3)), wallMs: 5) else {
            Issue.record("expected accept")
            return
        }
        #expect(attempts == 1)
    }

    @Test func retryableResendsTheSameBytesWithGrowingBackoffAndRetryAfter() {
        var delivery = Self.delivery(Self.batch(0..<2))
        _ = delivery.start(payload: [9, 8, 7], target: Self.target())
        var delays: [Int] = []
        let failures: [Result<HTTPResponse, TransportError>] = [
            Self.response(503, "upstream down"),
            .failure(TransportError(kind: .reset, code: 56, message: "reset")),
            Self.response(429, "slow", headers: [(name: "retry-after", value: "3")]),
        ]
        for failure in failures {
            guard case .retryLater(let delay, _, _, let unauthorized) = delivery.complete(failure, wallMs: 0) else {
                Issue.record("expected retryLater")
                return
            }
            #expect(!unauthorized)
            delays.append(delay)
            #expect(Self.sentBody(delivery.retry()) == [9, 8, 7])
        }
        #expect(delays == [50, 100, 3000])
        guard case .accept(let attempts) = delivery.complete(Self.response(200, Self.imported(3)), wallMs: 0) else {
            Issue.record("expected accept")
            return
        }
        #expect(attempts == 4)
    }

    /// A 200 counting fewer events than were sent is resent (same bytes) up to the limit, then
    /// dead-lettered (`unconfirmed`) with the reason: never acknowledged on an unverified answer.
    @Test func aSuccessThatDoesNotAddUpIsResentThenDeadLetteredAtTheLimit() throws {
        var delivery = Self.delivery(Self.batch(0..<3))
        let payload = try Self.start(&delivery)
        let short = Self.response(200, #"{"code":200,"num_records_imported":2,"status":"OK"}"#)
        for _ in 1..<BatchDelivery.unconfirmedLimit {
            guard case .retryLater(_, let reason, _, false) = delivery.complete(short, wallMs: 0) else {
                Issue.record("expected retryLater")
                return
            }
            #expect(reason == "200 but only 2 of 3 records imported: OK")
            #expect(Self.sentBody(delivery.retry()) == payload)
        }
        guard case .deadLetter(let letters, let items) = delivery.complete(short, wallMs: 0) else {
            Issue.record("expected the batch dead-lettered")
            return
        }
        #expect(items.count == 3 && letters.count == 3)
        #expect(letters.allSatisfy { $0.reason == .unconfirmed })
        #expect(letters.map(\.eventJSON) == Self.batch(0..<3).encoded, "the JSON restored from the payload")
        #expect(
            letters[0].message
                == "3 answers did not confirm the import; the last: 200 but only 2 of 3 records imported: OK")
        // A full count at any attempt is a plain acceptance.
        var other = Self.delivery(Self.batch(0..<3))
        _ = other.start(payload: [1], target: Self.target())
        _ = other.complete(short, wallMs: 0)
        _ = other.retry()
        let full = Self.response(200, #"{"code":200,"num_records_imported":3,"status":"OK"}"#)
        guard case .accept(2) = other.complete(full, wallMs: 0) else {
            Issue.record("expected accept")
            return
        }
    }

    @Test func unauthorizedWaitsTheLongestBackoffAndResendsTheSameRequest() {
        var delivery = Self.delivery(Self.batch(0..<2))
        _ = delivery.start(payload: [1], target: Self.target())
        guard
            case .retryLater(let delay, let reason, 1, true) = delivery.complete(
                Self.response(401, #"{"error":"Invalid credentials"}"#), wallMs: 0)
        else {
            Issue.record("expected an unauthorized retry")
            return
        }
        #expect(delay == 200)
        #expect(reason.contains("Invalid credentials"))
        guard case .send(let request) = delivery.retry() else {
            Issue.record("expected a resend")
            return
        }
        #expect(request.body == [1])
        #expect(request.basicAuth?.password == "s3cret")
    }

    @Test func strictPartialDeadLettersTheFailedRecordsByIndexOrInsertId() throws {
        var delivery = Self.delivery(Self.batch(0..<4))
        try Self.start(&delivery)
        // Index 1 as documented; index 0 echoes id-3, so the insert id wins; index 9 matches nothing.
        let body =
            #"{"code":400,"failed_records":[{"index":1,"insert_id":"id-1","field":"properties.time","message":"future"},"#
            + #"{"index":0,"$insert_id":"id-3","field":"event","message":"bad"},{"index":9,"field":"x","message":"y"}]}"#
        guard
            case .partial(let accepted, let letters, let failed, let unmatched) = delivery.complete(
                Self.response(400, body), wallMs: 77)
        else {
            Issue.record("expected partial")
            return
        }
        #expect(accepted.map(\.ack.segment) == [0, 2])
        #expect(failed.map(\.ack.segment) == [1, 3])
        #expect(letters.map(\.field) == ["properties.time", "event"])
        #expect(letters.map(\.origin.offset) == [100, 300])
        #expect(letters.allSatisfy { $0.timeMs == 77 && $0.reason == .apiRejected })
        #expect(letters.map(\.eventJSON) == [1, 3].map { Self.batch(0..<4).encoded[$0] })
        #expect(unmatched.map(\.index) == [9])
    }

    @Test func tooLargeSplitsAndASingleEventIsDeadLettered() throws {
        var delivery = Self.delivery(Self.batch(0..<5))
        try Self.start(&delivery)
        guard case .split(let first, let second) = delivery.complete(Self.response(413, "too big"), wallMs: 0) else {
            Issue.record("expected split")
            return
        }
        #expect(first.items.map(\.ack.segment) == [0, 1])
        #expect(second.items.map(\.ack.segment) == [2, 3, 4])
        #expect(first.encoded + second.encoded == Self.batch(0..<5).encoded, "the halves carry the events' JSON")

        var single = Self.delivery(Self.batch(7..<8))
        try Self.start(&single)
        guard case .deadLetter(let letters, let items) = single.complete(Self.response(413), wallMs: 0) else {
            Issue.record("expected dead letter")
            return
        }
        #expect(letters.map(\.reason) == [.tooLarge])
        #expect(items.map(\.ack.segment) == [7])
        #expect(letters.map(\.eventJSON) == Self.batch(7..<8).encoded)
    }

    @Test func wholeBatchRejectionDeadLettersEveryEvent() throws {
        var delivery = Self.delivery(Self.batch(0..<3))
        try Self.start(&delivery)
        guard
            case .deadLetter(let letters, let items) = delivery.complete(
                Self.response(400, #"{"error":"data, missing or empty","status":0}"#), wallMs: 0)
        else {
            Issue.record("expected dead letter")
            return
        }
        #expect(items.count == 3)
        #expect(letters.map(\.message) == Array(repeating: "400: data, missing or empty", count: 3))
        #expect(letters.map(\.eventJSON) == Self.batch(0..<3).encoded)
    }

    /// A payload that does not inflate to the body it stands for (only memory corruption could
    /// make one) is never acted on event by event: no dead letter, no acknowledgement; the same
    /// bytes are sent again.
    @Test func anAnswerNeedingTheEventsOfABodyThatCannotBeRestoredIsRetried() {
        var delivery = Self.delivery(Self.batch(0..<3))
        _ = delivery.start(payload: [1, 2, 3], target: Self.target())
        #expect(!delivery.batch.holdsBody)
        guard case .retryLater(_, let reason, 1, false) = delivery.complete(Self.response(413), wallMs: 0) else {
            Issue.record("expected a retry")
            return
        }
        #expect(reason.contains("could not be restored"))
        #expect(Self.sentBody(delivery.retry()) == [1, 2, 3])
        // An uncompressed payload is the body itself: nothing is set aside.
        var plain = Self.delivery(Self.batch(0..<3))
        var target = Self.target()
        target.gzip = false
        _ = plain.start(payload: plain.batch.body(), target: target)
        #expect(plain.batch.holdsBody)
    }

    @Test func trackTokenErrorPausesAndResendsTheSameBytes() throws {
        var delivery = Self.delivery(Self.batch(0..<2, token: "tok"))
        let payload: [UInt8] = Array("[payload]".utf8)
        _ = delivery.start(payload: payload, target: Self.target(.track))
        for _ in 0..<2 {
            guard
                case .retryLater(let delay, _, _, true) = delivery.complete(
                    Self.response(200, #"{"status":0,"error":"token, missing or empty"}"#), wallMs: 0)
            else {
                Issue.record("a token error must pause like a 401")
                return
            }
            #expect(delay == 200, "at the longest backoff")
            guard case .send(let request) = delivery.retry() else {
                Issue.record("expected a resend")
                return
            }
            #expect(request.body == payload)
        }
    }
}
