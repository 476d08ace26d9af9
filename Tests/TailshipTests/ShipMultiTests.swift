import Foundation
import Testing

@testable import Tailship

/// Several batches in flight over libcurl's multi interface, against the real HTTP server.
@Suite struct ShipMultiTests {
    static func destination(_ url: String, maxInFlight: Int, maxEvents: Int = 5, maxBackoffMs: Int = 200)
        -> DestinationConfig
    {
        var destination = ShipShipperTests.destination(url, maxEvents: maxEvents)
        destination.maxInFlight = maxInFlight
        destination.retry = RetryConfig(initialBackoffMs: 50, maxBackoffMs: maxBackoffMs)
        return destination
    }

    @Test func requestsOverlapUpToMaxInFlight() throws {
        // Every answer takes 800 ms: one after the other, three would take 2.4 s.
        let server = try ShipTestServer(script: Array(repeating: ["delay_ms": 800], count: 3))
        let recorder = AckRecorder()
        let (shipper, _) = try ShipShipperTests.shipper(Self.destination(server.baseURL, maxInFlight: 3), recorder)
        let started = Date()
        shipper.submit((0..<15).map { ShipShipperTests.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 15))
        #expect(Date().timeIntervalSince(started) < 2.0)
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        let requests = try server.requests()
        #expect(requests.count == 3)
        let times = requests.map(\.time)
        #expect(times.max()! - times.min()! < 0.5, "all three were sent before any answer came")
        #expect(recorder.segments(.accepted) == (0..<15).map(UInt64.init))
    }

    @Test func aBatchWaitingForItsRetryDoesNotHoldUpTheOthers() throws {
        let server = try ShipTestServer(script: [["status": 429, "headers": ["Retry-After": "2"], "body": "slow down"]])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try ShipShipperTests.shipper(
            Self.destination(server.baseURL, maxInFlight: 2), recorder)
        shipper.submit((0..<10).map { ShipShipperTests.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 5, timeout: 1.5), "the other batch went through during the 2 s wait")
        #expect(recorder.wait(for: 10))
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        let requests = try server.requests()
        #expect(requests.count == 3)
        #expect(requests[2].time - requests[0].time >= 1.9)
        #expect(requests[2].body == requests[0].body, "the retry resends the same bytes")
        #expect(try ShipShipperTests.deadLetters(stateDir).isEmpty)
    }

    @Test func connectionsAreReusedAcrossBatches() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let (shipper, _) = try ShipShipperTests.shipper(Self.destination(server.baseURL, maxInFlight: 2), recorder)
        for round in 0..<6 {
            shipper.submit((round * 5..<round * 5 + 5).map { ShipShipperTests.pending($0) })
            shipper.flush()
            #expect(recorder.wait(for: round * 5 + 5))
        }
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        let ports = Set(try server.requests().map(\.clientPort))
        #expect(try server.requests().count == 6)
        #expect(ports.count == 1, "one kept-alive connection for sequential batches, got \(ports)")
    }

    /// 401: no further batch is started, the refused one retries at the longest backoff, and
    /// nothing is acknowledged or dead-lettered. New credentials come with a reload, which
    /// replaces the shipper: this one, stopped, gives its events up unacknowledged (they are
    /// read again by the next pipeline), at once rather than after the backoff.
    @Test func refusedCredentialsPauseAllShippingAndAreNeverAcknowledged() throws {
        let unauthorized: [String: Any] = ["status": 401, "body": #"{"error":"Invalid credentials"}"#]
        let server = try ShipTestServer(script: [unauthorized, unauthorized, unauthorized])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try ShipShipperTests.shipper(
            Self.destination(server.baseURL, maxInFlight: 4, maxBackoffMs: 30_000), recorder)
        shipper.submit((0..<5).map { ShipShipperTests.pending($0) })
        shipper.flush()
        let deadline = Date(timeIntervalSinceNow: 10)
        while try server.requests().isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: 0.1)
        // More batches while paused: none of them may be sent.
        shipper.submit((5..<15).map { ShipShipperTests.pending($0) })
        shipper.flush()
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try server.requests().count == 1)
        #expect(recorder.all.isEmpty)
        let stopping = Date()
        #expect(!shipper.stop(deadline: .now + .seconds(10)))
        #expect(Date().timeIntervalSince(stopping) < 3, "a stop does not wait out the 30 s backoff")
        #expect(recorder.all.isEmpty, "refused credentials never acknowledge an event")
        #expect(try ShipShipperTests.deadLetters(stateDir).isEmpty)
    }

    /// New credentials while a request made with the old ones is in flight: its late 401 answers
    /// the old credentials, so shipping is not paused for it and the batch is retried at once
    /// with the new ones, not after the longest backoff (30 s here).
    @Test func aLateRefusalOfReplacedCredentialsIsRetriedAtOnceWithoutPausing() throws {
        let late: [String: Any] = ["status": 401, "delay_ms": 800, "body": #"{"error":"Invalid credentials"}"#]
        let server = try ShipTestServer(script: [late])
        let recorder = AckRecorder()
        let (shipper, _) = try ShipShipperTests.shipper(
            Self.destination(server.baseURL, maxInFlight: 2, maxBackoffMs: 30_000), recorder)
        shipper.submit((0..<5).map { ShipShipperTests.pending($0) })
        shipper.flush()
        Thread.sleep(forTimeInterval: 0.3)  // the first request is out, its answer 0.5 s away
        var rotated = ShipShipperTests.credentials
        rotated.basicPassword = "rotated-secret"
        shipper.update(credentials: rotated)
        #expect(recorder.wait(for: 5, timeout: 5), "retried at once with the new credentials")
        shipper.submit((5..<10).map { ShipShipperTests.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 10, timeout: 5), "not paused by the old credentials' refusal")
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        let requests = try server.requests().sorted { $0.time < $1.time }
        #expect(requests.count == 3)
        let auth = requests.map { $0.headers["Authorization"] ?? $0.headers["authorization"] ?? "" }
        #expect(auth[0] != auth[1] && auth[1] == auth[2], "the retry and the next batch carry the new secret")
    }
}
