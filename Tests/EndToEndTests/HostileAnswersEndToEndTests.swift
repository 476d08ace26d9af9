import Foundation
import Testing

/// A hostile or broken API (docs/security.md, "Answers from the server"): the agent reads at
/// most 1 MiB of any answer, retries an answer it cannot read like a 5xx, and keeps at most
/// 512 bytes of the server's text for its logs and dead letters.
@Suite(.serialized) struct HostileAnswersEndToEndTests {
    /// Default settings (`start_at: end`, four requests in flight) but for small batches and fast
    /// retries, so that several batches meet the hostile answer at once.
    static func config(dir: String, port: Int) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          max_in_flight: 4
          batch: { max_events: 50, flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
        """
    }

    /// Starts the agent on `config(dir:port:)`, waits for it, and writes `count` lines into a file
    /// that appears while it runs (read from its first byte, as with the default `start_at: end`).
    static func startWriting(
        dir: String, server: IngestServer, count: Int, binary: URL = TailshipProcess.binary
    ) throws -> AgentProcess {
        let configPath = dir + "/agent.yaml"
        try config(dir: dir, port: server.port).write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log",
            binary: binary)
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        usleep(300_000)
        try append(FaultEndToEndTests.lines(0..<count), to: dir + "/logs/app.log")
        return agent
    }

    /// The longest line of the agent's log, in bytes.
    static func longestLogLine(_ agent: AgentProcess) -> Int {
        agent.log.split(separator: "\n").map(\.utf8.count).max() ?? 0
    }

    static func hostileAnswers(_ server: IngestServer) throws -> Int {
        try server.stats()["hostile_answers"] as? Int ?? 0
    }

    /// 800 MB announced, 800 MB unannounced, and a chunked body that never ends: each attempt
    /// reads at most 1 MiB and fails as `response_too_large`; the release binary stays under
    /// 64 MiB with four such answers in flight, and once the API answers normally every line
    /// arrives exactly once.
    @Test(
        .enabled(
            if: OutageMemoryEndToEndTests.releaseBinary != nil,
            "TAILSHIP_RELEASE_BIN is not set: it names the release binary this test measures (scripts/test.sh builds it)"
        ),
        arguments: ["huge", "unsized", "endless"])
    func answersTooBigToHoldKeepMemoryBoundedAndLoseNoLine(mode: String) throws {
        let release = try #require(OutageMemoryEndToEndTests.releaseBinary)
        let dir = try makeTempDir("e2e-hostile-\(mode)")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        try server.setConfig(["hostile": mode])
        let count = 1000
        let agent = try Self.startWriting(
            dir: dir, server: server, count: count, binary: URL(fileURLWithPath: release))
        let pid = agent.process.processIdentifier
        var peakKiB = 0
        let started = Date()
        while Date().timeIntervalSince(started) < 8 {
            peakKiB = max(peakKiB, ChaosEndToEndTests.rssKiB(pid))
            usleep(50_000)
        }
        let answers = try Self.hostileAnswers(server)
        #expect(answers >= 8, "only \(answers) hostile answers; log:\n\(agent.log.suffix(3000))")
        #expect(try server.stats()["events_accepted"] as? Int ?? 0 == 0)
        #expect(agent.log.contains("response_too_large"), "log:\n\(agent.log.suffix(3000))")
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/dead-letters.ndjson"), "nothing is given up")

        try server.setConfig(["hostile": NSNull()])
        let caughtUp = try eventually(timeout: 60) {
            peakKiB = max(peakKiB, ChaosEndToEndTests.rssKiB(pid))
            return try server.storedEvents(dedup: true).count >= count
        }
        print(
            "hostile answer \(mode): \(answers) answers in 8 s, peak RSS \(peakKiB / 1024) MiB (\(peakKiB) KiB), "
                + "longest log line \(Self.longestLogLine(agent)) bytes")
        #expect(caughtUp, "log tail:\n\(agent.log.suffix(3000))")
        usleep(600_000)
        #expect(agent.terminate() == 0)
        #expect(peakKiB > 0, "VmRSS was never read")
        #expect(peakKiB < OutageMemoryEndToEndTests.limitKiB, "peak RSS \(peakKiB) KiB with \(mode) answers")
        #expect(Self.longestLogLine(agent) < 2048)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<count)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A 400 whose `error` is 2 MB is over the cap: unread, retried, nothing dead-lettered, and
    /// every line delivered once the API answers normally. One of 600 kB is read: the batch is
    /// dead-lettered as the API asks, each dead letter and log line holding 512 bytes of it.
    @Test(arguments: [2_000_000, 600_000])
    func aLongErrorTextStaysOutOfLogsAndDeadLetters(errorBytes: Int) throws {
        let dir = try makeTempDir("e2e-long-error")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        try server.setConfig(["hostile": "long_error", "hostile_bytes": errorBytes])
        let count = 200
        let agent = try Self.startWriting(dir: dir, server: server, count: count)
        let letters = dir + "/state/dead-letters.ndjson"
        func deadLetterLines() -> [Substring] {
            ((try? String(contentsOfFile: letters, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        if errorBytes > 1_048_576 {
            #expect(eventually(timeout: 15) { (try? Self.hostileAnswers(server)) ?? 0 >= 6 })
            #expect(agent.log.contains("response_too_large"), "log:\n\(agent.log.suffix(3000))")
            #expect(deadLetterLines().isEmpty)
            try server.setConfig(["hostile": NSNull()])
            #expect(
                try eventually(timeout: 30) { try server.storedEvents(dedup: true).count >= count },
                "log tail:\n\(agent.log.suffix(3000))")
            try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<count)
        } else {
            #expect(eventually(timeout: 30) { deadLetterLines().count >= count }, "log:\n\(agent.log.suffix(3000))")
            let lines = deadLetterLines()
            #expect(lines.count == count)
            #expect(lines.allSatisfy { $0.utf8.count < 2048 }, "longest \(lines.map(\.utf8.count).max() ?? 0)")
            let first = try #require(
                try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
            let message = try #require(first["message"] as? String)
            #expect(message == "400: " + String(repeating: "E", count: 512) + "...[truncated, \(errorBytes) bytes]")
            #expect(agent.log.contains("...[truncated, \(errorBytes) bytes]"))
        }
        #expect(agent.terminate() == 0)
        #expect(Self.longestLogLine(agent) < 2048, "a log line of \(Self.longestLogLine(agent)) bytes")
        try? FileManager.default.removeItem(atPath: dir)
    }
}
