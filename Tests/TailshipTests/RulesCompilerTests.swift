import Testing

@testable import Tailship

@Suite struct RulesCompilerTests {
    typealias F = RulesFixture

    @Test func badPatternIsReportedAtItsMark() {
        let p = F.problems([F.rule("r", match: "user=(?<user>\\S+", event: "E", line: 10)])
        #expect(p == ["agent.yaml:11:16: invalid pattern: missing closing parenthesis at offset 16"])
    }

    @Test func badWherePatternIsReported() {
        let p = F.problems([F.rule("r", match: "(?<plan>\\w+)", where: [("plan", "[a-")], event: "E")])
        #expect(p.count == 1)
        #expect(p[0].hasPrefix("agent.yaml:12:24: where plan: invalid pattern: missing terminating ] "))
    }

    @Test func fieldsTheRegexCannotProduceAreReported() {
        let p = F.problems([
            F.rule(
                "r", match: "user=(?<user>\\S+)", where: [("plan", "pro")], event: "{{kind}}",
                distinctId: "{{user}}", time: ("ts", "iso8601"),
                properties: [("amount", "{{amount}}", .float)])
        ])
        #expect(
            p == [
                "agent.yaml:12:18: field 'plan' is not produced by the pattern (named groups: user)",
                "agent.yaml:15:24: field 'ts' is not produced by the pattern (named groups: user)",
                "agent.yaml:13:16: field 'kind' is not produced by the pattern (named groups: user)",
                "agent.yaml:18:20: field 'amount' is not produced by the pattern (named groups: user)",
            ])
    }

    @Test func presetsKnowTheirFieldsAndJSONAcceptsAny() {
        #expect(
            F.problems([F.rule("r", event: "{{method}}", distinctId: "{{remote_addr}}")], format: .nginxCombined)
                .isEmpty)
        #expect(F.problems([F.rule("r", event: "{{nope}}")], format: .nginxCombined).count == 1)
        #expect(F.problems([F.rule("r", event: "{{anything.at.all}}")], format: .json).isEmpty)
        #expect(F.problems([F.rule("r", event: "{{anything}}")], format: .logfmt).isEmpty)
    }

    @Test func templatesTimeFormatsZonesAndRuleShapeAreChecked() {
        let p = F.problems(
            [
                F.rule("a", match: "(?<ts>\\S+)", event: "x {{ts", time: ("ts", "rfc2822"), line: 10),
                F.rule("b", match: "x", line: 30),
                F.rule("a", match: "y", drop: true, line: 50),
            ], timezone: "Mars/Olympus")
        #expect(
            p == [
                "agent.yaml:5:15: unknown time zone 'Mars/Olympus'",
                "agent.yaml:13:16: invalid template: unterminated '{{' in template at offset 2",
                "agent.yaml:30:7: rule 'b' needs an 'event' (or 'drop: true')",
                "agent.yaml:50:9: duplicate rule name 'a'",
            ])
        let q = F.problems([F.rule("a", match: "(?<ts>\\S+)", event: "E", time: ("ts", "rfc2822"))])
        #expect(
            q == ["agent.yaml:15:36: unknown time format 'rfc2822' (use iso8601, unix, unix_ms or a strptime format)"])
    }
}
