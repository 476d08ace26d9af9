/// `$insert_id` derivation and normalisation.
///
/// The API deduplicates on (event, distinct_id, time, `$insert_id`) and accepts only ids of at
/// most 36 characters of `[A-Za-z0-9-]` that are not placeholders (INGESTION_API.md 2.4, 3).
/// tailship's ids are FNV-1a-128 hashes (the published FNV parameters: offset basis
/// `0x6c62272e07bb014262b821756295c58d`, prime `2^88 + 0x13b`) printed in UUID layout
/// (8-4-4-4-12 lowercase hex, 36 characters) with the RFC 9562 version-8 ("custom") and
/// variant bits set. The hash is fixed forever: changing it would make a line re-read after an
/// upgrade a new event. Swift's `Hasher` is seeded per process and so is never used here.
public enum InsertID {
    /// Maximum length the API accepts.
    public static let maxLength = 36

    /// The id of the event produced from the line at `offset` of the file `identity` by `rule`.
    ///
    /// Hashes `"<identity.description>\n<offset>\n<rule>"`; the same line of the same file gives
    /// the same id across restarts, so a re-read line deduplicates.
    public static func derive(identity: FileIdentity, offset: UInt64, rule: String) -> String {
        var hash = FNV128()
        hash.add(identity.description.utf8)
        hash.add(CollectionOfOne(0x0a))
        hash.add(String(offset).utf8)
        hash.add(CollectionOfOne(0x0a))
        hash.add(rule.utf8)
        return hash.uuidString
    }

    /// Whether `value` is an id the API accepts as is: 1-36 characters of `[A-Za-z0-9-]` and
    /// not a placeholder value.
    public static func isValid(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard !utf8.isEmpty, utf8.count <= maxLength else { return false }
        var copy = value
        let allowed = copy.withUTF8 { bytes in
            bytes.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b &- 0x41) < 26 || (b &- 0x61) < 26 || b == 0x2d
            }
        }
        return allowed && !Placeholders.isPlaceholder(value)
    }

    /// The `$insert_id` to send for a rule-given (rendered) value.
    ///
    /// A valid value is kept. An empty or placeholder value (`0`, `null`, ...) carries no
    /// identity, so the line's position decides (`fallback`): hashing it would give every such
    /// event the same id and the API would silently collapse them. Any other value (too long,
    /// colons, spaces — ids copied from other tools) is hashed into the same UUID layout, so
    /// equal values still give equal ids and distinct values distinct ids.
    public static func normalize(_ value: String, fallback: () -> String) -> String {
        if isValid(value) { return value }
        if value.isEmpty || Placeholders.isPlaceholder(value) { return fallback() }
        var hash = FNV128()
        hash.add(value.utf8)
        return hash.uuidString
    }
}

/// FNV-1a with the 128-bit parameters, on two 64-bit halves (no UInt128 needed).
struct FNV128 {
    var high: UInt64 = 0x6c62_272e_07bb_0142
    var low: UInt64 = 0x62b8_2175_6295_c58d

    mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes {
            low ^= UInt64(b)
            // x * (2^88 + 0x13b) mod 2^128 = x * 0x13b + (x << 88)
            let (carry, lowProduct) = low.multipliedFullWidth(by: 0x13b)
            let highProduct = high &* 0x13b &+ carry &+ (low << 24)
            high = highProduct
            low = lowProduct
        }
    }

    /// The digest as 8-4-4-4-12 lowercase hex with version 8 and the RFC 9562 variant.
    var uuidString: String {
        let h = (high & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_8000
        let l = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000
        var out = [UInt8]()
        out.reserveCapacity(36)
        func hex(_ v: UInt64, _ nibbles: Int) {
            for i in stride(from: nibbles - 1, through: 0, by: -1) {
                let n = UInt8((v >> (UInt64(i) * 4)) & 0xf)
                out.append(n < 10 ? 0x30 + n : 0x57 + n)
            }
        }
        hex(h >> 32, 8)
        out.append(0x2d)
        hex(h >> 16, 4)
        out.append(0x2d)
        hex(h, 4)
        out.append(0x2d)
        hex(l >> 48, 4)
        out.append(0x2d)
        hex(l, 12)
        return String(decoding: out, as: UTF8.self)
    }
}

/// The placeholder values the API rejects as `distinct_id` or `$insert_id`, compared
/// case-insensitively (INGESTION_API.md 2.4).
public enum Placeholders {
    /// The list, lowercase.
    public static let values: Set<String> = [
        "00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a", "na",
        "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}",
    ]

    /// Whether `value` is one of the placeholders, ignoring ASCII case.
    public static func isPlaceholder(_ value: String) -> Bool {
        // Every placeholder is at most 36 bytes; skip the lowercase copy for anything longer.
        let count = value.utf8.count
        guard count <= 36 else { return false }
        // ASCII (nearly always): compare bytes, no allocation. Other text may lowercase into
        // ASCII (the Kelvin sign becomes `k`), so it keeps the full Unicode lowercasing.
        var copy = value
        let ascii: Bool? = copy.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return asciiValues[count].contains { candidate in
                zip(candidate, bytes).allSatisfy { c, b in c == ((b &- 0x41) < 26 ? b | 0x20 : b) }
            }
        }
        return ascii ?? values.contains(value.lowercased())
    }

    /// The placeholders' bytes, indexed by length (0...36).
    private static let asciiValues: [[[UInt8]]] = {
        var byLength = [[[UInt8]]](repeating: [], count: 37)
        for value in values { byLength[value.utf8.count].append(Array(value.utf8)) }
        return byLength
    }()
}
