/// Reads `key=value` pairs (logfmt) from a line into the fields the rules use.
///
/// Pairs are separated by spaces; a value may be double-quoted (`msg="a b"`, `\"` and `\\`
/// escapes are decoded); a bare key (`debug`) has the value `true`, as in the logfmt convention;
/// `key=` is present and empty. Words that are not pairs do not stop the parse.
enum LogfmtParser {
    static func parse(_ line: UnsafeRawBufferPointer, table: FieldTable, into fields: LineFields) {
        var i = 0
        let n = line.count
        while i < n {
            while i < n, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
            let keyStart = i
            while i < n, line[i] != 0x3d, line[i] != 0x20, line[i] != 0x09, line[i] != 0x22 { i += 1 }
            let keyEnd = i
            guard keyEnd > keyStart else {
                i += 1  // a stray quote or '=': skip it
                continue
            }
            let slot = table.slot(matching: UnsafeRawBufferPointer(rebasing: line[keyStart..<keyEnd]))
            guard i < n, line[i] == 0x3d else {
                if let slot { fields.setLiteralTrue(slot) }
                continue
            }
            i += 1
            if i < n, line[i] == 0x22 {
                i += 1
                let start = fields.scratchUsed
                while i < n, line[i] != 0x22 {
                    if line[i] == 0x5c, i + 1 < n { i += 1 }
                    fields.appendScratch(line[i])
                    i += 1
                }
                i += 1  // the closing quote (or past the end when unterminated)
                if let slot {
                    fields.set(slot, FieldRef(start: start, end: fields.scratchUsed, inScratch: true, present: true))
                }
            } else {
                let start = i
                while i < n, line[i] != 0x20, line[i] != 0x09 { i += 1 }
                if let slot { fields.set(slot, FieldRef(start: start, end: i, inScratch: false, present: true)) }
            }
        }
    }
}

extension LineFields {
    /// Stores the literal `true` (a bare logfmt key) in scratch for `slot`.
    func setLiteralTrue(_ slot: Int) {
        // Scratch holds 2 x line + 8 bytes: a bare key and its separator take two line bytes.
        let start = scratchUsed
        for b in "true".utf8 { appendScratch(b) }
        set(slot, FieldRef(start: start, end: scratchUsed, inScratch: true, present: true))
    }
}

/// Reads one JSON object per line into the fields the rules use, on bytes.
///
/// Nested objects are reached by dotted paths (`user.id`); a string value is its decoded text,
/// a number, `true` or `false` its literal text, an array or object its raw JSON text; `null`
/// counts as missing. Nesting deeper than 64 levels or malformed JSON makes the line unparsable.
final class JSONLineParser {
    private var path: [UInt8] = []
    private let table: FieldTable
    private let fields: LineFields
    private var line = UnsafeRawBufferPointer(start: nil, count: 0)
    private var i = 0

    init(table: FieldTable, fields: LineFields) {
        self.table = table
        self.fields = fields
        path.reserveCapacity(256)
    }

    /// Fills `fields` from `line`; false when the line is not a JSON object.
    func parse(_ line: UnsafeRawBufferPointer) -> Bool {
        self.line = line
        i = 0
        path.removeAll(keepingCapacity: true)
        skipSpace()
        guard i < line.count, line[i] == 0x7b, value(depth: 0) else { return false }
        skipSpace()
        return i == line.count
    }

    private func skipSpace() {
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0a || line[i] == 0x0d { i += 1 }
    }

    private func currentSlot() -> Int? {
        guard !path.isEmpty else { return nil }
        return path.withUnsafeBytes { table.slot(matching: $0) }
    }

    private func value(depth: Int) -> Bool {
        guard depth < 64 else { return false }
        skipSpace()
        guard i < line.count else { return false }
        let start = i
        switch line[i] {
        case 0x7b:  // {
            guard object(depth: depth) else { return false }
        case 0x5b:  // [
            guard array(depth: depth) else { return false }
        case 0x22:  // "
            guard let ref = string(decode: true) else { return false }
            if let slot = currentSlot() { fields.set(slot, ref) }
            return true
        case 0x6e:  // null: present in the JSON, missing as a field
            return literal("null")
        case 0x74: guard literal("true") else { return false }
        case 0x66: guard literal("false") else { return false }
        default:
            guard number() else { return false }
        }
        if let slot = currentSlot() {
            fields.set(slot, FieldRef(start: start, end: i, inScratch: false, present: true))
        }
        return true
    }

