import Foundation
import Testing
@testable import Tailship

@Suite struct ShipDeadLetterTests {
    @Test(arguments: [(Int64(0), "1970-01-01T00:00:00.000Z"), (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
                      (951_782_400_000, "2000-02-29T00:00:00.000Z")])
    func formatsTimesAsISO8601(ms: Int64, expected: String) {
        #expect(DeadLetter.iso8601(ms: ms) == expected)
    }

    @Test func appendsDurableParseableLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ship-dl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = DeadLetterWriter(stateDir: dir)
        let pending = ShipShipperTests.pending(4)
        let letter = DeadLetter(reason: .localValidation, field: "$insert_id", message: "must only contain \"alnum\"",
                                origin: pending.origin, rawLine: "tab\there \u{1}", eventJSON: [],
                                timeMs: 1_700_000_000_123)
        try writer.write([letter])
        try writer.write([letter, letter])
        let text = try String(contentsOfFile: writer.path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        let parsed = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(parsed["reason"] as? String == "local_validation")
        #expect(parsed["message"] as? String == "must only contain \"alnum\"")
        #expect(parsed["line"] as? String == "tab\there \u{1}")
        #expect(parsed["event"] is NSNull)
        #expect(parsed["time"] as? String == "2023-11-14T22:13:20.123Z")
        #expect((parsed["offset"] as? NSNumber)?.intValue == 400)
    }

    @Test func reportsAnUnwritableDirectory() {
        let writer = DeadLetterWriter(stateDir: "/nonexistent-\(UUID().uuidString)")
        let pending = ShipShipperTests.pending(1)
        let letter = DeadLetter(reason: .apiRejected, field: "", message: "m", origin: pending.origin, rawLine: "",
                                eventJSON: [], timeMs: 0)
        #expect(throws: FileError.self) { try writer.write([letter]) }
    }
}
