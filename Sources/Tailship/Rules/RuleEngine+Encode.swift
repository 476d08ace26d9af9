/// Bytes of the values of the event being encoded that are not slices of the line (constants,
/// multi-piece templates): appended one after another, reset per rule, grown when needed. A
/// class the engine holds in a `let`, so appending checks no exclusive access per call.
final class EncodeScratch {
    private(set) var base = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 1)
    private var capacity = 4096
    private(set) var used = 0

    deinit { base.deallocate() }

    func reset() { used = 0 }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress, !bytes.isEmpty else { return }
        if used + bytes.count > capacity {
            capacity = max(capacity * 2, used + bytes.count)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
            grown.copyMemory(from: base, byteCount: used)
            base.deallocate()
            base = grown
        }
        (base + used).copyMemory(from: from, byteCount: bytes.count)
        used += bytes.count
    }
}

/// Where one value's bytes are: in the line (or the format's decoded fields), or at an offset
/// of `EncodeScratch` (which may move while later values are added).
struct ValueBytes {
    var pointer: UnsafeRawPointer?
    var start: Int
    var count: Int

    func bytes(_ scratch: EncodeScratch) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: (pointer ?? UnsafeRawPointer(scratch.base)) + start, count: count)
    }
}

extension RuleEngine {
    /// What `encode` made of a line.
    enum Encoded: Equatable {
        /// Rule number `rule` made a valid event, now appended to the buffer, with this time,
        /// its duplicate key (`DedupeWindow.Key(event)` of the same event) and where its
        /// `$insert_id` (the string's bytes, without the quotes) lies in the buffer.
        case event(rule: Int, timeMs: Int64, key: DedupeWindow.Key, insertId: Range<Int>)
        case dropped(rule: Int)
        case unmatched
        /// Anything out of the ordinary (an invalid event, a match budget hit, invalid UTF-8 to
        /// repair, a value the validator must look at closely): nothing was appended, and
        /// `process` gives the outcome, exactly as it always has.
        case slow
    }

    /// The common case of `process` without making an `Event`: the event's JSON, byte for byte
    /// what `EventEncoder` writes for the event `process` returns, is appended to `out`
    /// straight from the line's bytes. `token` is the encoder's token fragment (`/track`).
    /// Every check of `process` and `EventValidator` is made on the bytes; a line that would
    /// fail one, or that needs any repair, is handed back as `.slow`.
    func encode(
        line: UnsafeRawBufferPointer, basis: UInt64, offset: UInt64, nowMs: Int64, token: [UInt8]?,
        into out: inout some ByteOutput
    ) -> Encoded {
        switch readLine(line) {
        case .notInFormat: return .unmatched
        case .limitHit: return .slow
        case .ok: break
        }
        let start = out.byteCount
        for (index, rule) in rules.enumerated() {
            if let result = encode(
                rule, index: index, line: line, basis: basis, offset: offset, nowMs: nowMs, token: token, into: &out)
            {
                if result == .slow { out.truncate(to: start) }
                return result
            }
            out.truncate(to: start)
        }
        return .unmatched
    }

