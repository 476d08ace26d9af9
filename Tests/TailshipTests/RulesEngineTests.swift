import Testing

@testable import Tailship

@Suite struct RulesEngineTests {
    typealias F = RulesFixture
    static let line =
        "2026-11-28T04:59:15.481Z INFO user=u10554 action=purchase amount=387.03 plan=pro request_id=9f0f3a"
    static let examplePattern = #"^(?<ts>\S+) INFO user=(?<user>\S+) action=purchase amount=(?<amount>[\d.]+)"#

    /// The PRODUCT.md example rule. Its `plan` and `request_id` only exist for a format that
    /// parses keys, so it runs on `logfmt` (the `match` groups add `ts`, `user`, `amount`).
    static func exampleRule(ip: String? = nil) -> RuleConfig {
        F.rule(
            "purchase", match: examplePattern, where: [("plan", "^(pro|team)$")], event: "Purchase Completed",
            distinctId: "{{user}}", time: ("ts", "iso8601"), insertId: "{{request_id}}", ip: ip,
            properties: [("amount", "{{amount}}", .float), ("plan", "{{plan}}", .string), ("channel", "web", .string)])
    }

    func run(_ engine: RuleEngine, _ line: String, offset: UInt64 = 4096) -> RuleOutcome {
        engine.process(line: line, basis: F.basis, offset: offset, nowMs: F.now)
    }

    @Test func productExampleYieldsTheExactEvent() throws {
        let engine = try F.engine(
            [Self.exampleRule(), F.rule("noise", match: "healthcheck", drop: true)], format: .logfmt)
        let expected = Event(
            name: "Purchase Completed", distinctId: "u10554", timeMs: 1_795_841_955_481, insertId: "9f0f3a", ip: "0",
            properties: [
                EventProperty(name: "amount", value: .float(387.03)),
                EventProperty(name: "plan", value: .string("pro")),
                EventProperty(name: "channel", value: .string("web")),
            ])
        #expect(run(engine, Self.line) == .event(expected, rule: "purchase"))
        #expect(run(engine, "GET /healthcheck 200") == .dropped(rule: "noise"))
        #expect(run(engine, Self.line.replacingOccurrences(of: "plan=pro", with: "plan=free")) == .unmatched)
    }

    @Test func productExampleWithIpNeedsTheClientIpField() throws {
        let engine = try F.engine([Self.exampleRule(ip: "{{client_ip}}")], format: .logfmt)
        #expect(run(engine, Self.line) == .unmatched)
        let traces = engine.explain(line: Self.line, basis: F.basis, offset: 0, nowMs: F.now)
        #expect(traces == [RuleTrace(rule: "purchase", verdict: .fieldMissing(field: "client_ip", part: "ip"))])
        guard case .event(let event, _) = run(engine, Self.line + " client_ip=203.0.113.9") else {
            Issue.record("expected an event")
            return
        }
        #expect(event.ip == "203.0.113.9")
    }

