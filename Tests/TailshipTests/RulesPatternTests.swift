import Foundation
import Testing

@testable import Tailship

@Suite struct RulesPatternTests {
    @Test func namedGroupsAreReportedInPatternOrder() throws {
        let p = try Pattern(#"^(?<ts>\S+) (\w+) user=(?<user>\S+)"#)
        #expect(p.captureCount == 3)
        #expect(p.namedGroups.map(\.name) == ["ts", "user"])
        #expect(p.groupIndex(named: "user") == 3)
        #expect(p.groupIndex(named: "nope") == nil)
    }

    @Test func matchExposesCaptureRanges() throws {
        let p = try Pattern(#"user=(?<user>\S+)(?: plan=(?<plan>\S+))?"#)
        #expect(p.match("x user=u1 y") == .matched)
        #expect(p.range(ofGroup: 1) == 7..<9)
        #expect(p.range(ofGroup: 2) == nil)  // optional group did not take part
        #expect(p.match("nothing here") == .noMatch)
    }

    @Test(arguments: [
        ("a(b", "missing closing parenthesis", 3),
        ("(?<n>a)(?<n>b)", "two named subpatterns have the same name", 12),
        ("x{2,1}", "numbers out of order in {} quantifier", 5),
    ])
    func compileErrorsCarryMessageAndOffset(pattern: String, message: String, offset: Int) {
        #expect(throws: PatternError.self) { try Pattern(pattern) }
        do {
            _ = try Pattern(pattern)
        } catch {
            #expect(error.message.contains(message))
            #expect(error.offset == offset)
            #expect(error.description.hasPrefix("invalid pattern: "))
            #expect(error.description.hasSuffix(" at offset \(offset)"))
        }
    }

    @Test func matchesInvalidUTF8BytesInByteMode() throws {
        let p = try Pattern(#"user=(?<user>\S+)"#)
        let line: [UInt8] = Array("user=".utf8) + [0xff, 0xfe, 0x41]
        let result = line.withUnsafeBytes { p.match($0) }
        #expect(result == .matched)
        #expect(p.range(ofGroup: 1) == 5..<8)
    }

    @Test func utfPatternsToleratesInvalidUTF8Lines() throws {
        let p = try Pattern(#"(*UTF)é(?<rest>.*)"#)
        let bad: [UInt8] = [0xff] + Array("é ok".utf8)
        #expect(bad.withUnsafeBytes { p.match($0) } == .matched)
        let none: [UInt8] = [0xc3, 0x28]
        #expect(none.withUnsafeBytes { p.match($0) } == .noMatch)
    }

    @Test func emptyLineIsMatchable() throws {
        let p = try Pattern("^$")
        #expect(p.match("") == .matched)
        #expect(p.match(UnsafeRawBufferPointer(start: nil, count: 0)) == .matched)
    }

    @Test func catastrophicBacktrackingHitsTheLimitQuickly() throws {
        let p = try Pattern(#"^(a+)+$"#, matchLimit: 100_000)
        let line = String(repeating: "a", count: 5000) + "b"
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(p.match(line) == .limitHit) }
        #expect(elapsed < .seconds(2))
        // The pattern still works on a line it can decide within the limit.
        #expect(p.match("aaaa") == .matched)
    }

    @Test func defaultLimitsStopNestedQuantifiers() throws {
        let p = try Pattern(#"(\w+\s?)*$"#)
        let line = String(repeating: "word ", count: 2000) + "!"
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(p.match(line) == .limitHit) }
        #expect(elapsed < .seconds(5))
    }

    /// The per-line budget (`Pattern.budget(lineBytes:)`) passes every realistic rule of the docs
    /// and the suite, on short lines, long ones and near misses (each gives the result an
    /// unlimited match gives), and stops a crafted near miss that makes a pattern with several
    /// `.*` backtrack, which the former fixed limit let run to 1,000,000 steps.
    @Test func theBudgetPassesRealisticRulesAndStopsACraftedLine() throws {
        let pad = String(repeating: "a", count: 8000)
        let long = String(repeating: "word ", count: 13_000)
        let cases: [(String, [String])] = [
            (
                LogPresets.combined,
                [
                    #"203.0.113.9 - alice [28/Nov/2026:04:59:15 +0000] "GET /p?x=1 HTTP/1.1" 200 5123 "https://r/" "Mozilla/5.0""#,
                    #"203.0.113.9 - - [28/Nov/2026:04:59:15 +0000] "GET /\#(pad) HTTP/1.1" 304 - "-" "\#(pad)""#, long,
                ]
            ),
            (LogPresets.syslog, ["<34>Nov 28 04:59:15 host app[123]: message " + pad, long]),
            (
                #"^(?<ts>\S+) INFO user=(?<user>\S+) action=purchase amount=(?<amount>[\d.]+) plan=(?<plan>\S+)"#,
                [
                    "2026-11-28T04:59:15Z INFO user=u1 action=purchase amount=12.5 plan=pro", "t INFO user=u " + pad,
                    long,
                ]
            ),
            (#"user=(?<user>\S+).*action=(?<action>\w+)"#, ["ts user=u1 x=1 action=buy", "ts user=u1 " + pad, long]),
            (#"^(?<ts>\S+ \S+) \[(?<level>\w+)\] (?<msg>.*)$"#, ["2026-11-28 04:59:15 [INFO] hello " + pad, long]),
            (
                #"^(?<ts>\S+) .*user=(?<user>\S+).*amount=(?<amount>[\d.]+).*plan=(?<plan>\S+)"#,
                ["t user=u amount=1 plan=p", "t user=u amount=1 " + pad, "t " + long]
            ),
            (#"(?<m>.*)"#, [pad, long]),
        ]
        for (source, lines) in cases {
            let budgeted = try Pattern(source)
            let unlimited = try Pattern(source, matchLimit: .max, budgeted: false)
            for line in lines {
                let expected = unlimited.match(line)
                #expect(expected != .limitHit, "\(source) on a \(line.utf8.count)-byte line")
                #expect(budgeted.match(line) == expected, "\(source) on a \(line.utf8.count)-byte line")
            }
        }
        let crafted = try Pattern(
            #"^(?<ts>\S+) .*user=(?<user>\S+).*amount=(?<amount>[\d.]+).*plan=(?<plan>\S+) .*request_id=(?<rid>\S+)$"#)
        let attack = "t " + String(repeating: "user=a amount=1 plan=p ", count: 180)
        #expect(crafted.match(attack) == .limitHit)
        // The former fixed limit stopped it too, but only after 1,000,000 steps (about 11 ms).
        #expect(try Pattern(crafted.source, budgeted: false).match(attack) == .limitHit)
        #expect(crafted.match("t user=a amount=1 plan=p request_id=r") == .matched)
        #expect(Pattern.budget(lineBytes: attack.utf8.count) == 4_096 + 16 * 4_142)
    }

    @Test(arguments: [
        (#"^(?<ts>\S+) user=(?<u>\w+)"#, 0), (#"(?<m>.*)"#, 1), (#".*user=(?<u>.+) amount=.*?x"#, 3),
        (#"a\.*b[.*]c.{2,}d.{1,3}"#, 1), (#"[]]*.*x[^]]+.+"#, 2), (#"[[:alpha:].*]x.*"#, 1),
        (#"\Q.*.*\E.*"#, 1),
    ])
    func unboundedWildcardsAreCounted(pattern: String, count: Int) {
        #expect(AgentPlan.unboundedWildcards(in: pattern) == count)
    }

    /// `check` warns about several unbounded wildcards in a rule's `match` and in its `where`
    /// patterns, each at its own position.
    @Test func wildcardWarningsNameThePatternAndItsPosition() throws {
        let dir = NSTemporaryDirectory() + "wildcards-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        destination: { kind: stdout }
        sources:
          - name: app
            paths: [/x]
            rules:
              - name: r
                match: '^(?<ts>\\d+) .*user=(?<u>\\w+).*'
                where: { u: '.+a.+' }
                event: E
                distinct_id: "{{u}}"
                time: { field: ts, format: unix }
        """.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        let warnings = try AgentPlan.load(path: dir + "/agent.yaml", environment: [:]).patternWarnings()
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.first?.hasPrefix(dir + "/agent.yaml:7:16: warning: the pattern of rule 'r' has 2") == true)
        #expect(
            warnings.last?.hasPrefix(dir + "/agent.yaml:8:21: warning: the where pattern of 'u' of rule 'r' has 2")
                == true, "\(warnings)")
    }
}
