import Foundation
import Testing

@testable import Tailship

@Suite struct ShipDeadLetterTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
    ])
    func formatsTimesAsISO8601(ms: Int64, expected: String) {
        #expect(UTCTimestamp.string(ms: ms) == expected)
    }

    @Test func appendsDurableParseableLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ship-dl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = DeadLetterWriter(stateDir: dir)
        let pending = ShipShipperTests.pending(4)
        let letter = DeadLetter(
            reason: .localValidation, field: "$insert_id", message: "must only contain \"alnum\"",
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
        let letter = DeadLetter(
            reason: .apiRejected, field: "", message: "m", origin: pending.origin, rawLine: "",
            eventJSON: [], timeMs: 0)
        #expect(throws: SyscallError.self) { try writer.write([letter]) }
    }

    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ship-dl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func letter(_ n: Int) -> DeadLetter {
        DeadLetter(
            reason: .apiRejected, field: "properties.time", message: "letter \(n)",
            origin: ShipShipperTests.pending(n).origin, rawLine: String(repeating: "x", count: 100),
            eventJSON: [], timeMs: 0)
    }

    @Test func rotatesPastTheCapKeepingTheNewestFiles() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lineBytes = Self.letter(0).line().count
        // Three letters fit under the cap, the fourth rotates: files hold 3 letters each.
        let writer = DeadLetterWriter(stateDir: dir, maxBytes: 3 * lineBytes + lineBytes / 2, rotations: 2)
        for n in 0..<14 { try writer.write([Self.letter(n)]) }
        func messages(_ suffix: String) throws -> [String] {
            try String(contentsOfFile: writer.path + suffix, encoding: .utf8).split(separator: "\n").map {
                let object = try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                return try #require(object["message"] as? String)
            }
        }
        #expect(try messages("") == ["letter 12", "letter 13"])
        #expect(try messages(".1") == ["letter 9", "letter 10", "letter 11"])
        #expect(try messages(".2") == ["letter 6", "letter 7", "letter 8"])
        #expect(!FileManager.default.fileExists(atPath: writer.path + ".3"), "only 2 rotations are kept")
        for suffix in ["", ".1", ".2"] {
            let size = try FileManager.default.attributesOfItem(atPath: writer.path + suffix)[.size] as! Int
            #expect(size <= writer.maxBytes)
        }
        #expect(try DeadLetterWriter.count(stateDir: dir) == 8)
    }

    @Test func aLetterLargerThanTheCapLandsAloneAndCut() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A cap below the smallest the configuration allows: even cut, a letter does not fit,
        // and is written alone in a fresh file rather than dropped.
        let writer = DeadLetterWriter(stateDir: dir, maxBytes: 10)
        try writer.write([Self.letter(1), Self.letter(2)])
        try writer.write([Self.letter(3)])
        for (suffix, n) in [(".2", 1), (".1", 2), ("", 3)] {
            let lines = try String(contentsOfFile: writer.path + suffix, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.contains("\"letter \(n)\"") == true)
            #expect(lines.first?.contains("\"truncated\":true") == true)
        }
        #expect(try DeadLetterWriter.count(stateDir: dir) == 3)
    }

    @Test func countsCompleteLinesOfEveryRotatedFile() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try DeadLetterWriter.count(stateDir: dir) == 0)
        #expect(try DeadLetterWriter.count(stateDir: dir + "/missing") == 0)
        let base = DeadLetterWriter.path(stateDir: dir)
        try "a\nb\n".write(toFile: base, atomically: true, encoding: .utf8)
        try "c\n".write(toFile: base + ".1", atomically: true, encoding: .utf8)
        // Kept by an earlier run with more rotations; a torn last line (crash mid-write) is no letter.
        try "d\ne\npartial".write(toFile: base + ".7", atomically: true, encoding: .utf8)
        try "ignored\n".write(toFile: base + ".bak", atomically: true, encoding: .utf8)
        #expect(try DeadLetterWriter.count(stateDir: dir) == 5)
    }

    @Test func capComesFromTheDestinationConfig() throws {
        let text = minimalConfig.replacingOccurrences(
            of: "destination:\n", with: "destination:\n  dead_letter_max_bytes: 1MiB\n")
        let config = try ConfigLoader.parse(text: text, file: "agent.yaml", environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.destination.deadLetterMaxBytes == 1024 * 1024)
        let defaults = try ConfigLoader.parse(
            text: minimalConfig, file: "agent.yaml",
            environment: ["MIXPANEL_SECRET": "s"])
        #expect(defaults.destination.deadLetterMaxBytes == 64 * 1024 * 1024)
        let tiny = minimalConfig.replacingOccurrences(
            of: "destination:\n", with: "destination:\n  dead_letter_max_bytes: 100\n")
        #expect(
            configProblems(tiny) == [
                "agent.yaml:2:26: 'dead_letter_max_bytes' must be between 4096 and 1073741824, got '100'"
            ])
    }
}