    @Test func exampleRuleOnRegexFormatFlagsFieldsThePatternLacks() {
        let problems = F.problems([Self.exampleRule(ip: "{{client_ip}}")])
        let lacking = "is not produced by the pattern (named groups: amount, ts, user)"
        #expect(
            problems == [
                "agent.yaml:12:18: field 'plan' \(lacking)",  // where
                "agent.yaml:16:20: field 'request_id' \(lacking)",  // insert_id
                "agent.yaml:17:13: field 'client_ip' \(lacking)",  // ip
                "agent.yaml:19:20: field 'plan' \(lacking)",  // property plan
            ])
    }

    @Test func firstMatchWinsAndDefaultsApply() throws {
        let engine = try F.engine([
            F.rule("login", match: #"login user=(?<user>\w+)"#, event: "Login", distinctId: "{{user}}"),
            F.rule("any-user", match: #"user=(?<user>\w+)"#, event: "Seen {{user}}", distinctId: "{{user}}"),
        ])
        guard case .event(let first, let rule) = run(engine, "login user=ann", offset: 77) else {
            Issue.record("expected an event")
            return
        }
        #expect(rule == "login")
        #expect(first.ip == "0")
        #expect(first.timeMs == F.now)  // no time: spec
        #expect(first.insertId == "6e55afed-0765-8341-a42a-6e81cd397ba0")  // derive(F.basis, 77, "login"), pinned
        guard case .event(let second, "any-user") = run(engine, "logout user=bob") else {
            Issue.record("expected the second rule")
            return
        }
        #expect(second.name == "Seen bob")
        #expect(run(engine, "nobody here") == .unmatched)
    }

    @Test func missingFieldsFallThroughToTheNextRule() throws {
        let engine = try F.engine([
            F.rule("with-id", match: #"a(?: id=(?<id>\w+))?"#, event: "A", distinctId: "{{id}}"),
            F.rule("fallback", match: "a", event: "A anonymous", distinctId: ""),
        ])
        guard case .event(_, "with-id") = run(engine, "a id=x") else {
            Issue.record("with-id")
            return
        }
        guard case .event(let e, "fallback") = run(engine, "a") else {
            Issue.record("fallback")
            return
        }
        #expect(e.distinctId == "")
    }

    @Test func whereConditionsFilter() throws {
        let engine = try F.engine([
            F.rule(
                "big", match: #"amount=(?<amount>\d+) user=(?<user>\w+)"#,
                where: [("amount", "^\\d{3,}$"), ("user", "^u")], event: "Big", distinctId: "{{user}}")
        ])
        guard case .event = run(engine, "amount=1000 user=u1") else {
            Issue.record("match")
            return
        }
        #expect(run(engine, "amount=10 user=u1") == .unmatched)
        #expect(run(engine, "amount=1000 user=x1") == .unmatched)
        let traces = engine.explain(line: "amount=10 user=u1", basis: F.basis, offset: 0, nowMs: F.now)
        #expect(traces == [RuleTrace(rule: "big", verdict: .conditionFailed(field: "amount", value: "10"))])
        #expect(traces[0].description == #"rule big: where amount: value "10" did not match"#)
    }

    @Test func typedPropertiesConvertOrInvalidate() throws {
        let engine = try F.engine([
            F.rule(
                "t", match: #"n=(?<n>\S*) f=(?<f>\S*) b=(?<b>\S*)(?: o=(?<o>\S+))?"#, event: "T", distinctId: "d",
                properties: [
                    ("n", "{{n}}", .int), ("f", "{{f}}", .float), ("b", "{{b}}", .bool), ("o", "{{o}}", .string),
                    ("s", "{{n}}", .string),
                ])
        ])
        guard case .event(let e, _) = run(engine, "n=-42 f=1e3 b=Yes") else {
            Issue.record("event")
            return
        }
        #expect(
            e.properties == [
                EventProperty(name: "n", value: .int(-42)), EventProperty(name: "f", value: .float(1000)),
                EventProperty(name: "b", value: .bool(true)), EventProperty(name: "s", value: .string("-42")),
            ])
        // Empty values of typed properties are left out; an empty string stays.
        guard case .event(let empty, _) = run(engine, "n= f= b= o=x") else {
            Issue.record("empty")
            return
        }
        #expect(
            empty.properties == [
                EventProperty(name: "o", value: .string("x")), EventProperty(name: "s", value: .string("")),
            ])
        #expect(
            run(engine, "n=4.5 f=abc b=maybe")
                == .invalid(
                    rule: "t",
                    problems: [
                        EventProblem(
                            field: "properties.n", message: #"'properties.n' is invalid: "4.5" is not an int"#),
                        EventProblem(
                            field: "properties.f", message: #"'properties.f' is invalid: "abc" is not a float"#),
                        EventProblem(
                            field: "properties.b", message: #"'properties.b' is invalid: "maybe" is not a bool"#),
                    ]))
    }

    @Test func invalidEventsCarryTheAPIProblems() throws {
        let engine = try F.engine([
            F.rule(
                "r", match: #"user=(?<user>\S*) ts=(?<ts>\S+)"#, event: "E",
                distinctId: "{{user}}", time: ("ts", "unix"))
        ])
        #expect(
            run(engine, "user=null ts=1795841955")
                == .invalid(
                    rule: "r",
                    problems: [
                        EventProblem(
                            field: "properties.distinct_id",
                            message: "'properties.distinct_id' is invalid: must not be a placeholder value (null)")
                    ]))
        #expect(
            run(engine, "user=u ts=4102444800")
                == .invalid(
                    rule: "r",
                    problems: [
                        EventProblem(
                            field: "properties.time", message: "'properties.time' is invalid: must not be in the future"
                        )
                    ]))
        guard case .invalid(_, let p) = run(engine, "user=u ts=12x") else {
            Issue.record("bad time")
            return
        }
        #expect(p.map(\.field) == ["properties.time"])
        #expect(p[0].message.contains("cannot read \"12x\" with format unix"))
    }

    /// `invalid_utf8: replace` (the default) sends the value with U+FFFD for each bad sequence and
    /// counts it; `dead_letter` makes the event invalid, as the API would.
    @Test func invalidUTF8IsReplacedOrAProblemAsTheSourceSays() throws {
        let rules = [
            F.rule(
                "r", match: #"user=(?<user>\S+) note=(?<note>\S+)"#, event: "E", distinctId: "{{user}}",
                properties: [("note", "{{note}}", .string)])
        ]
        let latin1: [UInt8] = Array("user=ab note=caf".utf8) + [0xe9]
        let replacing = try F.engine(rules)
        let sent = latin1.withUnsafeBytes { replacing.process(line: $0, basis: F.basis, offset: 0, nowMs: F.now) }
        guard case .event(let event, _) = sent else {
            Issue.record("\(sent)")
            return
        }
        #expect(event.properties == [EventProperty(name: "note", value: .string("caf\u{FFFD}"))])
        #expect(replacing.utf8Replaced == 1)

        let engine = try F.engine(
            [F.rule("r", match: #"user=(?<user>\S+)"#, event: "E", distinctId: "{{user}}")], invalidUTF8: .deadLetter)
        let bytes: [UInt8] = Array("user=ab".utf8) + [0xff]
        let outcome = bytes.withUnsafeBytes { engine.process(line: $0, basis: F.basis, offset: 0, nowMs: F.now) }
        #expect(
            outcome
                == .invalid(
                    rule: "r",
                    problems: [
                        EventProblem(
                            field: "properties.distinct_id",
                            message: "'properties.distinct_id' is invalid: string should be valid utf8")
                    ]))
    }

    /// A NUL, newline or escape in a user id or an event name would split one user (or event)
    /// in two in every report: refused.
    @Test func controlCharactersAreRefusedInDistinctIdAndEventName() throws {
        let engine = try F.engine([
            F.rule("r", match: #"user=(?<user>[^ ]+) ev=(?<ev>[^ ]+)"#, event: "{{ev}}", distinctId: "{{user}}")
        ])
        guard case .invalid(_, let problems) = run(engine, "user=a\u{0}b ev=E\u{1B}x") else {
            Issue.record("not refused")
            return
        }
        #expect(
            problems.map(\.message) == [
                "'event' must not contain control characters",
                "'properties.distinct_id' is invalid: must not contain control characters",
            ])
    }

    @Test func ruleInsertIdsAreNormalized() throws {
        let engine = try F.engine([
            F.rule("r", match: #"id=(?<id>\S*)"#, event: "E", distinctId: "d", insertId: "{{id}}")
        ])
        guard case .event(let kept, _) = run(engine, "id=abc-1") else {
            Issue.record("kept")
            return
        }
        #expect(kept.insertId == "abc-1")
        guard case .event(let hashed, _) = run(engine, "id=req:1/2") else {
            Issue.record("hashed")
            return
        }
        #expect(hashed.insertId.utf8.count == 36 && InsertID.isValid(hashed.insertId))
        guard case .event(let derived, _) = run(engine, "id=", offset: 9) else {
            Issue.record("derived")
            return
        }
        #expect(derived.insertId == "2454329a-7a94-8c6b-8569-b62abc9f94e0")  // derive(F.basis, 9, "r"), pinned
    }

    @Test func explainListsEveryRuleUpToTheMatch() throws {
        let engine = try F.engine([
            F.rule("a", match: "^GET", event: "A"),
            F.rule("b", match: #"user=(?<user>\w+)(?: plan=(?<plan>\w+))?"#, event: "B", distinctId: "{{plan}}"),
            F.rule("c", match: "user", event: "C"),
            F.rule("d", match: "never", event: "D"),
        ])
        let traces = engine.explain(line: "POST user=ann", basis: F.basis, offset: 0, nowMs: F.now)
        #expect(traces.map(\.rule) == ["a", "b", "c"])
        #expect(traces[0].verdict == .patternDidNotMatch)
        #expect(traces[1].verdict == .fieldMissing(field: "plan", part: "distinct_id"))
        guard case .matched(let e) = traces[2].verdict else {
            Issue.record("c matches")
            return
        }
        #expect(e.name == "C")
        #expect(traces[2].description.hasPrefix("rule c: matched: event \"C\""))
    }

    @Test func limitHitIsReportedWhenNothingElseMatches() throws {
        let engine = try F.engine([
            F.rule("slow", match: #"^(a+)+$"#, event: "S"), F.rule("other", match: "^b", event: "O"),
        ])
        let line = String(repeating: "a", count: 3000) + "c"
        #expect(run(engine, line) == .limitHit(rule: "slow"))
        guard case .event(_, "other") = run(engine, "b" + line) else {
            Issue.record("other")
            return
        }
    }

    /// The rule whose budget ran out might have matched, and would have taken the line: a
    /// catch-all after it must not take it instead.
    @Test func aLineOutOfOneRulesBudgetIsNotTakenByALaterRule() throws {
        let engine = try F.engine([
            F.rule("slow", match: #"^(a+)+$"#, event: "S"), F.rule("catch_all", match: ".", event: "C"),
        ])
        let line = String(repeating: "a", count: 3000) + "c"
        #expect(run(engine, line) == .limitHit(rule: "slow"))
        #expect(engine.explain(line: line, nowMs: F.now).map(\.rule) == ["slow"])
    }

    @Test func timeFieldMayBeATemplateInTheSourceZone() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "r", match: #"^(?<d>\S+) (?<t>\S+) go"#, event: "E",
                    time: ("{{d}}T{{t}}", "iso8601"))
            ], timezone: "Europe/Paris")
        guard case .event(let e, _) = run(engine, "2026-11-28 05:59:15.481 go") else {
            Issue.record("event")
            return
        }
        #expect(e.timeMs == 1_795_841_955_481)
    }
}
