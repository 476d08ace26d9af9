import Foundation
import Testing

@testable import Tailship

/// libcurl against a real HTTP server on 127.0.0.1.
@Suite struct ShipTransportTests {
    @Test func postsBodyHeadersAndBasicAuth() throws {
        let server = try ShipTestServer(script: [
            ["status": 429, "headers": ["Retry-After": "2", "X-Other": "y"], "body": "slow down"]
        ])
        let transport = try CurlTransport()
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
        let transport = try CurlTransport()
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
        let result = try CurlTransport().post(
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
        let refused = try CurlTransport().post(
            url: "http://127.0.0.1:1/import", body: [], headers: [], basicAuth: nil,
            timeoutMs: 2000, connectTimeoutMs: 1000)
        #expect((try? refused.get()) == nil)
        if case .failure(let error) = refused { #expect(error.kind == .connect) }

        let server = try ShipTestServer(script: [["delay_ms": 2000]])
        let slow = try CurlTransport().post(
            url: server.baseURL + "/import", body: [], headers: [], basicAuth: nil,
            timeoutMs: 300, connectTimeoutMs: 300)
        if case .failure(let error) = slow { #expect(error.kind == .timeout) } else { Issue.record("expected timeout") }
    }

    @Test func abortStopsATransferInProgress() throws {
        let server = try ShipTestServer(script: [["delay_ms": 3000]])
        let transport = try CurlTransport()
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { transport.abort() }
        let result = transport.post(
            url: server.baseURL + "/import", body: [], headers: [], basicAuth: nil,
            timeoutMs: 10_000, connectTimeoutMs: 1000)
        if case .failure(let error) = result { #expect(error.kind == .aborted) } else { Issue.record("expected abort") }
        #expect(Date().timeIntervalSince(started) < 2.5)
    }
}
