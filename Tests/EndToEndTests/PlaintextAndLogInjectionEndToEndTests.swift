import Foundation
import Testing

/// docs/security.md, "Transport" and log injection, with the built binary: `check`, `run` and a
/// reload refuse plain http:// to another host and credentials in the url; a file name or a
/// line holding a newline or ESC is printed escaped, one log line per record.
@Suite(.serialized) struct PlaintextAndLogInjectionEndToEndTests {
    static func config(dir: String, url: String, extra: String = "") -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: \(url)\(extra)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              - name: noted
                match: '^(?<ts>\\d+) order seq=(?<seq>\\d+) user=(?<user>\\w+) note=(?<note>\\S+)'
                where: { note: '^ok$' }
                event: Order Placed
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
        """
    }

    static func check(_ dir: String, url: String, extra: String = "") throws -> TailshipProcess.Result {
        try config(dir: dir, url: url, extra: extra)
            .write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        return try TailshipProcess.run(["check", "-c", dir + "/agent.yaml"], env: ["E2E_SECRET": "s3cret"])
    }

    @Test func checkRefusesPlainHttpToAnotherHostAndAcceptsLoopbackAndTheOptIn() throws {
        let dir = try makeTempDir("e2e-plaintext")
        for url in ["http://10.1.2.3:8080", "http://api.mixpanel.com"] {
            let refused = try Self.check(dir, url: url)
            #expect(refused.status != 0)
            #expect(
                refused.stderr.contains("\(dir)/agent.yaml:3:8: 'url' is plain http:// to "), "\(refused.stderr)")
            #expect(refused.stderr.contains("allow_plaintext_http: true"))
        }
        for url in ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://10.1.2.3"] {
            let accepted = try Self.check(dir, url: url)
            #expect(accepted.status == 0, "\(url): \(accepted.stderr)")
            #expect(accepted.stdout.contains("ok"))
        }
        let optIn = try Self.check(dir, url: "http://10.1.2.3:8080", extra: "\n  allow_plaintext_http: true")
        #expect(optIn.status == 0, "\(optIn.stderr)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Refused by `check` and by `run`, and never printed: not the password, not the url.
    @Test func aUrlWithCredentialsIsRefusedAndNeverShown() throws {
        let dir = try makeTempDir("e2e-url-credentials")
        let url = "https://e2e.sa:hunter2-pw@api.mixpanel.com"
        let checked = try Self.check(dir, url: url)
        #expect(checked.status != 0)
        #expect(checked.stderr.contains("\(dir)/agent.yaml:3:8: 'url' must not carry credentials"), "\(checked.stderr)")
        #expect(!checked.stderr.contains("hunter2") && !checked.stdout.contains("hunter2"))
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": "s3cret"], logPath: dir + "/agent.log")
        #expect(agent.terminate() != 0)
        #expect(agent.log.contains("must not carry credentials"), "\(agent.log)")
        #expect(!agent.log.contains("hunter2"))
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A reload into a plaintext url to another host is refused; the running config goes on.
    @Test func aReloadToPlainHttpElsewhereIsRefused() throws {
        let dir = try makeTempDir("e2e-plaintext-reload")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, url: "http://127.0.0.1:\(server.port)")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        try Self.config(dir: dir, url: "http://192.0.2.1:8080")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(
            eventually(timeout: 10) {
                agent.log.contains("agent.reload_refused") && agent.log.contains("plain http://")
            },
            "log:\n\(agent.log)")
        try append("\(FaultEndToEndTests.pastMs) order seq=1 user=u1 note=ok\n", to: dir + "/logs/app.log")
        #expect(try eventually(timeout: 15) { try server.storedEvents(dedup: true).count == 1 }, "log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A log file whose name holds a newline and ESC sequences: the agent's log keeps one record
    /// per line (every line starts with its timestamp) and holds no raw control character; `test
    /// --explain` prints the name and a line's ESC escaped too.
    @Test func aHostileFileNameAndLineArePrintedEscaped() throws {
        let dir = try makeTempDir("e2e-log-injection")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, url: "http://127.0.0.1:\(server.port)")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        usleep(300_000)
        let name = "evil\n2026-01-01T00:00:00.000Z error agent.failed forged\u{1B}[2J\u{1B}]0;owned\u{07}.log"
        let path = dir + "/logs/" + name
        let lines = [
            "\(FaultEndToEndTests.pastMs) order seq=1 user=u1 note=ok",
            "\(FaultEndToEndTests.pastMs + 1) order seq=2 user=u2 note=\u{1B}[31mred",
        ]
        try append(lines.joined(separator: "\n") + "\n", to: path)
        #expect(try eventually(timeout: 15) { try server.storedEvents(dedup: true).count == 1 }, "log:\n\(agent.log)")
        try FileManager.default.removeItem(atPath: path)
        usleep(500_000)
        #expect(agent.terminate() == 0)

        let log = try String(contentsOfFile: dir + "/agent.log", encoding: .utf8)
        let escapedName =
            "evil\\n2026-01-01T00:00:00.000Z error agent.failed forged\\u001b[2J\\u001b]0;owned\\u0007.log"
        #expect(log.contains(escapedName), "log:\n\(log)")
        #expect(!log.unicodeScalars.contains { $0 != "\n" && ($0.value < 0x20 || (0x7F...0x9F).contains($0.value)) })
        for line in log.split(separator: "\n") {
            #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \w+ .*/) != nil, "forged line: \(line)")
        }
        #expect(!log.contains("\nerror agent.failed forged") && !log.contains("\n2026-01-01T00:00:00.000Z"))

        try append(lines.joined(separator: "\n") + "\n", to: path)
        let explained = try TailshipProcess.run(["test", "--explain", "-c", configPath, path])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stderr.contains(escapedName + ":2: no rule matched"), "\(explained.stderr)")
        #expect(explained.stderr.contains(#"where note: value "\u001b[31mred" did not match"#), "\(explained.stderr)")
        #expect(!explained.stderr.unicodeScalars.contains { $0 != "\n" && $0.value < 0x20 })
        #expect(!explained.stdout.unicodeScalars.contains { $0 != "\n" && $0.value < 0x20 })
        #expect(explained.stdout.split(separator: "\n").count == 1)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
