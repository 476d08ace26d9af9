import Foundation
import Testing

@testable import Tailship

/// `/track` token errors: a credentials problem, so the batch pauses instead of being
/// dead-lettered, and a reloaded token re-encodes it with the same dedup keys.
@Suite struct ShipTrackTokenTests {
    static let tokenError = #"{"status":0,"error":"token, missing or empty"}"#

    static func properties(_ request: ShipTestServer.Request) throws -> [[String: Any]] {
        try request.events().map { try #require($0["properties"] as? [String: Any]) }
    }

    @Test func tokenErrorPausesAndAReloadedTokenReencodesTheBatch() throws {
        let server = try ShipTestServer(script: [["body": Self.tokenError], ["body": Self.tokenError]])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try ShipShipperTests.shipper(
            ShipShipperTests.destination(server.baseURL, api: .track), recorder)
        shipper.submit((0..<3).map { ShipShipperTests.pending($0) })
        shipper.flush()
        let deadline = Date(timeIntervalSinceNow: 10)
        while try server.requests().isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        var fixed = ShipShipperTests.credentials
        fixed.token = "new-tok"
        shipper.update(credentials: fixed)
        #expect(recorder.wait(for: 3))
        #expect(shipper.stop(deadline: Date(timeIntervalSinceNow: 5)))

        #expect(recorder.segments(.accepted) == [0, 1, 2], "nothing dead-lettered for a token error")
        #expect(try ShipShipperTests.deadLetters(stateDir).isEmpty)
        let requests = try server.requests()
        #expect(requests.count == 3)
        let first = try Self.properties(requests[0])
        let last = try Self.properties(requests[requests.count - 1])
        #expect(first.map { $0["token"] as? String } == ["tok", "tok", "tok"])
        #expect(last.map { $0["token"] as? String } == ["new-tok", "new-tok", "new-tok"])
        // Re-encoded, yet the same events to the API's dedup: time and $insert_id unchanged.
        #expect(first.map { $0["$insert_id"] as? String } == last.map { $0["$insert_id"] as? String })
        #expect(
            first.map { ($0["time"] as? NSNumber)?.int64Value } == last.map { ($0["time"] as? NSNumber)?.int64Value })
    }

    @Test func newEventsCarryAReloadedToken() throws {
        let server = try ShipTestServer()
        let recorder = AckRecorder()
        let (shipper, _) = try ShipShipperTests.shipper(
            ShipShipperTests.destination(server.baseURL, api: .track), recorder)
        shipper.submit([ShipShipperTests.pending(0)])
        shipper.flush()
        #expect(recorder.wait(for: 1))
        var fixed = ShipShipperTests.credentials
        fixed.token = "rotated"
        shipper.update(credentials: fixed)
        shipper.submit([ShipShipperTests.pending(1)])
        shipper.flush()
        #expect(recorder.wait(for: 2))
        shipper.stop(deadline: Date(timeIntervalSinceNow: 5))
        let tokens = try server.requests().flatMap { try Self.properties($0).map { $0["token"] as? String } }
        #expect(tokens == ["tok", "rotated"])
    }
}
