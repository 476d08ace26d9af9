import Testing

@testable import Tailship

@Suite struct RulesFormatTests {
    typealias F = RulesFixture

    func event(_ engine: RuleEngine, _ line: String) -> Event? {
        if case .event(let e, _) = engine.process(line: line, basis: F.basis, offset: 0, nowMs: F.now) {
            return e
        }
        return nil
    }

    static let nginx =
        #"203.0.113.9 - alice [28/Nov/2026:05:59:15 +0100] "GET /pricing?x=1 HTTP/1.1" 200 5120 "https://ex.com/" "Mozilla/5.0 (X11) \"q\"""#

    @Test func nginxCombinedFields() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "page", match: "GET", event: "{{method}} {{path}}", distinctId: "{{remote_user}}",
                    time: ("time_local", "%d/%b/%Y:%H:%M:%S %z"), ip: "{{remote_addr}}",
                    properties: [
                        ("status", "{{status}}", .int), ("bytes", "{{body_bytes_sent}}", .int),
                        ("protocol", "{{protocol}}", .string), ("referrer", "{{http_referer}}", .string),
                        ("ua", "{{http_user_agent}}", .string), ("ident", "{{ident}}", .string),
                    ])
            ],
            format: .nginxCombined)
        let e = try #require(event(engine, Self.nginx))
        #expect(e.name == "GET /pricing?x=1")
        #expect(e.distinctId == "alice")
        #expect(e.ip == "203.0.113.9")
        #expect(e.timeMs == 1_795_841_955_000)
        #expect(
            e.properties == [
                EventProperty(name: "status", value: .int(200)), EventProperty(name: "bytes", value: .int(5120)),
                EventProperty(name: "protocol", value: .string("HTTP/1.1")),
                EventProperty(name: "referrer", value: .string("https://ex.com/")),
                EventProperty(name: "ua", value: .string(#"Mozilla/5.0 (X11) \"q\""#)),
            ])  // `ident` is `-`: absent, so left out
        // The rule's own match must also hold; lines in another format match no rule.
        #expect(event(engine, Self.nginx.replacingOccurrences(of: "GET", with: "POST")) == nil)
        let traces = engine.explain(line: "not an access log line", basis: F.basis, offset: 0, nowMs: F.now)
        #expect(traces == [RuleTrace(rule: "page", verdict: .lineNotInFormat("not a nginx_combined line"))])
    }

    @Test func apacheCommonWithoutRefererStillReads() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "hit", event: "Hit", distinctId: "{{remote_addr}}",
                    properties: [("ref", "{{http_referer}}", .string), ("size", "{{body_bytes_sent}}", .string)])
            ],
            format: .apacheCombined)
        let e = try #require(event(engine, #"10.0.0.1 - - [28/Nov/2026:04:59:15 +0000] "GET / HTTP/1.0" 304 -"#))
        #expect(e.distinctId == "10.0.0.1")
        #expect(e.properties.isEmpty)  // no referer, and a size of `-`: both absent, left out
    }

    /// `-` is "no value" in access logs: a typed property from it is left out instead of
    /// invalidating the event (every 304), an anonymous `remote_user` is absent rather than one
    /// user called "-", and a fallback takes the next field or a default.
    @Test func aDashIsAbsentAndFallbacksTakeTheNextValue() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "hit", event: "Hit", distinctId: "{{remote_user|remote_addr}}",
                    properties: [
                        ("bytes", "{{body_bytes_sent}}", .int), ("ref", "{{http_referer|'direct'}}", .string),
                    ])
            ],
            format: .apacheCombined)
        let anonymous = #"10.0.0.1 - - [28/Nov/2026:04:59:15 +0000] "GET / HTTP/1.0" 304 - "-" "curl/8""#
        let e = try #require(event(engine, anonymous))
        #expect(e.distinctId == "10.0.0.1")
        #expect(e.properties == [EventProperty(name: "ref", value: .string("direct"))])
        let known = #"10.0.0.1 - bob [28/Nov/2026:04:59:15 +0000] "GET / HTTP/1.0" 200 12 "https://r/" "curl/8""#
        let k = try #require(event(engine, known))
        #expect(k.distinctId == "bob")
        #expect(
            k.properties == [
                EventProperty(name: "bytes", value: .int(12)), EventProperty(name: "ref", value: .string("https://r/")),
            ])
        // Without a fallback, an absent distinct_id means no event, and --explain says why.
        let strict = try F.engine(
            [F.rule("hit", event: "Hit", distinctId: "{{remote_user}}")], format: .apacheCombined)
        #expect(event(strict, anonymous) == nil)
        let traces = strict.explain(line: anonymous, basis: F.basis, offset: 0, nowMs: F.now)
        #expect(traces == [RuleTrace(rule: "hit", verdict: .fieldMissing(field: "remote_user", part: "distinct_id"))])
    }

    @Test func syslogFields() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "ssh", match: "Accepted", event: "SSH Login", distinctId: "{{hostname}}",
                    time: ("timestamp", "%b %e %H:%M:%S"),
                    properties: [
                        ("app", "{{app_name}}", .string), ("pid", "{{procid}}", .int), ("msg", "{{message}}", .string),
                        ("pri", "{{pri}}", .int),
                    ])
            ],
            format: .syslog)
        let e = try #require(event(engine, "<38>Nov 28 04:59:15 web-1 sshd[4242]: Accepted publickey for ann"))
        #expect(e.timeMs == 1_795_841_955_000)
        #expect(e.distinctId == "web-1")
        #expect(
            e.properties == [
                EventProperty(name: "app", value: .string("sshd")), EventProperty(name: "pid", value: .int(4242)),
                EventProperty(name: "msg", value: .string("Accepted publickey for ann")),
                EventProperty(name: "pri", value: .int(38)),
            ])
    }

    /// RFC 5424 in the same `syslog` format: the RFC's own examples (a BOM before the message,
    /// `-` as nil, several structured-data elements), escapes in a parameter, no message, and a
    /// malformed line.
    @Test func syslog5424Fields() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "app", event: "{{app_name}} {{msgid}}", distinctId: "{{hostname}}",
                    time: ("timestamp", "iso8601"),
                    properties: [
                        ("pri", "{{pri}}", .int), ("version", "{{version}}", .int), ("pid", "{{procid}}", .int),
                        ("event_id", "{{sd.exampleSDID@32473.eventID}}", .int),
                        ("class", "{{sd.examplePriority@32473.class}}", .string), ("quoted", "{{sd.x@1.a}}", .string),
                        ("msg", "{{message}}", .string),
                    ])
            ],
            format: .syslog)
        let bom = "\u{FEFF}"
        let first = try #require(
            event(
                engine,
                "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
                    + "eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] "
                    + bom + "An application event log entry..."))
        #expect(first.name == "evntslog ID47")
        #expect(first.distinctId == "mymachine.example.com")
        #expect(first.timeMs == 1_065_910_455_003)
        #expect(
            first.properties == [
                EventProperty(name: "pri", value: .int(165)), EventProperty(name: "version", value: .int(1)),
                EventProperty(name: "event_id", value: .int(1011)),
                EventProperty(name: "class", value: .string("high")),
                EventProperty(name: "msg", value: .string("An application event log entry...")),
            ])  // procid `-` is absent, so left out
        let escapedLine = #"<34>1 2026-11-27T04:59:15.000003-07:00 host su 8710 ID1 [x@1 a="q\"uote\]d \\ \n"]"#
        let escaped = try #require(
            event(engine, escapedLine), "\(engine.explain(line: escapedLine, basis: F.basis, offset: 0, nowMs: F.now))")
        #expect(escaped.timeMs == 1_795_780_755_000)
        #expect(escaped.properties.contains(EventProperty(name: "quoted", value: .string(#"q"uote]d \ \n"#))))
        #expect(escaped.properties.contains(EventProperty(name: "pid", value: .int(8710))))
        #expect(!escaped.properties.contains { $0.name == "msg" }, "no message")
        let broken = "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [exampleSDID@32473 iut=\"3\""
        #expect(event(engine, broken) == nil)
        #expect(
            engine.explain(line: broken, basis: F.basis, offset: 0, nowMs: F.now)
                == [
                    RuleTrace(
                        rule: "app", verdict: .lineNotInFormat("not an RFC 5424 syslog line: malformed structured data")
                    )
                ])
    }

    @Test func jsonDottedPathsEscapesAndNull() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "j", where: [("kind", "^signup$")], event: "{{event.name}}", distinctId: "{{user.id}}",
                    time: ("ts", "unix_ms"),
                    properties: [
                        ("plan", "{{user.plan}}", .string), ("n", "{{user.n}}", .float), ("tags", "{{tags}}", .string),
                        ("gone", "{{nothing}}", .string), ("meta", "{{meta}}", .string),
                    ])
            ],
            format: .json)
        let line =
            #"{"kind":"signup","ts":1795841955481,"event":{"name":"Sign \"Up\" \u00e9\ud83d\ude00"},"#
            + #" "user":{"id":"u-1","plan":null,"n":-1.5e2},"tags":["a",{"b":1}],"meta":{"x":true}}"#
        let e = try #require(event(engine, line))
        #expect(e.name == "Sign \"Up\" é😀")
        #expect(e.distinctId == "u-1")
        #expect(e.timeMs == 1_795_841_955_481)
        #expect(
            e.properties == [
                EventProperty(name: "n", value: .float(-150)),
                EventProperty(name: "tags", value: .string(#"["a",{"b":1}]"#)),
                EventProperty(name: "meta", value: .string(#"{"x":true}"#)),
            ])
        #expect(event(engine, line.replacingOccurrences(of: "signup", with: "login")) == nil)
        let broken = engine.explain(line: #"{"kind":"signup""#, basis: F.basis, offset: 0, nowMs: F.now)
        #expect(broken == [RuleTrace(rule: "j", verdict: .lineNotInFormat("not a JSON object"))])
    }

    @Test func logfmtQuotedValuesAndBareKeys() throws {
        let engine = try F.engine(
            [
                F.rule(
                    "l", event: "{{msg}}", distinctId: "{{user}}",
                    properties: [
                        ("debug", "{{debug}}", .bool), ("empty", "{{empty}}", .string), ("path", "{{path}}", .string),
                    ])
            ],
            format: .logfmt)
        let e = try #require(event(engine, #"level=info msg="user \"signed\" up" user=u1 debug empty= path=/a=b"#))
        #expect(e.name == #"user "signed" up"#)
        #expect(e.distinctId == "u1")
        #expect(
            e.properties == [
                EventProperty(name: "debug", value: .bool(true)), EventProperty(name: "empty", value: .string("")),
                EventProperty(name: "path", value: .string("/a=b")),
            ])
        #expect(event(engine, "level=info user=u1") == nil)  // msg missing
    }
}