    private func object(depth: Int) -> Bool {
        i += 1
        skipSpace()
        if i < line.count, line[i] == 0x7d {
            i += 1
            return true
        }
        let base = path.count
        while true {
            skipSpace()
            guard i < line.count, line[i] == 0x22, let key = string(decode: true) else { return false }
            path.removeSubrange(base...)
            if base > 0 { path.append(0x2e) }
            let keyBytes =
                key.inScratch
                ? UnsafeRawBufferPointer(start: fields.scratch + key.start, count: key.end - key.start)
                : UnsafeRawBufferPointer(rebasing: line[key.start..<key.end])
            path.append(contentsOf: keyBytes)
            if key.inScratch { fields.scratchUsed = key.start }  // key text is no longer needed
            skipSpace()
            guard i < line.count, line[i] == 0x3a else { return false }
            i += 1
            guard value(depth: depth + 1) else { return false }
            skipSpace()
            guard i < line.count else { return false }
            if line[i] == 0x2c {
                i += 1
                continue
            }
            guard line[i] == 0x7d else { return false }
            i += 1
            path.removeSubrange(base...)
            return true
        }
    }

    private func array(depth: Int) -> Bool {
        i += 1
        // Elements are not addressable; parse them with no path so nothing is recorded.
        let saved = path
        path.removeAll(keepingCapacity: true)
        defer { path = saved }
        skipSpace()
        if i < line.count, line[i] == 0x5d {
            i += 1
            return true
        }
        while true {
            guard value(depth: depth + 1) else { return false }
            skipSpace()
            guard i < line.count else { return false }
            if line[i] == 0x2c {
                i += 1
                continue
            }
            guard line[i] == 0x5d else { return false }
            i += 1
            return true
        }
    }

    /// A string at `i` (on its opening quote). Without escapes the value is a range of the line;
    /// with escapes it is decoded into scratch (never longer than its source).
    private func string(decode: Bool) -> FieldRef? {
        i += 1
        let start = i
        while i < line.count, line[i] != 0x22, line[i] != 0x5c { i += 1 }
        guard i < line.count else { return nil }
        if line[i] == 0x22 {
            i += 1
            return FieldRef(start: start, end: i - 1, inScratch: false, present: true)
        }
        let out = fields.scratchUsed
        for k in start..<i { fields.appendScratch(line[k]) }
        while i < line.count {
            let b = line[i]
            if b == 0x22 {
                i += 1
                return FieldRef(start: out, end: fields.scratchUsed, inScratch: true, present: true)
            }
            if b != 0x5c {
                fields.appendScratch(b)
                i += 1
                continue
            }
            guard i + 1 < line.count else { return nil }
            let e = line[i + 1]
            i += 2
            switch e {
            case 0x22, 0x5c, 0x2f: fields.appendScratch(e)
            case 0x62: fields.appendScratch(0x08)
            case 0x66: fields.appendScratch(0x0c)
            case 0x6e: fields.appendScratch(0x0a)
            case 0x72: fields.appendScratch(0x0d)
            case 0x74: fields.appendScratch(0x09)
            case 0x75:
                guard let scalar = unicodeEscape() else { return nil }
                for unit in UTF8.encode(scalar)! { fields.appendScratch(unit) }
            default: return nil
            }
        }
        return nil
    }

    /// `\uXXXX` (after the `u`), joining surrogate pairs; lone surrogates become U+FFFD.
    private func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        if (0xd800..<0xdc00).contains(high), i + 1 < line.count, line[i] == 0x5c, line[i + 1] == 0x75 {
            let save = i
            i += 2
            if let low = hex4(), (0xdc00..<0xe000).contains(low) {
                return Unicode.Scalar(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))
            }
            i = save
        }
        return Unicode.Scalar(high) ?? "\u{FFFD}"
    }

    private func hex4() -> UInt32? {
        guard i + 4 <= line.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = line[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x37)
            case 0x61...0x66: d = UInt32(b - 0x57)
            default: return nil
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= line.count else { return false }
        for k in 0..<n where line[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    private func number() -> Bool {
        let start = i
        while i < line.count {
            switch line[i] {
            case 0x30...0x39, 0x2d, 0x2b, 0x2e, 0x65, 0x45: i += 1
            default: return i > start
            }
        }
        return i > start
    }
}
