import Foundation
import Testing

@testable import Tailship

/// One test per kind of problem, each asserting the exact `FILE:LINE:COLUMN: message` line.
@Suite struct ConfigProblemTests {
    /// `minimalConfig` with `line` replaced by `replacement`.
    private func variant(_ line: String, _ replacement: String) -> String {
        precondition(minimalConfig.contains(line), "no such line: \(line)")
        return minimalConfig.replacingOccurrences(of: line, with: replacement)
    }

    @Test func yamlSyntaxError() {
        #expect(
            configProblems(variant("    paths: /var/log/app.log", "    paths: [/var/log/app.log"))
                == [
                    "agent.yaml:7:10: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at 6:12)"
                ])
    }

    @Test func unknownKeyWithSuggestion() {
        #expect(
            configProblems(variant("        match: 'x'", "        mach: 'x'"))
                == [
                    "agent.yaml:8:9: missing required key 'match' (needed for format: regex)",
                    "agent.yaml:9:9: unknown key 'mach'; did you mean 'match'?",
                ])
    }

    /// The properties every event already carries cannot be mapped by a rule: each is refused at
    /// its own position, and an ordinary property beside them is not.
    @Test func reservedPropertyNamesAreRefusedWhereTheyStand() {
        let config = variant(
            "        match: 'x'",
            """
                    match: '(?<ts>\\d+) user=(?<u>\\w+)'
                    properties:
                      time: "{{ts}}"
                      plan: x
                      distinct_id: "{{u}}"
                      $insert_id: "{{u}}"
                      ip: { value: "{{u}}", type: string }
                      token: t
            """)
        #expect(
            configProblems(config) == [
                "agent.yaml:11:11: property 'time' is set by tailship itself (from the rule's 'time:'); give this property another name",
                "agent.yaml:13:11: property 'distinct_id' is set by tailship itself (from the rule's 'distinct_id:'); give this property another name",
                "agent.yaml:14:11: property '$insert_id' is set by tailship itself (from the rule's 'insert_id:', or derived); give this property another name",
                "agent.yaml:15:11: property 'ip' is set by tailship itself (from the rule's 'ip:', \"0\" without it); give this property another name",
                "agent.yaml:16:11: property 'token' is set by tailship itself (the project token, for api: track); give this property another name",
            ])
    }

    /// A url with a path would have every request 404 (`<path>/import`), forever: refused, with
    /// the bare host to use.
    @Test(arguments: [
        ("https://api-eu.mixpanel.com/import", "https://api-eu.mixpanel.com", true),
        ("https://api.mixpanel.com/track/", "https://api.mixpanel.com", true),
        ("http://127.0.0.1:8080/mixpanel", "http://127.0.0.1:8080", false),
    ])
    func aUrlWithAPathIsRefused(url: String, bare: String, endpoint: Bool) {
        let hint = endpoint ? " (tailship adds the endpoint itself; choose it with 'api')" : ""
        #expect(
            configProblems(variant("destination:", "destination:\n  url: \(url)")) == [
                "agent.yaml:2:8: 'url' must be the API's base URL without a path; use '\(bare)'\(hint)"
            ])
    }

    /// A misspelt format is one problem, not a cascade of "field is not produced" for every
    /// template of its rules (which fields a line has is unknown then).
    @Test func aMisspeltFormatIsOneProblem() {
        let config = variant(
            "        match: 'x'",
            """
                    match: 'x'
                    properties:
                      plan: "{{plan}}"
            """
        ).replacingOccurrences(of: "    paths: /var/log/app.log", with: "    paths: /var/log/app.log\n    format: jsn")
        #expect(
            configProblems(config) == [
                "agent.yaml:7:13: invalid value 'jsn' for 'format'; expected one of: regex, json, logfmt, nginx_combined, apache_combined, syslog"
            ])
    }

    /// A forgotten `- ` turns a list into a mapping: that is reported, and so is everything wrong
    /// inside the item, its rules' templates included, in the same run rather than after the first
    /// fix; a duplicate source name is reported even when that source has problems of its own.
    @Test func aStructuralProblemDoesNotHideTheNextLayer() throws {
        let dir = NSTemporaryDirectory() + "config-layers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func problems(_ text: String) throws -> [String] {
            try text.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
            do {
                _ = try AgentPlan.load(path: dir + "/agent.yaml", environment: ["S": "s"])
                return []
            } catch {
                return error.problems.map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
            }
        }
        /// A rule whose lines after the first are indented by `indent`.
        func rule(_ indent: Int, user: String = "zz") -> String {
            let pad = String(repeating: " ", count: indent)
            return "name: r1\n\(pad)match: 'x(?<a>\\d+)'\n\(pad)event: E\n\(pad)distinct_id: \"{{\(user)}}\"\n"
                + "\(pad)time: { field: a, format: unix }\n"
        }
        let head = "destination:\n  auth: { secret_env: S }\nsources:\n"
        #expect(
            try problems(head + "  name: app\n  paths: [/x]\n  rules:\n    - \(rule(6))") == [
                "agent.yaml:4:3: expected a list of sources for 'sources', got a mapping; start the source with '- '",
                "agent.yaml:10:20: field 'zz' is not produced by the pattern (named groups: a)",
            ])
        #expect(
            try problems(head + "  - name: app\n    paths: [/x]\n    rules:\n      \(rule(6))") == [
                "agent.yaml:7:7: expected a list of rules for 'rules', got a mapping; start the rule with '- '",
                "agent.yaml:10:20: field 'zz' is not produced by the pattern (named groups: a)",
            ])
        #expect(
            try problems(
                head + "  - name: app\n    paths: [/x]\n    rules:\n      - \(rule(8, user: "a"))"
                    + "  - name: app\n    paths: []\n    rules: []\n") == [
                    "agent.yaml:12:11: duplicate source name 'app' (first at 4:11)",
                    "agent.yaml:13:12: 'paths' must list at least one entry",
                    "agent.yaml:14:12: 'rules' must list at least one rule",
                ])
    }

    /// `time: { from: read }` for logs without timestamps: alone, and only `read`.
    @Test func timeFromReadStandsAlone() throws {
        let base = variant("        time: { field: ts, format: unix }", "        time: { from: read }")
        #expect(configProblems(base) == [])
        let config = try ConfigLoader.parse(text: base, file: "agent.yaml", environment: ["MIXPANEL_SECRET": "s"])
        let rule = config.sources[0].rules[0]
        #expect(rule.timeFromRead && rule.time == nil)
        #expect(
            configProblems(
                variant("        time: { field: ts, format: unix }", "        time: { from: read, formt: x }")
            )
            .first?.contains("unknown key 'formt'") == true)
        #expect(
            configProblems(variant("        time: { field: ts, format: unix }", "        time: { from: now }")) == [
                "agent.yaml:12:23: invalid value 'now' for 'from'; expected: read"
            ])
        #expect(
            configProblems(
                variant("        time: { field: ts, format: unix }", "        time: { from: read, field: ts }"))
                == [
                    "agent.yaml:12:36: 'field' and 'from: read' exclude each other: the time comes from the line or from reading it"
                ])
    }

    /// A rule test names a line and what it expects: either `expect: none` or event fields.
    @Test func ruleTestsNeedALineAndOneKindOfExpectation() {
        func problems(_ test: String) -> [String] {
            configProblems(minimalConfig + "    tests:\n      - \(test)\n")
        }
        #expect(problems("{ line: x, event: E }") == [])
        #expect(problems("{ line: x, expect: none }") == [])
        #expect(problems("{ event: E }") == ["agent.yaml:14:9: missing required key 'line'"])
        #expect(
            problems("{ line: x, expect: nothing }") == [
                "agent.yaml:14:28: invalid value 'nothing' for 'expect'; expected: none"
            ])
        #expect(
            problems("{ line: x, expect: none, event: E }") == [
                "agent.yaml:14:9: a test expects either 'expect: none' or event fields, not both"
            ])
        #expect(
            problems("{ line: x }") == ["agent.yaml:14:9: a test needs the event fields it expects, or 'expect: none'"])
    }

    /// `multiline:` takes one way of telling records apart, limits in range, and a pattern that
    /// compiles; each problem at its own position.
    @Test func multilineIsCheckedWhereItStands() {
        func problems(_ multiline: String) -> [String] {
            configProblems(minimalConfig + "    multiline: \(multiline)\n")
        }
        #expect(problems("{ preset: java }") == [])
        #expect(problems("{ start: '^\\d{4}-', max_lines: 50, max_bytes: 64KiB, timeout: 2s }") == [])
        #expect(
            problems("{ timeout: 2s }") == [
                "agent.yaml:13:16: 'multiline' needs one of 'preset', 'start' or 'continuation'"
            ])
        #expect(
            problems("{ preset: java, start: x }") == [
                "agent.yaml:13:16: 'multiline' takes one of 'preset', 'start' or 'continuation', got 'preset' and 'start'"
            ])
        #expect(
            problems("{ preset: go }") == [
                "agent.yaml:13:26: invalid value 'go' for 'preset'; expected one of: java, python"
            ])
        // The pattern compiles with the rules (`AgentPlan.load`, as `check` runs it).
        let path = NSTemporaryDirectory() + "tailship-multiline-\(getpid()).yaml"
        try? (minimalConfig + "    multiline: { start: '(x' }\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try AgentPlan.load(path: path, environment: [:], checkSecrets: false)
            Issue.record("a pattern that does not compile was accepted")
        } catch {
            // (The minimal rule's fields are not in its pattern: those problems are reported too.)
            #expect(
                error.problems.map(\.description).last
                    == "\(path):13:25: multiline pattern: invalid pattern: missing closing parenthesis at offset 2")
        }
        #expect(
            problems("{ start: x, max_lines: 0 }") == [
                "agent.yaml:13:39: 'max_lines' must be between 1 and 100000, got '0'"
            ])
        #expect(
            problems("{ start: x, timeout: 2h }") == [
                "agent.yaml:13:37: 'timeout' must be between 10ms and 1h, got '2h'"
            ])
    }

    /// `"4"` where a number goes: the quotes are the problem, and the message says so.
    @Test func aQuotedNumberIsNamedAsQuoted() {
        let config = variant("destination:", "destination:\n  max_in_flight: \"4\"\n  gzip: 'true'")
        #expect(
            configProblems(config) == [
                "agent.yaml:2:18: expected an integer for 'max_in_flight', got '4' (quoted, so it is text: write it without quotes)",
                "agent.yaml:3:9: expected true or false for 'gzip', got 'true' (quoted, so it is text: write it without quotes)",
            ])
    }

    @Test func unknownKeyWithoutSuggestionListsKnownKeys() {
        #expect(
            configProblems(minimalConfig + "colour: blue\n")
                == [
                    "agent.yaml:13:1: unknown key 'colour' in the configuration; expected one of: state_dir, destination, sources, metrics"
                ])
    }

    @Test func wrongType() {
        #expect(
            configProblems(variant("  auth:\n    secret_env: MIXPANEL_SECRET", "  auth: [MIXPANEL_SECRET]"))
                == ["agent.yaml:2:9: expected a mapping for 'auth', got a list"])
        #expect(
            configProblems(
                minimalConfig.replacingOccurrences(of: "destination:\n", with: "destination:\n  gzip: yes\n"))
                == ["agent.yaml:2:9: expected true or false for 'gzip', got 'yes'"])
        #expect(
            configProblems(variant("    paths: /var/log/app.log", "    paths: { a: b }"))
                == ["agent.yaml:6:12: expected a list of strings for 'paths', got a mapping"])
    }

    @Test func badEnumValue() {
        #expect(
            configProblems(variant("    paths: /var/log/app.log", "    paths: /var/log/app.log\n    format: csv"))
                == [
                    "agent.yaml:7:13: invalid value 'csv' for 'format'; expected one of: regex, json, logfmt, nginx_combined, apache_combined, syslog"
                ])
    }

    @Test func badDuration() {
        #expect(
            configProblems(variant("destination:", "destination:\n  timeout: 30"))
                == [
                    "agent.yaml:2:12: invalid duration '30' for 'timeout'; use a number with a unit: ms, s, m or h (e.g. 500ms, 30s, 5m)"
                ])
    }

    @Test func badSize() {
        #expect(
            configProblems(
                variant("    paths: /var/log/app.log", "    paths: /var/log/app.log\n    max_line_bytes: 1 megabyte"))
                == [
                    "agent.yaml:7:21: invalid size '1 megabyte' for 'max_line_bytes'; use a number of bytes or a number with a unit: KB, MB, GB, KiB, MiB, GiB (e.g. 1MiB)"
                ])
    }

    @Test func unsetSecretEnvironmentVariable() {
        #expect(
            configProblems(minimalConfig, environment: [:])
                == ["agent.yaml:3:17: environment variable 'MIXPANEL_SECRET' is not set"])
        #expect(
            configProblems(minimalConfig, environment: ["MIXPANEL_SECRET": ""])
                == ["agent.yaml:3:17: environment variable 'MIXPANEL_SECRET' is empty"])
    }

    @Test func unreadableSecretFile() {
        let text = variant("    secret_env: MIXPANEL_SECRET", "    secret_file: /nonexistent/secret")
        #expect(
            configProblems(text)
                == ["agent.yaml:3:18: cannot read secret file '/nonexistent/secret': No such file or directory"])
    }

    /// `max_events_per_second`: a positive whole number of events, or absent (unlimited); each
    /// wrong value is reported at its own position.
    @Test func maxEventsPerSecondIsAPositiveInteger() {
        for (value, message) in [
            ("0", "'max_events_per_second' must be between 1 and 10000000, got '0'"),
            ("-5", "'max_events_per_second' must be between 1 and 10000000, got '-5'"),
            ("2.5", "expected an integer for 'max_events_per_second', got '2.5'"),
            ("30k", "expected an integer for 'max_events_per_second', got '30k'"),
            (
                "\"100\"",
                "expected an integer for 'max_events_per_second', got '100' (quoted, so it is text: write it without quotes)"
            ),
        ] {
            let text = variant("destination:", "destination:\n  max_events_per_second: \(value)")
            #expect(configProblems(text) == ["agent.yaml:2:26: \(message)"], "\(value)")
        }
        let good = variant("destination:", "destination:\n  max_events_per_second: 5000")
        #expect(configProblems(good).isEmpty)
    }

    @Test func outOfRangeValues() {
        let text = variant(
            "destination:",
            """
            destination:
              max_in_flight: 0
              gzip_level: 10
              batch: { max_events: 2001, max_bytes: 11MiB, flush_interval: 0s }
              retry: { initial_backoff: 5s, max_backoff: 1s }
            """)
        #expect(
            configProblems(text) == [
                "agent.yaml:2:18: 'max_in_flight' must be between 1 and 64, got '0'",
                "agent.yaml:3:15: 'gzip_level' must be between 1 and 9, got '10'",
                "agent.yaml:4:24: 'max_events' must be between 1 and 2000, got '2001'",
                "agent.yaml:4:41: 'max_bytes' must be between 1 and 10485760, got '11MiB'",
                "agent.yaml:4:64: 'flush_interval' must be greater than 0, got '0s'",
                "agent.yaml:5:46: 'max_backoff' (1000ms) must be at least 'initial_backoff' (5000ms)",
            ])
    }

    @Test func missingRequiredKey() {
        #expect(
            configProblems(variant("        event: E\n", ""))
                == ["agent.yaml:8:9: missing required key 'event' (needed unless 'drop: true')"])
        #expect(
            configProblems("destination: { kind: stdout }\n")
                == ["agent.yaml:1:1: missing required key 'sources'"])
        #expect(
            configProblems(variant("  auth:\n    secret_env: MIXPANEL_SECRET\n", "  kind: mixpanel\n"))
                == ["agent.yaml:2:3: missing required key 'auth' (needed for api: import)"])
    }

    @Test func emptyConfiguration() {
        #expect(
            configProblems("# nothing yet\n")
                == ["agent.yaml:1:1: the configuration is empty; expected a mapping with 'destination' and 'sources'"])
    }

    @Test func crossKeyRules() {
        let text = """
            destination:
              auth: { username: sa, secret_env: S, secret_file: /s }
            sources: []
            """
        #expect(
            configProblems(text, environment: ["S": "x"]) == [
                "agent.yaml:2:53: 'secret_env' and 'secret_file' are exclusive; keep one",
                "agent.yaml:3:10: 'sources' must list at least one source",
            ])
        #expect(
            configProblems(
                "destination: { auth: { username: sa, secret_env: S } }\nsources: [{}]\n", environment: ["S": "x"])
                == [
                    "agent.yaml:1:34: a service-account 'username' needs 'project_id' in 'destination'",
                    "agent.yaml:2:11: missing required key 'name'",
                    "agent.yaml:2:11: missing required key 'paths'",
                    "agent.yaml:2:11: missing required key 'rules'",
                ])
        #expect(
            configProblems(
                "destination: { kind: file }\nsources: [{name: a, paths: x, rules: [{name: r, drop: true}]}]\n")
                == [
                    "agent.yaml:1:14: missing required key 'path' (needed for kind: file)",
                    "agent.yaml:2:39: missing required key 'match' (needed for format: regex)",
                ])
    }

    @Test func duplicateNamesAndUnknownTimezone() {
        let text =
            minimalConfig + """
                  - name: app
                    paths: [/b.log]
                    timezone: Mars/Olympus
                    rules:
                      - { name: r, match: a, drop: true }
                      - { name: r, match: b, drop: true }

                """
        #expect(
            configProblems(text) == [
                "agent.yaml:13:11: duplicate source name 'app' (first at 5:11)",
                "agent.yaml:15:15: unknown time zone 'Mars/Olympus'; use an IANA name such as UTC or Europe/Paris",
                "agent.yaml:18:17: duplicate rule name 'r' (first at 17:17)",
            ])
    }

    @Test func propertiesAndWhereShapes() {
        let text = variant(
            "        time: { field: ts, format: unix }",
            """
                    time: { field: ts }
                    where: [plan]
                    properties:
                      a: { type: int }
                      b: [x]
                      c: { value: x, type: decimal }
            """)
        #expect(
            configProblems(text) == [
                "agent.yaml:12:15: missing required key 'format'",
                "agent.yaml:13:16: expected a mapping for 'where', got a list",
                "agent.yaml:15:14: missing required key 'value'",
                "agent.yaml:16:14: expected a template or a mapping with 'value' and 'type' for property 'b', got a list",
                "agent.yaml:17:32: invalid value 'decimal' for 'type'; expected one of: string, int, float, bool",
            ])
    }

    @Test func everyProblemIsReportedInFileOrder() {
        let text = """
            state_dir: [a]
            destination:
              kind: mixpanl
              timeout: soon
            sources:
              - name: app
                pathz: /x.log
                rules: []

            """
        #expect(
            configProblems(text) == [
                "agent.yaml:1:12: expected a string for 'state_dir', got a list",
                "agent.yaml:3:9: invalid value 'mixpanl' for 'kind'; expected one of: mixpanel, stdout, file",
                "agent.yaml:4:12: invalid duration 'soon' for 'timeout'; use a number with a unit: ms, s, m or h (e.g. 500ms, 30s, 5m)",
                "agent.yaml:6:5: missing required key 'paths'",
                "agent.yaml:7:5: unknown key 'pathz'; did you mean 'paths'?",
                "agent.yaml:8:12: 'rules' must list at least one rule",
            ])
    }

    @Test func secretValuesNeverAppearInMessages() throws {
        let secret = "super-secret-value-42"
        let path = try secretFile(contents: secret + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = """
            destination:
              auth: { secret_file: \(path), username: [x] }
            sources: 3
            """
        let problems = configProblems(text, environment: ["MIXPANEL_SECRET": secret])
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { !$0.contains(secret) })
    }

    @Test func emptyValuesAndEmptyLists() {
        let text = variant("  - name: app\n    paths: /var/log/app.log", "  - name:\n    paths: []")
        #expect(
            configProblems("state_dir:\n" + text) == [
                "agent.yaml:6:5: missing value for 'name'",
                "agent.yaml:7:12: 'paths' must list at least one entry",
            ])
    }

    @Test func tabIndentationIsASyntaxError() {
        let problems = configProblems("destination:\n\tkind: stdout\n")
        #expect(problems.count == 1)
        let expected = "agent.yaml:2:1: invalid YAML: found character that cannot start any token"
        #expect(problems.first?.hasPrefix(expected) == true)
    }
}
