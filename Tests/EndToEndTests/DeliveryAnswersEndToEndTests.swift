import Foundation
import Testing

/// The built binary against real 413s, the `/track` endpoint and a `Retry-After`.
@Suite(.serialized) struct DeliveryAnswersEndToEndTests {
    /// The fault suite's config, with `destination:` lines replaced or added by `destination`.
    static func config(dir: String, port: Int, destination: String) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
        \(destination)
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            start_at: beginning
            rules:
              - name: noted
                match: '^(?<ts>\\d+) order seq=(?<seq>\\d+) user=(?<user>\\w+) note=(?<note>\\w+)'
                event: Order Placed
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
                  note: "{{note}}"
              \(FaultEndToEndTests.orderRule)
        """
    }

    static let importDestination = """
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
        """

    static func deadLetters(_ dir: String) throws -> [[String: Any]] {
        let path = dir + "/state/dead-letters.ndjson"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func realTooLargeAnswersSplitBatchesAndDeadLetterOnlyTheOversizedEvent() throws {
        let dir = try makeTempDir("e2e-413")
        // The server's cap is far below the agent's max_bytes: full batches really get 413.
        let server = try IngestServer(arguments: [
            "--project-id", "42", "--sa-user", "e2e.sa", "--sa-secret",
            FaultEndToEndTests.secret, "--max-body-bytes", "20000",
        ])
        let configPath = dir + "/agent.yaml"
        try Self.config(
            dir: dir, port: server.port,
            destination: Self.importDestination + """

                  batch: { max_events: 400, max_bytes: 1MiB, flush_interval: 200ms }
                """
        ).write(toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = dir + "/logs/app.log"
        // Line 300 carries a 30 000-byte property: alone it is over the server's cap.
        let huge =
            "\(FaultEndToEndTests.pastMs + 300) order seq=300 user=u0 note=\(String(repeating: "x", count: 30_000))\n"
        try append(FaultEndToEndTests.lines(0..<300) + huge + FaultEndToEndTests.lines(301..<700), to: logPath)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret],
            logPath: dir + "/agent.log")
        let done = try eventually(timeout: 20) {
            try server.storedEvents(dedup: true).count >= 699 && (try Self.deadLetters(dir)).count >= 1
        }
        #expect(done, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)

        let expected = Set(0..<700).subtracting([300])
        var seen: [Int: Int] = [:]
        for event in try server.storedEvents() { seen[event.properties["seq"] as? Int ?? -1, default: 0] += 1 }
        #expect(Set(seen.keys) == expected)
        #expect(seen.values.allSatisfy { $0 == 1 }, "a 413 ingests nothing, so no copy is ever sent twice")
        let statuses = try server.requests().compactMap { $0["status"] as? Int }
        #expect(statuses.contains(413), "the server really refused batches: \(statuses)")

        let letters = try Self.deadLetters(dir)
        #expect(letters.count == 1)
        let letter = try #require(letters.first)
        #expect(letter["reason"] as? String == "too_large")
        #expect((letter["line"] as? String)?.hasPrefix("\(FaultEndToEndTests.pastMs + 300) order seq=300 ") == true)
        #expect(letter["rule"] as? String == "noted")
        let offsets = FaultEndToEndTests.lineOffsets(try String(contentsOfFile: logPath, encoding: .utf8))
        #expect((letter["offset"] as? Int).map(UInt64.init) == offsets[300])
        // Its event as the agent sent it, through the halves of a batch whose body was gzipped.
        let event = try #require(letter["event"] as? [String: Any], "\(letter)")
        let properties = try #require(event["properties"] as? [String: Any])
        #expect(properties["seq"] as? Int == 300)
        #expect((properties["note"] as? String)?.count == 30_000)
        let size = try FileManager.default.attributesOfItem(atPath: logPath)[.size] as! UInt64
        let checkpoints = try String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8)
        #expect(checkpoints.contains("\"offset\" : \(size)"), "\(checkpoints)")
    }

    static let token = "e2e-track-token"
    static let trackDestination = """
          api: track
          token_env: E2E_TOKEN
          batch: { max_events: 50, flush_interval: 100ms }
        """

    @Test func trackDeliversWithTheTokenAndATokenErrorLosesNothing() throws {
        let dir = try makeTempDir("e2e-track")
        let server = try IngestServer(arguments: ["--token", Self.token])
        // The API answers the verbose "token, missing or empty" twice: a credentials problem,
        // so the agent pauses and retries instead of dead-lettering.
        let tokenError: [String: Any] = ["status": 200, "body": ["status": 0, "error": "token, missing or empty"]]
        try server.inject([tokenError, tokenError])
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port, destination: Self.trackDestination)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        // /track keeps only the last 5 days: times near now.
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        try append(FaultEndToEndTests.lines(0..<120) { nowMs + Int64($0) }, to: dir + "/logs/app.log")
        let agent = try AgentProcess(config: configPath, env: ["E2E_TOKEN": Self.token], logPath: dir + "/agent.log")
        let arrived = try eventually(timeout: 30) { try server.storedEvents(dedup: true).count >= 120 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)

        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<120)
        for event in try server.storedEvents() {
            #expect(event.endpoint == "/track")
            #expect(event.properties["token"] as? String == Self.token)
        }
        let requests = try server.requests()
        #expect(
            requests.allSatisfy {
                $0["path"] as? String == "/track" && ($0["query"] as? String)?.contains("verbose=1") == true
            })
        #expect(requests.filter { $0["fault"] != nil }.count == 2)
        #expect(try Self.deadLetters(dir).isEmpty, "a token error never dead-letters")
        #expect(agent.log.contains("token, missing or empty"), "the pause is logged with the API's message")
    }

    @Test func retryAfterIsHonouredBeforeTheRetry() throws {
        let dir = try makeTempDir("e2e-retry-after")
        let server = try FaultEndToEndTests.server()
        // Longer than any wait the backoff alone gives here (100 ms + at most 5 s of jitter),
        // so an early retry can only mean Retry-After was ignored.
        let retryAfter = 6
        try server.inject([["status": 429, "retry_after": retryAfter]])
        let configPath = dir + "/agent.yaml"
        try Self.config(
            dir: dir, port: server.port,
            destination: Self.importDestination + """

