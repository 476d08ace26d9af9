import Foundation
import Testing

@testable import Tailship

/// `/track` token errors: a credentials problem, so the batch pauses and retries the same bytes
/// instead of being dead-lettered; every event carries the token.
@Suite struct ShipTrackTokenTests {
    static let tokenError = #"{"status":0,"error":"token, missing or empty"}"#

    static func properties(_ request: ShipTestServer.Request) throws -> [[String: Any]] {
        try request.events().map { try #require($0["properties"] as? [String: Any]) }
    }

    @Test func aTokenErrorRetriesTheSameBytesAndNeverDeadLetters() throws {
        let server = try ShipTestServer(script: [["body": Self.tokenError], ["body": Self.tokenError]])
        let recorder = AckRecorder()
        let (shipper, stateDir) = try ShipShipperTests.shipper(
            ShipShipperTests.destination(server.baseURL, api: .track), recorder)
        shipper.submit((0..<3).map { ShipShipperTests.pending($0, baseMs: ShipShipperTests.recentMs) })
        shipper.flush()
        #expect(recorder.wait(for: 3))
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        #expect(recorder.segments(.accepted) == [0, 1, 2], "nothing dead-lettered for a token error")
        #expect(try ShipShipperTests.deadLetters(stateDir).isEmpty)
        let requests = try server.requests()
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.body == requests[0].body }, "every attempt sends the same bytes")
        #expect(requests.allSatisfy { $0.path == "/track?verbose=1" && $0.headers["authorization"] == nil })
        let first = try Self.properties(requests[0])
        #expect(first.map { $0["token"] as? String } == ["tok", "tok", "tok"])
    }
}
