import Foundation
import Testing

@testable import Tailship

@Suite struct ShipResponseTests {
    static func classify(
        _ status: Int, _ body: String, retryAfter: String? = nil,
        endpoint: IngestionEndpoint = .import
    ) -> IngestionOutcome {
        IngestionResponse.classify(status: status, retryAfter: retryAfter, body: Array(body.utf8), endpoint: endpoint)
    }

    /// A 200 that does not add up (an API, or something in front of it, that lies) is not
    /// believed at once (see `ShipBatchDeliveryTests` for what the batch then does).
    @Test func aSuccessThatDoesNotAddUpIsUnconfirmed() {
        let body = { (imported: Int) in Array(#"{"code":200,"num_records_imported":\#(imported),"status":"OK"}"#.utf8) }
        #expect(
            IngestionResponse.classify(status: 200, retryAfter: nil, body: body(2000), endpoint: .import, sent: 2000)
                == .accepted)
        #expect(
            IngestionResponse.classify(status: 200, retryAfter: nil, body: body(1999), endpoint: .import, sent: 2000)
                == .unconfirmed(reason: "200 but only 1999 of 2000 records imported: OK"))
        let legacyFailure = Array(
            #"{"code":200,"error":"some data points in the request failed validation","num_records_imported":0,"status":0}"#
                .utf8)
        #expect(
            IngestionResponse.classify(status: 200, retryAfter: nil, body: legacyFailure, endpoint: .import)
                == .unconfirmed(reason: "200 with status 0: some data points in the request failed validation"))
        // No count in the body, or no JSON at all (a wrong url behind a proxy that answers 200):
        // not a confirmation.
        #expect(
            IngestionResponse.classify(status: 200, retryAfter: nil, body: [], endpoint: .import, sent: 5)
                == .unconfirmed(reason: "200 with a body that is not JSON: (empty body)"))
        #expect(
            IngestionResponse.classify(
                status: 200, retryAfter: nil, body: Array("<html>OK</html>".utf8), endpoint: .import, sent: 5)
                == .unconfirmed(reason: "200 with a body that is not JSON: <html>OK</html>"))
        #expect(
            IngestionResponse.classify(
                status: 200, retryAfter: nil, body: Array(#"{"status":"OK"}"#.utf8), endpoint: .import, sent: 5)
                == .unconfirmed(reason: "200 without num_records_imported: OK"))
        // The legacy success, counted: accepted.
        let legacyOK = Array(#"{"code":200,"error":null,"num_records_imported":5,"status":1}"#.utf8)
        #expect(
            IngestionResponse.classify(status: 200, retryAfter: nil, body: legacyOK, endpoint: .import, sent: 5)
                == .accepted)
    }

    static let table: [(Int, String, String?, IngestionOutcome)] = [
        (200, #"{"code":200,"num_records_imported":2000,"status":"OK"}"#, nil, .accepted),
        (200, "", nil, .unconfirmed(reason: "200 with a body that is not JSON: (empty body)")),
        (
            401, #"{"code":401,"error":"Invalid credentials","status":"Unauthorized"}"#, nil,
            .unauthorized(reason: "401: Invalid credentials")
        ),
        (403, #"{"error":"forbidden","status":"error"}"#, nil, .unauthorized(reason: "403: forbidden")),
        (
            413,
            #"{"code":413,"error":"request exceeds max limit of 2097152 bytes","status":"Request Entity Too Large"}"#,
            nil, .tooLarge
        ),
        (
            429,
            #"{"code":429,"error":"Project exceeded rate limits. Please retry the request with exponential backoff.","status":"Too Many Requests"}"#,
            "7",
            .retryable(
                reason: "429: Project exceeded rate limits. Please retry the request with exponential backoff.",
                retryAfterSeconds: 7)
        ),
        (
            429, #"{"error":"Project exceeded rate limits.","status":0}"#, nil,
            .retryable(reason: "429: Project exceeded rate limits.", retryAfterSeconds: nil)
        ),
        (
            503, "upstream connect error or disconnect/reset before headers", nil,
            .retryable(reason: "503: upstream connect error or disconnect/reset before headers", retryAfterSeconds: nil)
        ),
        (502, "", "junk", .retryable(reason: "502: (empty body)", retryAfterSeconds: nil)),
        (408, "", nil, .retryable(reason: "408: (empty body)", retryAfterSeconds: nil)),
        (404, "Not Found", nil, .retryable(reason: "404: Not Found", retryAfterSeconds: nil)),
        (
            400, #"{"code":400,"error":"data, missing or empty","status":0}"#, nil,
            .rejected(reason: "400: data, missing or empty")
        ),
        (400, "<html>bad request</html>", nil, .rejected(reason: "400: <html>bad request</html>")),
        (400, #"{"code":400,"error":"x","failed_records":[]}"#, nil, .rejected(reason: "400: x")),
    ]

    @Test(arguments: table)
    func classifiesImportResponses(status: Int, body: String, retryAfter: String?, expected: IngestionOutcome) {
        #expect(Self.classify(status, body, retryAfter: retryAfter) == expected)
    }

    @Test func parsesStrictPartialFailure() {
        // The production response from mixpanel/mixpanel-utils#40 (INGESTION_API.md 2.5).
        let body =
            #"{"code":400,"error":"some data points in the request failed validation","num_records_imported":999,"status":"Bad Request","failed_records":[{"index":0,"insert_id":"a:b","field":"$insert_id","message":"'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters"},{"index":7,"insert_id":"id-7","field":"properties.time","message":"'properties.time' is invalid: must not be in the future"}]}"#
        #expect(
            Self.classify(400, body)
                == .partial(failed: [
                    FailedRecord(
                        index: 0, insertId: "a:b", field: "$insert_id",
                        message: "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters"),
                    FailedRecord(
                        index: 7, insertId: "id-7", field: "properties.time",
                        message: "'properties.time' is invalid: must not be in the future"),
                ]))
    }

    /// Values of unexpected types read as absent (or, for numbers, as `JSONSerialization`'s
    /// `NSNumber.intValue` read them), never as a body that is not JSON.
    @Test func toleratesOddValueTypes() {
        #expect(
            IngestionResponse.classify(
                status: 200, retryAfter: nil, body: Array(#"{"num_records_imported":5.0,"error":7}"#.utf8),
                endpoint: .import, sent: 5) == .accepted)
        #expect(
            IngestionResponse.classify(
                status: 200, retryAfter: nil, body: Array(#"{"num_records_imported":"5","status":false}"#.utf8),
                endpoint: .import, sent: 5)
                == .unconfirmed(reason: "200 with status 0: {\"num_records_imported\":\"5\",\"status\":false}"))
        #expect(
            Self.classify(400, #"{"error":"x","failed_records":[{"index":1},"junk"]}"#)
                == .rejected(reason: "400 with unreadable failed_records: x"))
        #expect(
            Self.classify(400, #"{"error":"x","failed_records":[{"index":1,"field":null,"message":3}]}"#)
                == .partial(failed: [FailedRecord(index: 1, insertId: nil, field: "", message: "")]))
        #expect(Self.classify(400, #"{"error":"x","failed_records":{"index":1}}"#) == .rejected(reason: "400: x"))
    }

    @Test func acceptsDollarInsertIdKeyAndIntegerStatus() {
        let body =
            #"{"code":400,"status":0,"failed_records":[{"index":"2","$insert_id":"x","field":"event","message":"'event' must not be missing or blank"}]}"#
        #expect(
            Self.classify(400, body)
                == .partial(failed: [
                    FailedRecord(
                        index: 2, insertId: "x", field: "event", message: "'event' must not be missing or blank")
                ]))
    }

    @Test func unreadableFailedRecordsRejectTheBatch() {
        let outcome = Self.classify(400, #"{"error":"e","failed_records":[{"field":"event"}]}"#)
        #expect(outcome == .rejected(reason: "400 with unreadable failed_records: e"))
    }

    /// The server's text is cut to 512 bytes where it is parsed: neither a log line nor a dead
    /// letter built from the outcome can carry more (docs/security.md).
    @Test func theServersTextIsTruncatedWhereItIsParsed() {
        let long = String(repeating: "E", count: 900_000)
        let marker = "...[truncated, 900000 bytes]"
        let cut = String(repeating: "E", count: 512) + marker
        #expect(Self.classify(400, #"{"error":"\#(long)"}"#) == .rejected(reason: "400: \(cut)"))
        #expect(Self.classify(401, #"{"status":"\#(long)"}"#) == .unauthorized(reason: "401: \(cut)"))
        #expect(
            Self.classify(503, long)
                == .retryable(reason: "503: \(cut)", retryAfterSeconds: nil))
        #expect(
            Self.classify(200, #"{"status":0,"error":"\#(long)"}"#, endpoint: .track)
                == .rejected(reason: "track: \(cut)"))
        let records =
            #"{"error":"x","failed_records":[{"index":0,"insert_id":"\#(long)","field":"\#(long)","message":"\#(long)"}]}"#
        #expect(
            Self.classify(400, records)
                == .partial(failed: [FailedRecord(index: 0, insertId: cut, field: cut, message: cut)]))
        guard case .unconfirmed(let reason) = Self.classify(200, "<html>" + long) else {
            Issue.record("expected unconfirmed")
            return
        }
        #expect(reason.utf8.count < 700, "\(reason.utf8.count) bytes")
    }

    static let track: [(Int, String, IngestionOutcome)] = [
        (200, #"{"status":1,"error":null}"#, .accepted),
        (
            200, #"{"status":0,"error":"token, missing or empty"}"#,
            .unauthorized(reason: "track: token, missing or empty")
        ),
        (200, #"{"status":0,"error":"data, missing or empty"}"#, .rejected(reason: "track: data, missing or empty")),
        (
            200, #"{"status":0,"error":"a temporary failure occurred"}"#,
            .retryable(reason: "track: a temporary failure occurred", retryAfterSeconds: nil)
        ),
        (200, "1", .accepted),
        (200, "0\n", .rejected(reason: "track: status 0")),
        (200, "<html>", .retryable(reason: "track: unreadable response <html>", retryAfterSeconds: nil)),
        (401, #"{"error":"Invalid token","status":"error"}"#, .unauthorized(reason: "401: Invalid token")),
    ]

    @Test(arguments: track)
    func classifiesTrackResponses(status: Int, body: String, expected: IngestionOutcome) {
        #expect(Self.classify(status, body, endpoint: .track) == expected)
    }

    @Test func transportErrorsAreRetryable() {
        let error = TransportError(kind: .timeout, code: 28, message: "Timeout was reached")
        #expect(
            IngestionResponse.classify(error)
                == .retryable(
                    reason: "timeout: Timeout was reached (code 28)",
                    retryAfterSeconds: nil))
    }

    @Test func parsesRetryAfterForms() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(IngestionResponse.parseRetryAfter("120", now: now) == 120)
        #expect(IngestionResponse.parseRetryAfter(" 0 ", now: now) == 0)
        #expect(IngestionResponse.parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == 30)
        #expect(IngestionResponse.parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == 0)
        #expect(IngestionResponse.parseRetryAfter("soon", now: now) == nil)
    }

    @Test func readsRetryAfterHeaderCaseInsensitively() {
        let response = HTTPResponse(status: 429, headers: [(name: "retry-after", value: "3")], body: [])
        #expect(
            IngestionResponse.classify(response, endpoint: .import)
                == .retryable(reason: "429: (empty body)", retryAfterSeconds: 3))
        #expect(response.header("Retry-After") == "3")
    }
}