                  batch: { max_events: 100, flush_interval: 100ms }
                """
        ).write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<50), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret],
            logPath: dir + "/agent.log")
        let arrived = try eventually(timeout: 20) { try server.storedEvents(dedup: true).count >= 50 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<50)

        let requests = try server.requests().filter { $0["path"] as? String == "/import" }
        #expect(requests.count == 2, "\(requests)")
        let refused = try #require(requests.first)
        let retried = try #require(requests.last)
        #expect(refused["status"] as? Int == 429)
        #expect(retried["status"] as? Int == 200)
        let gapMs = try #require(retried["time_ms"] as? Int) - (try #require(refused["time_ms"] as? Int))
        #expect(gapMs >= retryAfter * 1000 - 50, "retried after \(gapMs) ms, Retry-After said \(retryAfter) s")
        #expect(gapMs < retryAfter * 1000 + 3000, "and not much later: \(gapMs) ms")
    }

    /// A 200 that does not say what was imported (an empty body: a wrong `url` behind a proxy
    /// that answers 200 to anything) is never an acknowledgement: the batch is resent, and after
    /// three such answers dead-lettered as `unconfirmed`, its lines never counted as delivered.
    @Test func aSuccessWithoutACountIsNeverBelieved() throws {
        let dir = try makeTempDir("e2e-unconfirmed")
        let server = try FaultEndToEndTests.server()
        let empty: [String: Any] = ["status": 200, "body": ""]
        try server.inject([empty, empty, empty])
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<10), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(eventually(timeout: 20) { (try? Self.deadLetters(dir).count) == 10 }, "agent log:\n\(agent.log)")
        let letters = try Self.deadLetters(dir)
        #expect(letters.allSatisfy { $0["reason"] as? String == "unconfirmed" })
        #expect(
            (letters.first?["message"] as? String)?.hasPrefix("3 answers did not confirm the import") == true,
            "\(letters)")
        #expect(try server.storedEvents().isEmpty, "the answers stored nothing")
        // Later lines, answered properly, are delivered.
        try append(FaultEndToEndTests.lines(10..<20), to: dir + "/logs/app.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 10 }, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 10..<20)
    }
}
