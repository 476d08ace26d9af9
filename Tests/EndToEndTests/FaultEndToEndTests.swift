import Foundation
import Testing

/// The built binary against a misbehaving local ingestion server.
@Suite(.serialized) struct FaultEndToEndTests {
    static let secret = "fault-secret"

    /// `startAt` is the source's `start_at` line (empty: the default, `end`).
    static func config(
        dir: String, port: Int, auth: String = "secret_env: E2E_SECRET", startAt: String = "start_at: beginning"
    ) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, \(auth) }
          batch: { max_events: 40, flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            \(startAt)
            rules:
              \(FaultEndToEndTests.orderRule)
        """
    }

    /// The rule of every end-to-end config: line `seq` (see `lines`) becomes one Order Placed
    /// event. Interpolated where a source's first rule goes (six spaces into the YAML): its
    /// first line takes the indentation of the interpolation, the others carry it themselves.
    static let orderRule = """
        - name: order
                match: '^(?<ts>\\d+) order seq=(?<seq>\\d+) user=(?<user>\\w+)'
                event: Order Placed
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
        """

    /// 2026-11-01T00:00:00Z, in milliseconds: safely in the past.
    static let pastMs: Int64 = 1_793_491_200_000

    static func lines(_ range: Range<Int>, timeMs: (Int) -> Int64 = { pastMs + Int64($0) }) -> String {
        range.map { "\(timeMs($0)) order seq=\($0) user=u\($0 % 5)\n" }.joined()
    }

    static func server() throws -> IngestServer {
        try IngestServer(arguments: ["--project-id", "42", "--sa-user", "e2e.sa", "--sa-secret", secret])
    }

    /// Every copy the server holds, grouped by line: each line once in the dedup view, and all
    /// copies of a line under one (event, distinct_id, time, $insert_id) key.
    static func assertExactlyOnce(_ server: IngestServer, expected: some Collection<Int>) throws {
        var keyBySeq: [Int: String] = [:]
        for event in try server.storedEvents() {
            let seq = try #require(event.properties["seq"] as? Int)
            let key = "\(event.event)|\(event.distinctID)|\(event.timeMs)|\(event.insertID)"
            if let previous = keyBySeq[seq] { #expect(previous == key, "line \(seq) arrived under two keys") }
            keyBySeq[seq] = key
        }
        let missing = Set(expected).subtracting(keyBySeq.keys)
        #expect(missing.isEmpty, "\(missing.count) lines missing, e.g. \(missing.sorted().prefix(10))")
        #expect(try server.storedEvents(dedup: true).count == expected.count)
    }

    @Test func retriesThroughServerErrorsRateLimitsAndResets() throws {
        let dir = try makeTempDir("e2e-faults")
        let server = try Self.server()
        try server.inject([
            ["status": 503, "body": "upstream connect error or disconnect/reset before headers"],
            ["status": 429, "retry_after": 1],
            ["reset_after_ingest": true],
        ])
        try Self.config(dir: dir, port: server.port).write(
            toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        try append(Self.lines(0..<200), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": Self.secret],
            logPath: dir + "/agent.log")
        try append(Self.lines(200..<300), to: dir + "/logs/app.log")
        let arrived = try eventually(timeout: 40) { try server.storedEvents(dedup: true).count >= 300 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try Self.assertExactlyOnce(server, expected: 0..<300)
        // The reset request was ingested and then retried: a duplicate copy the API dedupes.
        #expect(try server.storedEvents().count > 300)
        #expect(agent.log.contains("429"), "the rate limit shows in the log")
    }

    @Test func partialRejectionDeadLettersOnlyTheFailedRecords() throws {
        let dir = try makeTempDir("e2e-partial")
        let server = try Self.server()
        // The API's clock runs two days behind ours: events stamped "now" are in its future
        // and fail its strict validation, while older ones pass. A real partial 400.
        try server.setConfig(["clock_offset_ms": -2 * 86_400_000])
        try Self.config(dir: dir, port: server.port).write(
            toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let logPath = dir + "/logs/app.log"
        try append(Self.lines(0..<100) { $0 % 10 == 0 ? nowMs : Self.pastMs + Int64($0) }, to: logPath)
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": Self.secret],
            logPath: dir + "/agent.log")
        let letters = dir + "/state/dead-letters.ndjson"
        let done = try eventually(timeout: 20) {
            try server.storedEvents(dedup: true).count >= 90
                && ((try? String(contentsOfFile: letters, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 10
        }
        #expect(done, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)

        let accepted = Set(try server.storedEvents(dedup: true).compactMap { $0.properties["seq"] as? Int })
        #expect(accepted == Set((0..<100).filter { $0 % 10 != 0 }))
        let records = try String(contentsOfFile: letters, encoding: .utf8).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.count == 10)
        let status = try TailshipProcess.run(["status", "-c", dir + "/agent.yaml"])
        #expect(status.stdout.contains("DEAD LETTERS  10  \(letters)"), "\(status.stdout)")
        let lineOffsets = Self.lineOffsets(try String(contentsOfFile: logPath, encoding: .utf8))
        for record in records {
            #expect(record["field"] as? String == "properties.time")
            #expect((record["message"] as? String)?.contains("must not be in the future") == true)
            #expect(record["path"] as? String == logPath)
            #expect(record["rule"] as? String == "order")
            let line = try #require(record["line"] as? String)
            let seq = try #require(Int(line.split(separator: "=")[1].split(separator: " ")[0]))
            #expect(seq % 10 == 0)
            #expect((record["offset"] as? Int).map(UInt64.init) == lineOffsets[seq])
            // The event as it was sent, inflated back from the gzip body the request kept.
            let event = try #require(record["event"] as? [String: Any], "\(record)")
            #expect((event["properties"] as? [String: Any])?["seq"] as? Int == seq, "\(event)")
        }
        // Rejected for good and recorded: the checkpoint moves past them.
        let size = try FileManager.default.attributesOfItem(atPath: logPath)[.size] as! UInt64
        let checkpoints = try String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8)
        #expect(checkpoints.contains("\"offset\" : \(size)"), "\(checkpoints)")
    }

    @Test func reloadRefusesABrokenConfigAndPicksUpFixedCredentials() throws {
        let dir = try makeTempDir("e2e-reload")
        let server = try Self.server()
        let secretFile = dir + "/secret"
        try writeSecret("wrong-secret\n", to: secretFile)
        let configPath = dir + "/agent.yaml"
        let good = Self.config(dir: dir, port: server.port, auth: "secret_file: \(secretFile)")
        try good.write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(Self.lines(0..<50), to: dir + "/logs/app.log")
        let agent = try AgentProcess(config: configPath, logPath: dir + "/agent.log")
        // 401: shipping pauses, nothing is dropped, and the log says why.
        #expect(eventually(timeout: 10) { agent.log.contains("401") }, "agent log:\n\(agent.log)")
        #expect(try server.storedEvents().isEmpty)

        try "sources: [".write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(eventually(timeout: 10) { agent.log.contains("agent.reload_refused") }, "agent log:\n\(agent.log)")

        try writeSecret("\(Self.secret)\n", to: secretFile)
        try good.write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try append(Self.lines(50..<80), to: dir + "/logs/app.log")
        let arrived = try eventually(timeout: 40) { try server.storedEvents(dedup: true).count >= 80 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try Self.assertExactlyOnce(server, expected: 0..<80)
    }

    /// A rotated `secret_file`, reloaded, with the default `start_at: end`: the running shipper
    /// takes the new secret (no pipeline rebuilt, nothing read again), and the batch the old one
    /// got refused goes at once instead of at the 60 s longest backoff.
    @Test func aReloadThatChangesOnlyTheSecretKeepsThePipelineAndRetriesAtOnce() throws {
        let dir = try makeTempDir("e2e-secret-swap")
        let server = try Self.server()
        let secretFile = dir + "/secret"
        try writeSecret("wrong-secret\n", to: secretFile)
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port, auth: "secret_file: \(secretFile)", startAt: "")
            .replacingOccurrences(of: "max_backoff: 1s", with: "max_backoff: 60s")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let log = dir + "/logs/app.log"
        try append(Self.lines(1000..<1005), to: log)  // before the start: not sent (start_at: end)
        let agent = try AgentProcess(config: configPath, logPath: dir + "/agent.log")
        _ = eventually(timeout: 10) {
            (try? String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8))?.contains("app.log") == true
        }
        try append(Self.lines(0..<50), to: log)
        #expect(eventually(timeout: 10) { agent.log.contains("401") }, "agent log:\n\(agent.log)")

        try writeSecret("\(Self.secret)\n", to: secretFile)
        agent.signal(SIGHUP)
        let arrived = try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= 50 }
        #expect(arrived, "agent log:\n\(agent.log)")
        try append(Self.lines(50..<60), to: log)
        #expect(try eventually(timeout: 10) { try server.storedEvents(dedup: true).count >= 60 })
        #expect(agent.log.contains("agent.credentials_updated"), "agent log:\n\(agent.log)")
        #expect(!agent.log.contains("agent.reloading"), "agent log:\n\(agent.log)")
        #expect(agent.log.components(separatedBy: "ship.started").count == 2, "one shipper: \(agent.log)")
        #expect(agent.terminate() == 0)
        try Self.assertExactlyOnce(server, expected: 0..<60)
    }

    /// Byte offset of each line's start, indexed by line number.
    static func lineOffsets(_ text: String) -> [UInt64] {
        var offsets: [UInt64] = [0]
        var position: UInt64 = 0
        for byte in text.utf8 {
            position += 1
            if byte == UInt8(ascii: "\n") { offsets.append(position) }
        }
        return offsets
    }
}

@Suite(.serialized) struct OutageEndToEndTests {
    @Test func sigtermDuringAnOutageExitsPromptlyAndLosesNothing() throws {
        let dir = try makeTempDir("e2e-outage")
        let server = try FaultEndToEndTests.server()
        try server.setConfig(["outage": true])
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        // More than the shipping queue holds, so the reader is blocked handing events over.
        try append(FaultEndToEndTests.lines(0..<20_000), to: dir + "/logs/app.log")
        var agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret],
            logPath: dir + "/agent.log")
        #expect(eventually(timeout: 10) { agent.log.contains("503") }, "agent log:\n\(agent.log)")
        let started = Date()
        #expect(agent.terminate(timeout: 30) == 0, "agent log:\n\(agent.log)")
        #expect(Date().timeIntervalSince(started) < 15, "shutdown is bounded by the grace period")

        try server.setConfig(["outage": false])
        agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret],
            logPath: dir + "/agent.log")
        let arrived = try eventually(timeout: 60) { try server.stats()["events_accepted"] as? Int ?? 0 >= 20_000 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<20_000)
    }
}