    /// One rule: nil when it does not take the line (the next one is tried).
    private func encode(
        _ rule: CompiledRule, index: Int, line: UnsafeRawBufferPointer, basis: UInt64, offset: UInt64,
        nowMs: Int64, token: [UInt8]?, into out: inout some ByteOutput
    ) -> Encoded? {
        if let pattern = rule.pattern {
            switch pattern.match(line) {
            case .noMatch: return nil
            case .limitHit: return .slow
            case .matched: break
            }
        }
        for condition in rule.conditions {
            guard let v = value(condition.slot, rule, line) else { return nil }
            switch condition.pattern.match(v) {
            case .matched: continue
            case .limitHit: return .slow
            case .noMatch: return nil
            }
        }
        if rule.drop { return .dropped(rule: index) }
        guard let eventTemplate = rule.event, encodable[index] else { return .slow }
        encodeScratch.reset()
        // `evaluate`'s order (event, distinct_id, ip, time, insert_id), so a missing field passes
        // the line on to the next rule exactly when `process` would; invalid UTF-8 goes slow.
        // Each value is checked for UTF-8 as soon as it is read, as `evaluate` repairs (and
        // counts) it: a line that would count one goes slow before any other outcome.
        guard let name = valueBytes(eventTemplate, rule, line) else { return nil }
        guard Self.validUTF8(name.bytes(encodeScratch)) else { return .slow }
        var distinctId: ValueBytes?
        if let t = rule.distinctId {
            guard let v = valueBytes(t, rule, line) else { return nil }
            guard Self.validUTF8(v.bytes(encodeScratch)) else { return .slow }
            distinctId = v
        }
        var ip: ValueBytes?
        if let t = rule.ip {
            guard let v = valueBytes(t, rule, line) else { return nil }
            guard Self.validUTF8(v.bytes(encodeScratch)) else { return .slow }
            ip = v
        }
        var timeMs = nowMs
        if let (template, parser) = rule.time {
            switch parseTime(template, parser, rule, line, nowMs: nowMs) {
            case .some(.some(let t)): timeMs = t
            case .some(.none): return .slow
            case .none: return nil
            }
        }
        var insertId: ValueBytes?
        if let t = rule.insertId {
            guard let v = valueBytes(t, rule, line) else { return nil }
            guard Self.validUTF8(v.bytes(encodeScratch)) else { return .slow }
            insertId = v
        }
        // The validator's checks: anything it might refuse goes slow, and it decides.
        let nameBytes = name.bytes(encodeScratch)
        guard Self.isPlainName(nameBytes) else { return .slow }
        var sizeBound = 108 + 6 * nameBytes.count
        if let distinctId {
            let d = distinctId.bytes(encodeScratch)
            guard !Self.hasControl(d), Placeholders.isPlaceholder(asciiBytes: d) == false else { return .slow }
            sizeBound += 6 * d.count
        }
        sizeBound += 6 * (ip?.count ?? 1)
        guard timeMs >= EventValidator.earliestTimeMs, timeMs <= nowMs + EventValidator.maxFutureMs else {
            return .slow
        }

        JSONWriter.append(EventEncoder.Keys.event, to: &out)
        JSONWriter.appendString(bytes: nameBytes, to: &out)
        JSONWriter.append(EventEncoder.Keys.time, to: &out)
        JSONWriter.appendInt(timeMs, to: &out)
        JSONWriter.append(EventEncoder.Keys.distinctId, to: &out)
        JSONWriter.appendString(
            bytes: distinctId?.bytes(encodeScratch) ?? UnsafeRawBufferPointer(start: nil, count: 0), to: &out)
        JSONWriter.append(EventEncoder.Keys.insertId, to: &out)
        let idStart = out.byteCount
        if let insertId {
            let raw = insertId.bytes(encodeScratch)
            if InsertID.isValid(bytes: raw) {
                JSONWriter.appendString(bytes: raw, to: &out)
            } else if raw.isEmpty || Placeholders.isPlaceholder(asciiBytes: raw) == true {
                appendDerivedId(basis: basis, offset: offset, rule: rule, to: &out)
            } else if Placeholders.isPlaceholder(asciiBytes: raw) == nil {
                return .slow  // Unicode lowercasing decides: `normalize` does it
            } else {
                var hash = FNV128()
                hash.add(raw)
                out.write(UInt8(ascii: "\""))
                hash.appendUUID(to: &out)
                out.write(UInt8(ascii: "\""))
            }
        } else {
            appendDerivedId(basis: basis, offset: offset, rule: rule, to: &out)
        }
        sizeBound += 6 * (out.byteCount - idStart - 2)
        // The key here, while the name's and distinct_id's bytes are still valid (a property's
        // template may reuse the scratch they sit in). An insert id is never escaped.
        let insertIdRange = (idStart + 1)..<(out.byteCount - 1)
        let key = out.withBytes(in: insertIdRange) { id in
            DedupeWindow.Key(
                name: nameBytes,
                distinctId: distinctId?.bytes(encodeScratch) ?? UnsafeRawBufferPointer(start: nil, count: 0),
                timeMs: timeMs, insertId: id)
        }
        JSONWriter.append(EventEncoder.Keys.ip, to: &out)
        if let ip {
            JSONWriter.appendString(bytes: ip.bytes(encodeScratch), to: &out)
        } else {
            JSONWriter.append(#""0""#, to: &out)
        }
        if let token { token.withUnsafeBytes { out.write($0) } }
        for property in rule.properties {
            guard let value = propertyBytes(property.template, rule, line) else { continue }
            // Typed values are ASCII or not converted; strings are checked as they are escaped.
            if property.type != .string && value.isEmpty { continue }
            sizeBound += 6 * property.key.count - 18  // the name's bytes (the key adds `,"":`)
            if property.type != .string {
                sizeBound += 24
            } else {
                sizeBound += 6 * value.count + 2
            }
            property.key.withUnsafeBytes { out.write($0) }
            switch property.type {
            case .string:
                guard JSONWriter.appendString(validUTF8: value, to: &out) else { return .slow }
            case .int:
                guard let i = FastValues.int(value) else { return .slow }
                JSONWriter.appendInt(i, to: &out)
            case .float:
                guard let d = FastValues.float(value) else { return .slow }
                JSONWriter.appendDouble(d, to: &out)
            case .bool:
                guard let b = FastValues.bool(value) else { return .slow }
                JSONWriter.appendBool(b, to: &out)
            }
        }
        // The validator's size check, from the same bound (it only scans when this is reached).
        guard sizeBound < EventValidator.maxEventBytes else { return .slow }
        JSONWriter.append(EventEncoder.Keys.close, to: &out)
        return .event(rule: index, timeMs: timeMs, key: key, insertId: insertIdRange)
    }

    private func appendDerivedId(basis: UInt64, offset: UInt64, rule: CompiledRule, to out: inout some ByteOutput) {
        out.write(UInt8(ascii: "\""))
        InsertID.derivedHash(basis: basis, offset: offset, rule: rule.name).appendUUID(to: &out)
        out.write(UInt8(ascii: "\""))
    }

    /// A template's bytes for this line, nil when a field it needs is missing.
    private func valueBytes(
        _ t: CompiledTemplate, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer
    ) -> ValueBytes? {
        if let slot = t.singleSlot {
            guard let v = value(slot, rule, line) else { return nil }
            return ValueBytes(pointer: v.baseAddress, start: 0, count: v.count)
        }
        let start = encodeScratch.used
        if let constant = t.constantBytes {
            constant.withUnsafeBytes { encodeScratch.append($0) }
            return ValueBytes(pointer: nil, start: start, count: encodeScratch.used - start)
        }
        for (i, piece) in t.pieces.enumerated() {
            switch piece {
            case .literal: t.pieceBytes[i]!.withUnsafeBytes { encodeScratch.append($0) }
            case .slot(let slot):
                guard let v = value(slot, rule, line) else { return nil }
                encodeScratch.append(v)
            case .choice(let slots, let fallback):
                if let v = slots.lazy.compactMap({ self.value($0, rule, line) }).first {
                    encodeScratch.append(v)
                } else if fallback != nil {
                    t.pieceBytes[i]!.withUnsafeBytes { encodeScratch.append($0) }
                } else {
                    return nil
                }
            }
        }
        return ValueBytes(pointer: nil, start: start, count: encodeScratch.used - start)
    }

    /// A property's bytes, valid until the next call.
    private func propertyBytes(
        _ t: CompiledTemplate, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer? {
        if t.singleSlot == nil { encodeScratch.reset() }
        return valueBytes(t, rule, line)?.bytes(encodeScratch)
    }

    /// Whether `bytes` are valid UTF-8 (what `String(validating:)` accepts).
    static func validUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            if i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            let length = JSONWriter.validUTF8Length(bytes, at: i)
            guard length > 0 else { return false }
            i += length
        }
        return true
    }

