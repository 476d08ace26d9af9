/// Appends JSON tokens to a byte buffer without Foundation: the event encoder and the
/// dead-letter writer build their output with it, one log line at a time.
///
/// Strings are escaped per RFC 8259: `"` and `\` with a backslash, `\n`, `\r`, `\t` in
/// short form, every other control character as `\u00XX`. Input bytes that are not valid
/// UTF-8 are replaced by U+FFFD (one per maximal invalid subpart, as Unicode recommends),
/// because Mixpanel rejects invalid UTF-8 (Mixpanel's Ingestion API docs).
public enum JSONWriter {
    /// U+FFFD REPLACEMENT CHARACTER in UTF-8.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `value` as a quoted JSON string.
    public static func appendString(_ value: String, to out: inout some ByteOutput) {
        // Native strings hand out their bytes without a copy; others are made contiguous once.
        if let done: Void = value.utf8.withContiguousStorageIfAvailable({
            appendString(bytes: UnsafeRawBufferPointer($0), to: &out)
        }) {
            return done
        }
        var value = value
        value.withUTF8 { appendString(bytes: UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends raw bytes (expected to be UTF-8) as a quoted JSON string.
    public static func appendString(bytes: UnsafeRawBufferPointer, to out: inout some ByteOutput) {
        _ = appendString(bytes: bytes, to: &out, stopAtInvalid: false)
    }

    /// Appends `bytes` as a quoted JSON string if they are valid UTF-8; false, with `out` left
    /// part-written, at the first invalid sequence.
    static func appendString(validUTF8 bytes: UnsafeRawBufferPointer, to out: inout some ByteOutput) -> Bool {
        appendString(bytes: bytes, to: &out, stopAtInvalid: true)
    }

    @inline(__always)
    private static func appendString(
        bytes: UnsafeRawBufferPointer, to out: inout some ByteOutput, stopAtInvalid: Bool
    ) -> Bool {
        out.write(UInt8(ascii: "\""))
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            out.write(UInt8(ascii: "\""))
            return true
        }
        var i = 0
        var runStart = 0
        // Runs of bytes that need no escaping are copied whole (one memcpy); the scan reads
        // through a pointer, with no bounds check per byte.
        while i < count {
            // Eight plain bytes at a time (no control, quote, backslash or non-ASCII byte):
            // each test below is exact for "some byte of the word is such a byte".
            if i + 8 <= count, !needsCare(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                i += 8
                continue
            }
            let b = base[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C && b < 0x80 {
                i += 1
                continue
            }
            if b >= 0x80 {
                let valid = validUTF8Length(bytes, at: i)
                if valid > 0 {
                    i += valid
                    continue
                }
            }
            if b >= 0x80 && stopAtInvalid { return false }
            if runStart < i { out.write(UnsafeRawBufferPointer(start: base + runStart, count: i - runStart)) }
            if b >= 0x80 {
                replacement.withUnsafeBytes { out.write($0) }
                i += max(1, -validUTF8Length(bytes, at: i))
            } else {
                appendEscape(b, to: &out)
                i += 1
            }
            runStart = i
        }
        if runStart < count {
            out.write(UnsafeRawBufferPointer(start: base + runStart, count: count - runStart))
        }
        out.write(UInt8(ascii: "\""))
        return true
    }

    /// Whether any byte of `word` is below 0x20, a quote, a backslash or 0x80 and above.
    @inline(__always)
    static func needsCare(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let below20 = (word &- ones &* 0x20) & ~word & highs != 0
        return word & highs != 0 || below20 || hasZero(word ^ (ones &* 0x22)) || hasZero(word ^ (ones &* 0x5C))
    }

    /// Appends a fixed ASCII fragment (a key, punctuation).
    @inline(__always)
    static func append(_ fragment: StaticString, to out: inout some ByteOutput) {
        out.write(UnsafeRawBufferPointer(start: fragment.utf8Start, count: fragment.utf8CodeUnitCount))
    }

    /// Appends a decimal integer without going through `String`.
    public static func appendInt(_ value: Int64, to out: inout some ByteOutput) {
        // Work on the magnitude as UInt64 so Int64.min does not overflow; digits are written
        // from the right into a stack buffer (20 digits and a sign at most), then copied once.
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { raw in
            let digits = raw.bindMemory(to: UInt8.self)
            var index = digits.count
            var rest = value.magnitude
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            if value < 0 {
                index -= 1
                digits[index] = UInt8(ascii: "-")
            }
            out.write(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: digits[index...])))
        }
    }

    /// Appends a double in its shortest round-trip form (Swift's `description`, which is
    /// valid JSON: `1.5`, `1e-05`, `1e+20`). NaN and infinities have no JSON form: they are
    /// written as `null` so the property stays visible as "no value".
    public static func appendDouble(_ value: Double, to out: inout some ByteOutput) {
        guard value.isFinite else {
            append("null", to: &out)
            return
        }
        var text = value.description
        text.withUTF8 { out.write(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `true` or `false`.
    public static func appendBool(_ value: Bool, to out: inout some ByteOutput) {
        append(value ? "true" : "false", to: &out)
    }

    private static func appendEscape(_ b: UInt8, to out: inout some ByteOutput) {
        out.write(UInt8(ascii: "\\"))
        switch b {
        case 0x22: out.write(UInt8(ascii: "\""))
        case 0x5C: out.write(UInt8(ascii: "\\"))
        case 0x0A: out.write(UInt8(ascii: "n"))
        case 0x0D: out.write(UInt8(ascii: "r"))
        case 0x09: out.write(UInt8(ascii: "t"))
        default:
            append("u00", to: &out)
            out.write(hexDigits[Int(b >> 4)])
            out.write(hexDigits[Int(b & 0xF)])
        }
    }

    /// Length of the valid UTF-8 sequence starting at `i` (2...4), or minus the length of the
    /// maximal invalid subpart (at least 1) to replace with one U+FFFD.
    static func validUTF8Length(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F  // no UTF-16 surrogates
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F  // nothing above U+10FFFF
        default: return -1
        }
        var k = 1
        while k < length {
            guard i + k < bytes.count else { return -k }
            let c = bytes[i + k]
            let lo = k == 1 ? low : 0x80
            let hi = k == 1 ? high : 0xBF
            guard c >= lo && c <= hi else { return -k }
            k += 1
        }
        return length
    }
}
