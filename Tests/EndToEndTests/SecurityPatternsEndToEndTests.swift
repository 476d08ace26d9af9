import Foundation
import Testing

/// Whoever controls one logged field can craft lines that make a rule with several `.*`
/// backtrack. With the default config (`start_at: end`), 2,000 such 4 KB lines written before
/// ordinary ones: each stops at the per-line budget and is dead-lettered (`match_limit`), the
/// ordinary lines behind them all arrive within seconds, and `check` warns about the rule.
@Suite(.serialized) struct SecurityPatternsEndToEndTests {
    static let craftedRule = """
        - name: crafted
                match: '^(?<ts>\\d+) .*user=(?<user>\\w+).*seq=(?<seq>\\d+).*plan=(?<plan>\\S+) .*request_id=(?<rid>\\S+)$'
                event: Order Placed
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
        """

    @Test func craftedLinesAreDeadLetteredAndCostABoundedTime() throws {
        let dir = try makeTempDir("e2e-patterns")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port, startAt: "")
            .replacingOccurrences(of: FaultEndToEndTests.orderRule, with: Self.craftedRule)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let check = try TailshipProcess.run(["check", "-c", configPath], env: ["E2E_SECRET": "x"])
        #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stderr)")
        #expect(
            check.stderr.contains("warning: the pattern of rule 'crafted' has 4 unbounded wildcards"), "\(check.stderr)"
        )

        let log = dir + "/logs/app.log"
        try append("", to: log)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        _ = eventually(timeout: 10) {
            (try? String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8))?.contains("app.log") == true
        }
        let crafted = "1793491200000 " + String(repeating: "user=a seq=1 plan=p ", count: 205) + "\n"
        try append(String(repeating: crafted, count: 2_000), to: log)
        let ordinary = (0..<50).map {
            "\(FaultEndToEndTests.pastMs + Int64($0)) user=u\($0 % 5) seq=\($0) plan=pro request_id=r\($0)\n"
        }
        try append(ordinary.joined(), to: log)
        let started = Date()
        let arrived = try eventually(timeout: 30) { try server.storedEvents(dedup: true).count >= 50 }
        let seconds = Date().timeIntervalSince(started)
        #expect(arrived, "agent log:\n\(agent.log)")
        // At the former fixed limit (1,000,000 steps, about 11 ms each) these lines cost 22 s.
        #expect(seconds < 10, "the ordinary lines behind 2,000 crafted ones took \(seconds) s")
        let letters = try eventually(timeout: 10) { try DeliveryAnswersEndToEndTests.deadLetters(dir).count >= 2_000 }
        #expect(letters)
        let all = try DeliveryAnswersEndToEndTests.deadLetters(dir)
        #expect(all.count == 2_000)
        #expect(all.allSatisfy { $0["reason"] as? String == "match_limit" }, "\(all.first ?? [:])")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<50)
    }
}
