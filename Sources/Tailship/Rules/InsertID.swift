/// `$insert_id` derivation and normalisation.
///
/// The API deduplicates on (event, distinct_id, time, `$insert_id`) and accepts only ids of at
/// most 36 characters of `[A-Za-z0-9-]` that are not placeholders (Mixpanel's Ingestion API docs).
///
/// A default id is a pure function of the file's bytes: the line's *content basis* (`basis`,
/// see `LineBatch`: the FNV-1a-64 hash of the file's first min(line end, 1 KiB) bytes), its byte
/// offset and the rule's name. Nothing about where the file lives (device, inode, path) or when
/// it was first seen goes in, so the id of a line never changes: not as a young file grows, not
/// across restarts, reboots that renumber devices or renames, and `run`, `test` and `import`
/// (plain or gzip) of the same bytes give the same ids. The hash is FNV-1a-128 (the published
/// parameters) printed in UUID layout (8-4-4-4-12 lowercase hex, 36 characters) with the
/// RFC 9562 version-8 ("custom") and variant bits set. Fixed forever: `RulesInsertIDTests` pins
/// literal ids, because changing any of this would make a line re-read after an upgrade a new
/// event. Swift's `Hasher` is seeded per process and so is never used here.
public enum InsertID {
    /// Maximum length the API accepts.
    public static let maxLength = 36

    /// The id of the event produced by `rule` from the line at `offset` whose content basis is
    /// `basis`: FNV-1a-128 of `"<basis as 16 lowercase hex digits>\n<offset in decimal>\n<rule>"`.
    public static func derive(basis: UInt64, offset: UInt64, rule: String) -> String {
        derivedHash(basis: basis, offset: offset, rule: rule).uuidString
    }

    /// `derive`'s hash, whose `uuidString` is the id.
    static func derivedHash(basis: UInt64, offset: UInt64, rule: String) -> FNV128 {
        var hash = FNV128()
        // 16 hex digits, a newline, at most 20 decimal digits and a newline: 38 bytes.
        var digits: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var n = 0
            for shift in stride(from: 60, through: 0, by: -4) {
                let nibble = UInt8((basis >> UInt64(shift)) & 0xf)
                buffer[n] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
                n += 1
            }
            buffer[n] = 0x0a
            n += 1
            // Decimal offset, written backwards then reversed in place.
            let start = n
            var value = offset
            repeat {
                buffer[n] = 0x30 + UInt8(value % 10)
                value /= 10
                n += 1
            } while value > 0
            var (a, b) = (start, n - 1)
            while a < b {
                buffer.swapAt(a, b)
                a += 1
                b -= 1
            }
            buffer[n] = 0x0a
            n += 1
            hash.add(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        hash.add(rule.utf8)
        return hash
    }

    /// Whether `value` is an id the API accepts as is: 1-36 characters of `[A-Za-z0-9-]` and
    /// not a placeholder value.
    public static func isValid(_ value: String) -> Bool {
        if let valid = value.utf8.withContiguousStorageIfAvailable({ isValid(bytes: UnsafeRawBufferPointer($0)) }) {
            return valid
        }
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

    /// `isValid` for bytes already known to be valid UTF-8 (the same answer).
    static func isValid(bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        // Without a branch per byte (hex ids mix digits and letters at random, so a branch per
        // class mispredicts half the time): each byte looks itself up in a 128-bit set.
        var missing: UInt64 = 0
        for b in bytes {
            let word = b < 64 ? idBytesLow : idBytesHigh
            missing |= ~(word >> UInt64(b & 63)) & 1 | UInt64(b >> 7)
        }
        guard missing == 0 else { return false }
        // Only ASCII gets here, so the placeholder answer is never unknown.
        return Placeholders.isPlaceholder(asciiBytes: bytes) == false
    }

    /// `[A-Za-z0-9-]` as bits: bytes 0-63 (`-`, `0`-`9`) and 64-127 (`A`-`Z`, `a`-`z`).
    private static let idBytesLow: UInt64 = 1 << 0x2D | 0x3FF << 0x30
    private static let idBytesHigh: UInt64 = 0x3FF_FFFF << 1 | 0x3FF_FFFF << 33

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

/// The placeholder values the API rejects as `distinct_id` or `$insert_id`, compared
/// case-insensitively (Mixpanel's Ingestion API docs).
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

    /// `isPlaceholder` for bytes: nil when they are not all ASCII (the caller decides with the
    /// String, whose Unicode lowercasing may still make a placeholder of them).
    static func isPlaceholder(asciiBytes bytes: UnsafeRawBufferPointer) -> Bool? {
        let count = bytes.count
        guard count <= 36 else { return false }
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        return asciiValues[count].contains { candidate in
            zip(candidate, bytes).allSatisfy { c, b in c == ((b &- 0x41) < 26 ? b | 0x20 : b) }
        }
    }

    /// The placeholders' bytes, indexed by length (0...36).
    private static let asciiValues: [[[UInt8]]] = {
        var byLength = [[[UInt8]]](repeating: [], count: 37)
        for value in values { byLength[value.utf8.count].append(Array(value.utf8)) }
        return byLength
    }()
}