    /// `EventValidator.hasControl` on bytes.
    static func hasControl(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// An event name with no control character and an ASCII byte that is not white space (so
    /// not blank); others are left to the validator.
    static func isPlainName(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var visible = false
        for b in bytes {
            if b < 0x20 || b == 0x7F { return false }
            if b < 0x80 && b != 0x20 { visible = true }
        }
        return visible
    }
}

/// `TypedValues` on bytes, for the values they accept without doubt; nil sends the line to
/// `process` (which also gives the problem for a value that does not convert).
enum FastValues {
    /// `Int64(String)`: an optional sign and decimal digits, within Int64.
    static func int(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            i = 1
        }
        guard i < bytes.count, bytes.count - i <= 18 else { return nil }  // 18 digits cannot overflow
        var value: Int64 = 0
        while i < bytes.count {
            let d = bytes[i] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int64(d)
            i += 1
        }
        return negative ? -value : value
    }

    /// A plain decimal number (`387.03`, `-1e3`), to the same Double as `Double(String)`;
    /// nil for anything else, or a result that is not finite.
    static func float(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0, n < 64 else { return nil }
        var i = 0
        var mantissa: UInt64 = 0
        var significant = 0
        var scale = 0
        // Digits into `mantissa` while it stays exact; `scale` counts the fraction's digits.
        func digits(fraction: Bool) -> Int {
            let from = i
            while i < n, case let d = bytes[i] &- 0x30, d < 10 {
                if mantissa != 0 || d != 0 { significant += 1 }
                if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(d) }
                if fraction { scale += 1 }
                i += 1
            }
            return i - from
        }
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative || bytes[0] == UInt8(ascii: "+") { i = 1 }
        var count = digits(fraction: false)
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            count += digits(fraction: true)
        }
        guard count > 0 else { return nil }
        var exponent = 0
        if i < n, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var minus = false
            if i < n, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                minus = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let from = i
            while i < n, case let d = bytes[i] &- 0x30, d < 10, i - from < 6 {
                exponent = exponent * 10 + Int(d)
                i += 1
            }
            guard i > from else { return nil }
            if minus { exponent = -exponent }
        }
        guard i == n else { return nil }
        // Clinger's fast path: an exact mantissa below 2^53 and a power of ten up to 10^22 are
        // both exact doubles, so one correctly rounded multiply or divide is the correctly
        // rounded value of the text, which is what the C library's strtod returns.
        let power = exponent - scale
        if significant <= 15, mantissa < 1 << 53, power >= -22, power <= 22 {
            let m = Double(mantissa)
            let value = power >= 0 ? m * powersOfTen[power] : m / powersOfTen[-power]
            return negative ? -value : value
        }
        // Anything else goes through the same conversion as `TypedValues.float`.
        guard let d = Double(String(decoding: bytes, as: UTF8.self)), d.isFinite else { return nil }
        return d
    }

    private static let powersOfTen: [Double] = (0...22).map { k in
        var p = 1.0
        for _ in 0..<k { p *= 10 }
        return p
    }

    /// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, ASCII case ignored.
    static func bool(_ bytes: UnsafeRawBufferPointer) -> Bool? {
        guard bytes.count <= 5 else { return nil }
        var word: UInt64 = 0
        for (k, b) in bytes.enumerated() {
            guard b < 0x80 else { return nil }
            word |= UInt64((b &- 0x41) < 26 ? b | 0x20 : b) << (8 * UInt64(k))
        }
        switch word {
        case Self.word("true"), Self.word("yes"), Self.word("on"), Self.word("1"): return true
        case Self.word("false"), Self.word("no"), Self.word("off"), Self.word("0"): return false
        default: return nil
        }
    }

    private static func word(_ s: StaticString) -> UInt64 {
        var word: UInt64 = 0
        for k in 0..<s.utf8CodeUnitCount { word |= UInt64(s.utf8Start[k]) << (8 * UInt64(k)) }
        return word
    }
}
