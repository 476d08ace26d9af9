import Foundation
import Testing

/// The built binary against the local ingestion server, with real files being written.
@Suite(.serialized) struct DeliveryEndToEndTests {
    static let secret = "e2e-secret-value"

    static func config(dir: String, port: Int, extra: String = "") -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { max_events: 50, flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            start_at: beginning
            timezone: Europe/Paris
            rules:
              - name: purchase
                match: '^(?<ts>\\S+ \\S+) INFO seq=(?<seq>\\d+) user=(?<user>\\S+) amount=(?<amount>[\\d.]+) qty=(?<qty>\\d+) plan=(?<plan>\\S+)'
                event: Purchase Completed
                distinct_id: "{{user}}"
                time: { field: ts, format: "%Y-%m-%d %H:%M:%S" }
                properties:
                  seq: { value: "{{seq}}", type: int }
                  amount: { value: "{{amount}}", type: float }
                  qty: { value: "{{qty}}", type: int }
                  plan: "{{plan}}"
                  channel: web
              - name: health
                match: healthcheck
                drop: true
        \(extra)
        """
    }

    /// Line `seq`: a purchase at 2026-11-01 10:00:00 Paris time (09:00 UTC) plus seq seconds;
    /// in the past, since the API refuses times more than an hour ahead.
    static func line(_ seq: Int) -> String {
        let minute = (seq / 60) % 60
        let second = seq % 60
        let hour = 10 + seq / 3600
        return String(
            format: "2026-11-01 %02d:%02d:%02d INFO seq=%d user=u%d amount=%d.%02d qty=%d plan=%@\n",
            hour, minute, second, seq, seq % 7, seq % 500, seq % 100, seq % 9, seq % 2 == 0 ? "pro" : "free")
    }

    /// Epoch ms of line `seq`'s time: 2026-11-01T09:00:00Z (10:00 in Paris, UTC+1 after October's
    /// change) plus seq seconds.
    static func expectedTimeMs(_ seq: Int) -> Int64 { (1_793_523_600 + Int64(seq)) * 1000 }

    @Test func linesBecomeAcknowledgedEventsAndCheckpointsFollow() throws {
        let dir = try makeTempDir("e2e-delivery")
        let server = try IngestServer(arguments: [
            "--project-id", "42", "--sa-user", "e2e.sa", "--sa-secret", Self.secret,
        ])
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port).write(toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = dir + "/logs/app.log"
        var text = ""
        for seq in 0..<100 { text += Self.line(seq) }
        text += "2026-11-01 10:00:00 DEBUG healthcheck ok\n"
        try append(text, to: logPath)

        let agent = try AgentProcess(config: configPath, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        // Written while the agent runs, including a line split across two writes.
        for seq in 100..<200 { try append(Self.line(seq), to: logPath) }
        let split = Self.line(200)
        try append(String(split.prefix(20)), to: logPath)
        usleep(300_000)
        try append(String(split.dropFirst(20)), to: logPath)

        let arrived = try eventually { try server.events(dedup: true).count >= 201 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)

        let events = try server.events(dedup: true)
        #expect(events.count == 201)
        var seen = Set<Int>()
        for event in events {
            let props = try #require(event["properties"] as? [String: Any])
            let seq = try #require(props["seq"] as? Int)
            seen.insert(seq)
            #expect(event["event"] as? String == "Purchase Completed")
            #expect(props["distinct_id"] as? String == "u\(seq % 7)")
            #expect((props["time"] as? NSNumber)?.int64Value == Self.expectedTimeMs(seq))
            #expect(props["amount"] as? Double == Double(seq % 500) + Double(seq % 100) / 100)
            #expect(props["qty"] as? Int == seq % 9)
            #expect(props["plan"] as? String == (seq % 2 == 0 ? "pro" : "free"))
            #expect(props["channel"] as? String == "web")
            let insertId = try #require(props["$insert_id"] as? String)
            #expect(
                insertId.count <= 36 && insertId.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        }
        #expect(
            seen.count == 201 && seen == Set(0...200), "missing: \(Set(0...200).subtracting(seen).sorted().prefix(20))")

        // The checkpoint reached the end of the file: every line was acknowledged.
        let size = try FileManager.default.attributesOfItem(atPath: logPath)[.size] as! UInt64
        let checkpoints = try String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8)
        #expect(checkpoints.contains("\"offset\" : \(size)"), "\(checkpoints)")

        // `status` reads the same store: the file, fully checkpointed, nothing behind.
        let status = try TailshipProcess.run(["status", "-c", configPath])
        #expect(status.status == 0, "\(status.stderr)")
        // After the agent and shipper lines: the table of files.
        let rows = status.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .drop { $0.first != "PATH" }
        #expect(rows.first == ["PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "UPDATED", "STATE", "FROM"])
        #expect(
            rows.dropFirst().filter { $0.count >= 7 }.contains {
                $0[0] == logPath && $0[2] == "\(size)" && $0[3] == "\(size)" && $0[4] == "0" && $0[6] == "ok"
            },
            "\(status.stdout)")
        #expect(status.stdout.contains("DEAD LETTERS  0  \(dir)/state/dead-letters.ndjson"), "\(status.stdout)")
    }

    @Test func killNineMidStreamLosesNothingAndDuplicatesNothing() throws {
        let dir = try makeTempDir("e2e-kill9")
        let server = try IngestServer(arguments: [
            "--project-id", "42", "--sa-user", "e2e.sa", "--sa-secret", Self.secret,
        ])
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port).write(toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = dir + "/logs/app.log"
        let total = 3000
        var agent = try AgentProcess(config: configPath, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        for chunk in 0..<30 {
            var text = ""
            for seq in (chunk * 100)..<(chunk * 100 + 100) { text += Self.line(seq) }
            try append(text, to: logPath)
            usleep(20_000)
            if chunk == 12 {
                // Mid-stream, with events in flight and checkpoints possibly behind.
                _ = try eventually(timeout: 10) { try server.events().count > 300 }
                agent.kill9()
            }
            if chunk == 18 {
                agent = try AgentProcess(
                    config: configPath, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
            }
        }
        let arrived = try eventually(timeout: 30) { try server.events(dedup: true).count >= total }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)

        // Every copy the API received, per line: all copies must share one dedup key.
        var keyBySeq: [Int: String] = [:]
        for event in try server.events() {
            let props = try #require(event["properties"] as? [String: Any])
            let seq = try #require(props["seq"] as? Int)
            let key =
                "\(event["event"] ?? "")|\(props["distinct_id"] ?? "")|\(props["time"] ?? "")|\(props["$insert_id"] ?? "")"
            if let previous = keyBySeq[seq] {
                #expect(previous == key, "line \(seq) arrived under two different keys")
            }
            keyBySeq[seq] = key
        }
        let missing = Set(0..<total).subtracting(keyBySeq.keys)
        #expect(missing.isEmpty, "\(missing.count) lines missing, e.g. \(missing.sorted().prefix(20))")
        #expect(try server.events(dedup: true).count == total)
    }
}
