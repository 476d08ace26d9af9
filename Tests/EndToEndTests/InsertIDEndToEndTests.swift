import Foundation
import Testing

/// Default `$insert_id`s are a function of the bytes alone: `run`, `test` (file, gzip, standard
/// input) and `import` (plain and gzip) of the same lines give the same ids, and those ids are
/// the literal values an independent implementation of docs/rules.md computes, so an upgrade
/// can never re-key a line read again.
@Suite(.serialized) struct InsertIDEndToEndTests {
    /// `FaultEndToEndTests.lines(0..<40)`: 1,390 bytes, so the last lines lie past the first KiB.
    static let content = FaultEndToEndTests.lines(0..<40)

    /// From a few lines of Python over the published FNV-1a parameters (see docs/rules.md), not
    /// from tailship: line 0 (basis over its own 34 bytes), line 1 (over 68 bytes), line 39 (at
    /// offset 1355, basis over the first 1024 bytes).
    static let pinned: [Int: String] = [
        0: "20e2d41f-412e-836d-b2d8-e2a9c312659f",
        1: "fc1295ea-72b0-8707-9ab3-b00a5ec125d2",
        39: "633381e7-d6f3-873a-8690-301efdd2bd6f",
    ]

    /// seq → `$insert_id` of every event in `stdout` (one JSON object per line).
    static func ids(_ stdout: String) throws -> [Int: String] {
        var ids: [Int: String] = [:]
        for line in stdout.split(separator: "\n") {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let properties = try #require(event["properties"] as? [String: Any])
            ids[try #require(properties["seq"] as? Int)] = try #require(properties["$insert_id"] as? String)
        }
        return ids
    }

    @Test func runTestAndImportGiveTheSamePinnedIds() throws {
        let dir = try makeTempDir("e2e-ids")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        // Outside the watched `logs/`: the copies `test` and `import` read.
        let copy = dir + "/app.log.1"
        try append(Self.content, to: copy)
        try gzip(copy, keep: true)

        let fromFile = try TailshipProcess.run(["test", "-c", configPath, copy])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let expected = try Self.ids(fromFile.stdout)
        #expect(expected.count == 40)
        for (seq, id) in Self.pinned { #expect(expected[seq] == id, "line \(seq)") }
        #expect(Set(expected.values).count == 40)
        let fromGzip = try TailshipProcess.run(["test", "-c", configPath, copy + ".gz"])
        #expect(try Self.ids(fromGzip.stdout) == expected, "test of the .gz: \(fromGzip.stderr)")
        let fromStdin = try TailshipProcess.run(["test", "-c", configPath], stdin: Data(Self.content.utf8))
        #expect(try Self.ids(fromStdin.stdout) == expected, "test of standard input: \(fromStdin.stderr)")

        // `run`, on the same bytes written in two steps (a young file that grows past 1 KiB).
        let live = dir + "/logs/app.log"
        try append(FaultEndToEndTests.lines(0..<3), to: live)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 3 })
        try append(FaultEndToEndTests.lines(3..<40), to: live)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 40 }, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)

        // `import` of the plain copy and of its archive: the same events again, deduplicated. One
        // import each: within one process the second file's events are skipped by the dedupe
        // window whenever the first file's were accepted before they were batched (a race, not
        // a property of the ids this test pins).
        for file in [copy, copy + ".gz"] {
            let imported = try TailshipProcess.run(
                ["import", "-c", configPath, file], env: ["E2E_SECRET": FaultEndToEndTests.secret])
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let stored = try server.storedEvents()
        #expect(stored.count == 120, "40 from run, 40 from each import")
        for event in stored {
            let seq = try #require(event.properties["seq"] as? Int)
            #expect(event.insertID == expected[seq], "line \(seq) arrived under another $insert_id")
        }
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<40)
    }
}
