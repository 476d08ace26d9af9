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
}
