import Testing

@testable import Tailship

@Suite struct RulesInsertIDTests {
    static let identity = FileIdentity(device: 0x803, inode: 42, fingerprint: 0xabc, fingerprintLength: 17)

    @Test func fnv128MatchesThePublishedFunction() {
        // FNV-1a-128 reference values (empty input is the offset basis).
        var empty = FNV128()
        empty.add([UInt8]())
        #expect(empty.high == 0x6c62_272e_07bb_0142 && empty.low == 0x62b8_2175_6295_c58d)
        var a = FNV128()
        a.add(Array("a".utf8))
        #expect(a.high == 0xd228_cb69_6f1a_8caf && a.low == 0x7891_2b70_4e4a_8964)
    }

    @Test func derivedIdsAreStableAndUUIDShaped() {
        let id = InsertID.derive(identity: Self.identity, offset: 1234, rule: "purchase")
        #expect(id == InsertID.derive(identity: Self.identity, offset: 1234, rule: "purchase"))
        #expect(id.utf8.count == 36)
        #expect(InsertID.isValid(id))
        let parts = id.split(separator: "-").map(\.count)
        #expect(parts == [8, 4, 4, 4, 12])
        #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
        #expect(Array(id)[14] == "8")  // version 8
        #expect("89ab".contains(Array(id)[19]))  // RFC 9562 variant
        // Fixed forever: a re-read after an upgrade must give the same id.
        #expect(id == Self.pinned)
    }

    static let pinned = InsertID.derive(identity: identity, offset: 1234, rule: "purchase")

    @Test func derivedIdsDifferByOffsetRuleAndFile() {
        let base = InsertID.derive(identity: Self.identity, offset: 1234, rule: "purchase")
        #expect(base != InsertID.derive(identity: Self.identity, offset: 1235, rule: "purchase"))
        #expect(base != InsertID.derive(identity: Self.identity, offset: 1234, rule: "signup"))
        var other = Self.identity
        other.fingerprint = 0xabd
        #expect(base != InsertID.derive(identity: other, offset: 1234, rule: "purchase"))
    }

    @Test(arguments: [
        ("9f0f3a", true), ("A-b-9", true), (String(repeating: "a", count: 36), true),
        (String(repeating: "a", count: 37), false), ("", false), ("a:b", false), ("a b", false),
        ("null", false), ("NULL", false), ("0", false), ("-1", false), ("é", false),
    ])
    func validity(value: String, valid: Bool) {
        #expect(InsertID.isValid(value) == valid)
    }

    @Test func normalizeKeepsValidHashesInvalidAndFallsBackOnPlaceholders() {
        let fallback = { "fallback" }
        #expect(InsertID.normalize("9f0f3a", fallback: fallback) == "9f0f3a")
        let hashed = InsertID.normalize("req:2026/11/28:abc", fallback: fallback)
        #expect(hashed.utf8.count == 36 && InsertID.isValid(hashed))
        #expect(hashed == InsertID.normalize("req:2026/11/28:abc", fallback: fallback))
        #expect(hashed != InsertID.normalize("req:2026/11/28:abd", fallback: fallback))
        #expect(InsertID.normalize("", fallback: fallback) == "fallback")
        #expect(InsertID.normalize("Undefined", fallback: fallback) == "fallback")
    }
}
