import Foundation
import Testing

@testable import Tailship

extension CurlMultiTransport {
    /// Sends one request and polls until it completes, as `DeliveryLoop` drives the shipper's
    /// own transport.
    func post(
        url: String, body: [UInt8], headers: [String], basicAuth: (user: String, password: String)?,
        timeoutMs: Int, connectTimeoutMs: Int
    ) -> Result<HTTPResponse, TransportError> {
        start(
            HTTPRequest(
                url: url, body: body, headers: headers, basicAuth: basicAuth, timeoutMs: timeoutMs,
                connectTimeoutMs: connectTimeoutMs), tag: 7)
        while true {
            if let finished = poll(timeoutMs: 200).first { return finished.result }
        }
    }
}

/// libcurl (the shipper's multi transport, one request at a time) against a real HTTP server
/// on 127.0.0.1.
@Suite struct ShipTransportTests {
    @Test func postsBodyHeadersAndBasicAuth() throws {
        let server = try ShipTestServer(script: [
            ["status": 429, "headers": ["Retry-After": "2", "X-Other": "y"], "body": "slow down"]
        ])
        let transport = try CurlMultiTransport(maxInFlight: 1, caFile: nil)
        let body = Array(#"[{"event":"e"}]"#.utf8)
        let result = transport.post(
            url: server.baseURL + "/import?strict=1", body: body,
            headers: ["Content-Type: application/json", "User-Agent: tailship/test"],
            basicAuth: (user: "user", password: "p@ss:word"), timeoutMs: 5000,
            connectTimeoutMs: 2000)
        let response = try result.get()
        #expect(response.status == 429)
        #expect(response.header("Retry-After") == "2")
        #expect(response.header("x-other") == "y")
        #expect(response.body == Array("slow down".utf8))
        let requests = try server.requests()
        #expect(requests.count == 1)
        #expect(requests[0].path == "/import?strict=1")
        #expect(requests[0].body == body)
        #expect(requests[0].headers["content-type"] == "application/json")
        #expect(requests[0].headers["user-agent"] == "tailship/test")
        #expect(requests[0].headers["expect"] == nil)
        let expectedAuth = "Basic " + Data("user:p@ss:word".utf8).base64EncodedString()
        #expect(requests[0].headers["authorization"] == expectedAuth)
    }

    @Test func reusesTheHandleAndSendsEmptyBodies() throws {
        let server = try ShipTestServer()
        let transport = try CurlMultiTransport(maxInFlight: 1, caFile: nil)
        for size in [0, 3, 200_000] {
            let body = [UInt8](repeating: 0x61, count: size)
            let response = try transport.post(
                url: server.baseURL + "/import", body: body, headers: [], basicAuth: nil,
                timeoutMs: 5000, connectTimeoutMs: 2000
            ).get()
            #expect(response.status == 200)
        }
        let requests = try server.requests()
        #expect(requests.map(\.body.count) == [0, 3, 200_000])
        #expect(requests.allSatisfy { $0.headers["authorization"] == nil })
    }

    @Test func reportsAConnectionClosedWithoutAnswerAsReset() throws {
        let server = try ShipTestServer(script: [["drop": true]])
        let result = try CurlMultiTransport(maxInFlight: 1, caFile: nil).post(
            url: server.baseURL + "/import", body: [1], headers: [], basicAuth: nil,
            timeoutMs: 5000, connectTimeoutMs: 2000)
        guard case .failure(let error) = result else {
            Issue.record("expected a transport error, got \(result)")
            return
        }
        #expect(error.kind == .reset)
        #expect(IngestionResponse.classify(error) == .retryable(reason: error.description, retryAfterSeconds: nil))
    }

    @Test func reportsRefusedConnectionAndTimeout() throws {
        // Port 1 on loopback: nothing listens there.
        let refused = try CurlMultiTransport(maxInFlight: 1, caFile: nil).post(
            url: "http://127.0.0.1:1/import", body: [], headers: [], basicAuth: nil,
            timeoutMs: 2000, connectTimeoutMs: 1000)
        #expect((try? refused.get()) == nil)
        if case .failure(let error) = refused { #expect(error.kind == .connect) }

        let server = try ShipTestServer(script: [["delay_ms": 2000]])
        let slow = try CurlMultiTransport(maxInFlight: 1, caFile: nil).post(
            url: server.baseURL + "/import", body: [], headers: [], basicAuth: nil,
            timeoutMs: 300, connectTimeoutMs: 300)
        if case .failure(let error) = slow { #expect(error.kind == .timeout) } else { Issue.record("expected timeout") }
    }

    /// At the stop deadline the shipper drops what is in flight (`cancelAll`): nothing completes
    /// afterwards, and the transport still works.
    @Test func cancelAllDropsATransferInProgress() throws {
        let server = try ShipTestServer(script: [["delay_ms": 3000]])
        let transport = try CurlMultiTransport(maxInFlight: 1, caFile: nil)
        transport.start(
            HTTPRequest(
                url: server.baseURL + "/import", body: [], headers: [], basicAuth: nil, timeoutMs: 10_000,
                connectTimeoutMs: 1000), tag: 1)
        #expect(transport.poll(timeoutMs: 300).isEmpty)
        transport.cancelAll()
        let started = Date()
        #expect(transport.poll(timeoutMs: 500).isEmpty)
        #expect(Date().timeIntervalSince(started) < 2)
        let again = transport.post(
            url: server.baseURL + "/import", body: [1], headers: [], basicAuth: nil, timeoutMs: 5000,
            connectTimeoutMs: 1000)
        #expect((try? again.get())?.status == 200)
    }

    /// A hostile server's answer is read up to the cap and no further: announced too long,
    /// unsized, or chunked forever, it ends as a `response_too_large` failure (retried like a
    /// 5xx), and the handle works again for the next request.
    @Test(arguments: [
        ("stream_bytes", 800_000_000), ("stream_bytes", ResponseSink.maxBodyBytes + 1),
        ("unsized_bytes", 800_000_000), ("endless", 1), ("header_count", 5000),
    ])
    func anAnswerOverTheCapIsAFailedAttempt(key: String, value: Int) throws {
        let server = try ShipTestServer(script: [[key: value]])
        let transport = try CurlMultiTransport(maxInFlight: 1, caFile: nil)
        let started = Date()
        let result = transport.post(
            url: server.baseURL + "/import", body: [1], headers: [], basicAuth: nil, timeoutMs: 20_000,
            connectTimeoutMs: 2000)
        #expect(Date().timeIntervalSince(started) < 10, "the transfer ran to its timeout")
        guard case .failure(let error) = result else {
            Issue.record("expected response_too_large, got \(result)")
            return
        }
        #expect(error.kind == .responseTooLarge, "\(error)")
        #expect(error.description.hasPrefix("response_too_large: "))
        guard case .retryable = IngestionResponse.classify(error) else {
            Issue.record("not retryable")
            return
        }
        let again = transport.post(
            url: server.baseURL + "/import", body: [1], headers: [], basicAuth: nil, timeoutMs: 5000,
            connectTimeoutMs: 1000)
        #expect((try? again.get())?.status == 200)
    }

    /// Exactly the cap is still an answer.
    @Test func anAnswerOfExactlyTheCapIsRead() throws {
        let server = try ShipTestServer(script: [["stream_bytes": ResponseSink.maxBodyBytes]])
        let response = try CurlMultiTransport(maxInFlight: 1, caFile: nil).post(
            url: server.baseURL + "/import", body: [1], headers: [], basicAuth: nil, timeoutMs: 10_000,
            connectTimeoutMs: 2000
        ).get()
        #expect(response.status == 200)
        #expect(response.body.count == ResponseSink.maxBodyBytes)
    }

    /// Ordinary headers (a proxy adds a dozen) are well within the header cap.
    @Test func ahundredHeadersAreRead() throws {
        let server = try ShipTestServer(script: [["header_count": 100]])
        let response = try CurlMultiTransport(maxInFlight: 1, caFile: nil).post(
            url: server.baseURL + "/import", body: [1], headers: [], basicAuth: nil, timeoutMs: 10_000,
            connectTimeoutMs: 2000
        ).get()
        #expect(response.status == 200)
        #expect(response.header("x-pad-99")?.count == 90)
    }
}
