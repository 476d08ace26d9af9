import Testing

@testable import Tailship

@Suite struct RulesInsertIDTests {
    @Test func fnv128MatchesThePublishedFunction() {
        // FNV-1a-128 reference values (empty input is the offset basis).
        var empty = FNV128()
        empty.add([UInt8]())
        #expect(empty.high == 0x6c62_272e_07bb_0142 && empty.low == 0x62b8_2175_6295_c58d)
        var a = FNV128()
        a.add(Array("a".utf8))
        #expect(a.high == 0xd228_cb69_6f1a_8caf && a.low == 0x7891_2b70_4e4a_8964)
    }

    /// Fixed forever: a line re-read after an upgrade must get the id it was first sent with.
    /// The literals come from an independent implementation (a few lines of Python over the
    /// published FNV-1a parameters, as docs/delivery.md describes the derivation), never from
    /// `InsertID` itself.
    @Test(arguments: [
        (UInt64(0xcbf2_9ce4_8422_2325), UInt64(0), "purchase", "4885bdcd-dfc5-8c1e-9882-d2687de093fa"),
        (0x0123_4567_89ab_cdef, 1234, "purchase", "376313a8-a76b-834a-ad39-c9aee7c83102"),
        (0x0123_4567_89ab_cdef, 1235, "purchase", "76f88f5c-e163-8f23-afc4-65a5d5cb638b"),
        (0x0123_4567_89ab_cdef, 1234, "signup", "ae336287-1e97-8ed8-8778-6c0cb3ecf6b1"),
        (UInt64.max, UInt64.max, "r", "22c5626b-d050-8c4f-b1f1-bfe57f24d800"),
    ])
    func derivedIdsArePinned(basis: UInt64, offset: UInt64, rule: String, expected: String) {
        let id = InsertID.derive(basis: basis, offset: offset, rule: rule)
        #expect(id == expected)
        #expect(InsertID.isValid(id))
        #expect(Array(id)[14] == "8")  // version 8
        #expect("89ab".contains(Array(id)[19]))  // RFC 9562 variant
    }

    @Test(arguments: [
        ("9f0f3a", true), ("A-b-9", true), (String(repeating: "a", count: 36), true),
        (String(repeating: "a", count: 37), false), ("", false), ("a:b", false), ("a b", false),
        ("null", false), ("NULL", false), ("0", false), ("-1", false), ("é", false),
    ])
    func validity(value: String, valid: Bool) {
        #expect(InsertID.isValid(value) == valid)
    }

    /// The bytes' set, one by one against the API's `[A-Za-z0-9-]`.
    @Test func everyByteIsClassifiedLikeTheAPIsCharacterSet() {
        for b in UInt8.min...UInt8.max {
            let allowed =
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || b == UInt8(ascii: "-")
            let id: [UInt8] = [UInt8(ascii: "q"), b, UInt8(ascii: "z")]
            #expect(id.withUnsafeBytes { InsertID.isValid(bytes: $0) } == allowed, "byte \(b)")
        }
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
