import Foundation
import Testing

/// `check` and `test` as users run them: exact output, exact exit codes.
@Suite struct CommandTests {
    /// Three mistakes, each reported once at its own line and column, in file order. The
    /// misspelt field is in a rule whose pattern compiles: a template cannot be checked against
    /// a pattern that does not (so `{{usr}}` next to the broken pattern would go unreported).
    @Test func checkReportsEveryProblemWithItsPosition() throws {
        let dir = try makeTempDir("e2e-check")
        let path = dir + "/agent.yaml"
        try """
        state_dir: /tmp/x
        destination:
          kind: stdout
        sources:
          - name: app
            paths: ["/var/log/app/*.log"]
            rules:
              - name: bad
                mach: 'x'
                match: '(?<user>\\S+'
                event: Signed Up
                distinct_id: "{{user}}"
                time: { field: user, format: unix }
              - name: signup
                match: '^(?<ts>\\d+) signup user=(?<user>\\S+)'
                event: Signed Up
                distinct_id: "{{usr}}"
                time: { field: ts, format: unix }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TailshipProcess.run(["check", "-c", path])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(
            result.stderr.split(separator: "\n", omittingEmptySubsequences: false) == [
                "\(path):9:9: unknown key 'mach'; did you mean 'match'?",
                "\(path):10:16: invalid pattern: missing closing parenthesis at offset 11",
                "\(path):17:22: field 'usr' is not produced by the pattern (named groups: ts, user)",
                "",
            ])
    }

    /// The exit codes docs/operations.md lists: 64 for a usage error, with the usage printed.
    @Test(arguments: [["bogus"], ["run", "--nope"], ["import", "-c", "/nonexistent.yaml"]])
    func aUsageErrorExits64(arguments: [String]) throws {
        let result = try TailshipProcess.run(arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("Usage:") || result.stderr.contains("Error:"), "\(result.stderr)")
    }

    @Test func checkSaysOkForAValidConfig() throws {
        let dir = try makeTempDir("e2e-check-ok")
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              - name: signup
                match: '^(?<ts>\\d+) signup user=(?<user>\\w+)'
                event: Signed Up
                distinct_id: "{{user}}"
                time: { field: ts, format: unix }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TailshipProcess.run(["check", "-c", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n")
    }

    @Test func testCommandPrintsTheExactEventJSON() throws {
        let dir = try makeTempDir("e2e-test")
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              - name: signup
                match: '^(?<ts>\\d+) signup user=(?<user>\\w+) age=(?<age>\\d+)'
                event: Signed Up
                distinct_id: "{{user}}"
                insert_id: "signup-{{user}}"
                time: { field: ts, format: unix }
                properties:
                  age: { value: "{{age}}", type: int }
              - name: noise
                match: healthcheck
                drop: true
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let input = "1793523600 signup user=ada age=36\nhealthcheck\nsomething else\n"
        let result = try TailshipProcess.run(["test", "-c", path, "--explain"], stdin: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout
                == #"{"event":"Signed Up","properties":{"time":1793523600000,"distinct_id":"ada","$insert_id":"signup-ada","ip":"0","age":36}}"#
                + "\n")
        #expect(result.stderr.contains("signup"), "\(result.stderr)")
        #expect(result.stderr.contains("noise"), "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "summary: 3 lines, 1 events, 0 invalid (would be dead-lettered), 1 unmatched, 1 dropped in "),
            "\(result.stderr)")
        // `noise` (drop: true) took the healthcheck line: it fired, though it makes no event.
        #expect(result.stderr.contains("\n  rule signup: 1 events\n"), "\(result.stderr)")
        #expect(!result.stderr.contains("never matched"), "\(result.stderr)")
        #expect(result.stderr.contains("\n    1  something else"), "\(result.stderr)")
    }

    /// On a real log, the summary says what the rules miss: unmatched lines by shape (numbers as
    /// N, long hex ids as H), invalid events by reason; an invalid event fails the command.
    @Test func testCommandSummarisesWhatTheRulesMiss() throws {
        let dir = try makeTempDir("e2e-test-summary")
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
              - name: signup
                match: '^(?<ts>\\d+) signup user=(?<user>\\w+)'
                event: Signed Up
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let input =
            FaultEndToEndTests.lines(0..<3) + "GET /u/123 took 45ms req=9f86d081884c7d65\n"
            + "GET /u/7 took 1203ms req=0a1b2c3d4e5f6071\n" + "cache miss\n" + "1000 order seq=4 user=u1\n"
        let result = try TailshipProcess.run(["test", "-c", path], stdin: Data(input.utf8))
        #expect(result.status == 1, "an invalid event fails the command: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 3)
        #expect(result.stderr.contains("summary: 7 lines, 3 events, 1 invalid"), "\(result.stderr)")
        #expect(result.stderr.contains("\n  invalid (properties.time): 1\n"), "\(result.stderr)")
        // The order rule took the invalid line (it matched); signup never matched anything.
        #expect(result.stderr.contains("\n  rules that never matched: signup\n"), "\(result.stderr)")
        #expect(result.stderr.contains("\n    2  GET /u/N took Nms req=H\n    1  cache miss"), "\(result.stderr)")
    }

    /// A log with many invalid events lists the first 20 and counts the rest in the summary;
    /// `--explain` lists every one.
    @Test func testListsTheFirstInvalidEventsAndCountsTheRest() throws {
        let dir = try makeTempDir("e2e-test-invalid")
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              - name: order
                match: '^(?<ts>\\d+) order seq=(?<seq>\\S+)'
                event: Order Placed
                distinct_id: shop
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let input = (0..<25).map { "1793491200000 order seq=x\($0)\n" }.joined()
        let result = try TailshipProcess.run(["test", "-c", path], stdin: Data(input.utf8))
        #expect(result.status == 1)
        #expect(result.stderr.components(separatedBy: "invalid event from rule order").count - 1 == 20)
        #expect(result.stderr.contains("'properties.seq' is invalid: \"x0\" is not an int"), "\(result.stderr)")
        #expect(result.stderr.contains("\n  invalid (properties.seq): 25\n"), "\(result.stderr)")
        #expect(result.stderr.contains("the first 20 invalid events are listed above"), "\(result.stderr)")
        let explained = try TailshipProcess.run(["test", "-c", path, "--explain"], stdin: Data(input.utf8))
        #expect(explained.stderr.components(separatedBy: "invalid event from rule order").count - 1 == 25)
    }

    /// A source whose globs match nothing right now passes `check` (files may appear later),
    /// with a warning at its position, so a typo in a glob does not go unnoticed.
    @Test func checkWarnsAboutPathsThatMatchNothing() throws {
        let dir = try makeTempDir("e2e-check-globs")
        try append("x\n", to: dir + "/logs/app.log")
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
          - name: typo
            paths: ["\(dir)/lgos/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TailshipProcess.run(["check", "-c", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n")
        #expect(
            result.stderr
                == "\(path):14:5: warning: no file matches the paths of source 'typo' right now (\(dir)/lgos/*.log); "
                + "they are watched, and files that appear are read\n")
    }

    /// A source's `tests:` run by `check` like a test runner: a line and the event it must give
    /// (any of its fields, properties compared as values), or `expect: none`; each failure at the
    /// line's position with the differences, then the count; any failure fails `check`.
    @Test func checkRunsTheRuleTestsKeptInTheConfig() throws {
        let dir = try makeTempDir("e2e-rule-tests")
        let path = dir + "/agent.yaml"
        func config(_ tests: String) -> String {
            """
            state_dir: \(dir)/state
            destination: { kind: stdout }
            sources:
              - name: app
                paths: ["\(dir)/logs/*.log"]
                rules:
                  - name: signup
                    match: '^(?<ts>\\d+) signup user=(?<user>\\w+) age=(?<age>\\d+)'
                    event: Signed Up
                    distinct_id: "{{user}}"
                    time: { field: ts, format: unix }
                    properties:
                      age: { value: "{{age}}", type: int }
                  - name: noise
                    match: healthcheck
                    drop: true
                tests:
                  - line: '1793491200 signup user=ada age=36'
                    rule: signup
                    event: Signed Up
                    distinct_id: ada
                    time: 2026-11-01T00:00:00Z
                    properties: { age: 36 }
                  - line: 'GET /healthcheck'
                    expect: none
            \(tests)
            """
        }
        try config("").write(toFile: path, atomically: true, encoding: .utf8)
        let passing = try TailshipProcess.run(["check", "-c", path])
        #expect(passing.status == 0 && passing.stdout == "ok\n", "\(passing.stderr)")
        #expect(passing.stderr.contains("tests: 2 passed, 0 failed"), "\(passing.stderr)")

        try config(
            """
                  - line: '1793491200 signup user=bob age=40'
                    distinct_id: bobby
                    properties: { age: 41 }
                  - line: 'something else'
                    event: Signed Up
            """
        ).write(toFile: path, atomically: true, encoding: .utf8)
        let failing = try TailshipProcess.run(["check", "-c", path])
        #expect(failing.status == 1 && failing.stdout.isEmpty, "\(failing.stderr)")
        #expect(
            failing.stderr.contains(
                "\(path):26:15: test failed: line '1793491200 signup user=bob age=40': distinct_id: expected "
                    + "\"bobby\", got \"bob\"; properties.age: expected \"41\", got 40"), "\(failing.stderr)")
        #expect(
            failing.stderr.contains(
                "\(path):29:15: test failed: line 'something else': expected an event, got none (rule signup: "
                    + "pattern did not match; rule noise: pattern did not match)"), "\(failing.stderr)")
        #expect(failing.stderr.contains("tests: 2 passed, 2 failed"), "\(failing.stderr)")
    }

    /// With `api: track`, an event older than the 5 days /track keeps is not printed (it would
    /// not be sent): `test` says it would be dead-lettered.
    @Test func testCommandSaysWhichEventsTrackWouldDrop() throws {
        let dir = try makeTempDir("e2e-test-track")
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination: { api: track, token_env: E2E_TOKEN }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let input = FaultEndToEndTests.lines(0..<1) + FaultEndToEndTests.lines(1..<2, timeMs: { _ in now - 60_000 })
        let result = try TailshipProcess.run(["test", "-c", path], stdin: Data(input.utf8))
        #expect(result.status == 1, "an event that would be dead-lettered fails the command: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 1, "only the recent event: \(result.stdout)")
        #expect(result.stderr.contains("invalid (too_old_for_track): 1"), "\(result.stderr)")
        #expect(result.stdout.contains("\"seq\":1"))
        #expect(
            result.stderr.contains("stdin:1: event from rule order is older than the 5 days /track keeps"),
            "\(result.stderr)")
    }
}

/// The shipped example must stay valid: users start from it.
@Suite struct ExampleConfigTests {
    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    @Test func agentYamlExamplePassesCheck() throws {
        let result = try TailshipProcess.run(
            ["check", "-c", Self.repoRoot + "/agent.yaml.example"],
            env: ["MIXPANEL_SECRET": "example-secret"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n")
        #expect(result.stderr.contains("tests: 2 passed, 0 failed"), "its rule tests run: \(result.stderr)")
        #expect(!result.stderr.contains("example-secret"))
    }

    @Test func aMissingSecretIsReportedWithoutItsValueAndExitsOne() throws {
        let result = try TailshipProcess.run(
            ["check", "-c", Self.repoRoot + "/agent.yaml.example"],
            env: ["MIXPANEL_SECRET": ""])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("agent.yaml.example:") && result.stderr.contains("MIXPANEL_SECRET"),
            "\(result.stderr)")
    }
}

@Suite struct RunFailureTests {
    @Test func anUnusableStateDirectoryIsARuntimeFailureThatNamesIt() throws {
        let dir = try makeTempDir("e2e-statedir")
        // A regular file where a directory must be: mkdir fails whoever runs the test (even root).
        try "x".write(toFile: dir + "/blocker", atomically: true, encoding: .utf8)
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/blocker/state
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              - name: any
                match: '^(?<ts>\\d+) (?<user>\\w+)'
                event: Seen
                distinct_id: "{{user}}"
                time: { field: ts, format: unix }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TailshipProcess.run(["run", "-c", path])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("\(dir)/blocker") && result.stderr.contains("Not a directory"), "\(result.stderr)")
    }
}
