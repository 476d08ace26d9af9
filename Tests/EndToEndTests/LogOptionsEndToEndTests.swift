import Foundation
import Testing

/// `--log-format json` and `--log-level` on `run` and `import`, and the per-minute `agent.stats`
/// line at the default level, against the real binary and the fake API.
@Suite(.serialized) struct LogOptionsEndToEndTests {
    static let secret = FaultEndToEndTests.secret

    static func writeConfig(dir: String, port: Int) throws -> String {
        let path = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: port, startAt: "")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every line of `text` as a JSON object (an issue recorded for each that is not one).
    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if object == nil { Issue.record("not a JSON object: \(line)") }
            return object
        }
    }

    @Test func jsonLinesParseOneByOneAndTheStatsLineComesEveryMinuteAtTheDefaultLevel() throws {
        let dir = try makeTempDir("e2e-log-json")
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, port: server.port)
        // A name a log line must carry intact: a quote, a tab, a newline, an escape character.
        let odd = dir + "/logs/we\"ird\t\n\u{1B}[31m.log"
        try append("", to: odd)
        let agent = try AgentProcess(
            config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log",
            arguments: ["--log-format", "json"])
        // `start_at: end`: lines go in once the file is open.
        #expect(eventually { agent.log.contains("\"name\":\"tail.file_opened\"") }, "\(agent.log)")
        try append(FaultEndToEndTests.lines(0..<5), to: odd)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 5 })
        #expect(eventually(timeout: 75) { agent.log.contains("\"name\":\"agent.stats\"") }, "\(agent.log)")
        #expect(agent.terminate() == 0)
        let records = Self.jsonLines(agent.log)
        #expect(records.count == agent.log.split(separator: "\n").count)
        for record in records {
            #expect(record["ts"] is String && record["level"] is String && record["name"] is String, "\(record)")
        }
        let started = try #require(records.first { $0["name"] as? String == "agent.started" })
        #expect(started["level"] as? String == "info" && started["config"] as? String == config)
        let opened = records.first { $0["name"] as? String == "tail.file_opened" }
        #expect(opened?["file.path"] as? String == odd, "\(String(describing: opened))")
        // Every minute at info, the default level: the counters, shipping included.
        let stats = try #require(records.first { $0["name"] as? String == "agent.stats" })
        #expect(stats["level"] as? String == "info")
        #expect(stats["lines.read"] as? String == "5" && stats["events.delivered"] as? String == "5", "\(stats)")
        #expect(records.contains { $0["name"] as? String == "agent.stopped" && $0["lines.read"] as? String == "5" })
        // No raw control character reached the log.
        #expect(!agent.log.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func logLevelDebugShowsDebugLinesAndTheDefaultDoesNot() throws {
        let dir = try makeTempDir("e2e-log-level")
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, port: server.port)
        let log = dir + "/logs/app.log"
        try append("", to: log)
        let debug = try AgentProcess(
            config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/debug.log",
            arguments: ["--log-level", "debug"])
        #expect(eventually { debug.log.contains("tail.file_opened") }, "\(debug.log)")
        try append(FaultEndToEndTests.lines(0..<5), to: log)
        #expect(eventually { debug.log.contains(" debug ship.batch_accepted batch.bytes=") }, "\(debug.log)")
        #expect(debug.terminate() == 0)

        let plain = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/info.log")
        #expect(eventually { plain.log.contains("tail.file_opened") }, "\(plain.log)")
        try append(FaultEndToEndTests.lines(5..<10), to: log)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 10 })
        #expect(plain.terminate() == 0)
        #expect(plain.log.contains(" info agent.stopped "))
        #expect(!plain.log.contains(" debug "))

        let bad = try TailshipProcess.run(["run", "-c", config, "--log-format", "xml"])
        #expect(bad.status == 64 && bad.stderr.contains("unknown log format 'xml'"), "\(bad.stderr)")
    }

    @Test func importTakesTheLogOptionsToo() throws {
        let dir = try makeTempDir("e2e-log-import")
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, port: server.port)
        let input = dir + "/old.log"
        try append(FaultEndToEndTests.lines(0..<3), to: input)
        let quiet = try TailshipProcess.run(["import", "-c", config, input], env: ["E2E_SECRET": Self.secret])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("import.finished"))
        try append(FaultEndToEndTests.lines(3..<6), to: input)
        let loud = try TailshipProcess.run(
            ["import", "-c", config, "--log-level", "info", "--log-format", "json", input],
            env: ["E2E_SECRET": Self.secret])
        #expect(loud.status == 0, "\(loud.stderr)")
        let finished = Self.jsonLines(loud.stderr).first { $0["name"] as? String == "import.finished" }
        #expect(finished?["level"] as? String == "info", "\(loud.stderr)")
        #expect(try server.storedEvents(dedup: true).count == 6)
    }
}
