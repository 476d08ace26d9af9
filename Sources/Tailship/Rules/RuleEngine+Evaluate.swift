extension RuleEngine {
    /// What rendering a template gave.
    enum Rendered {
        case value(String)
        case missing(String)
        case badUTF8
    }

    /// One rule against one line (the source-level parse already done).
    /// `tracing` builds the strings `explain` shows; `process` skips that work.
    func evaluate(
        _ rule: CompiledRule, line: UnsafeRawBufferPointer, basis: UInt64, offset: UInt64,
        nowMs: Int64, tracing: Bool
    ) -> RuleVerdict {
        if let pattern = rule.pattern {
            switch pattern.match(line) {
            case .noMatch: return .patternDidNotMatch
            case .limitHit: return .limitHit
            case .matched: break
            }
        }
        for condition in rule.conditions {
            guard let v = value(condition.slot, rule, line) else {
                return .fieldMissing(field: condition.field, part: "where")
            }
            switch condition.pattern.match(v) {
            case .matched: continue
            case .limitHit: return .limitHit
            case .noMatch:
                return .conditionFailed(
                    field: condition.field, value: tracing ? String(decoding: v, as: UTF8.self) : "")
            }
        }
        if rule.drop { return .dropped }

        var problems: [EventProblem] = []
        func required(_ t: CompiledTemplate?, _ apiField: String, default d: String) -> String? {
            guard let t else { return d }
            switch render(t, rule, line) {
            case .value(let s): return s
            case .missing: return nil
            case .badUTF8:
                problems.append(EventValidator.invalidUTF8(field: apiField))
                return ""
            }
        }
        guard let event = rule.event else { return .dropped }  // the compiler requires event unless drop
        guard let name = required(event, "event", default: "") else {
            return missing(event, rule, line, part: "event")
        }
        guard let distinctId = required(rule.distinctId, "properties.distinct_id", default: "")
        else { return missing(rule.distinctId!, rule, line, part: "distinct_id") }
        guard let ip = required(rule.ip, "properties.ip", default: "0") else {
            return missing(rule.ip!, rule, line, part: "ip")
        }

        var timeMs = nowMs
        if let (template, parser) = rule.time {
            switch parseTime(template, parser, rule, line, nowMs: nowMs) {
            case .some(.some(let t)): timeMs = t
            case .some(.none):
                let text = renderLossy(template, rule, line)
                problems.append(
                    EventProblem(
                        field: "properties.time",
                        message: "'properties.time' is invalid: cannot read \"\(text)\" with format \(parser.format)"))
            case .none: return missing(template, rule, line, part: "time")
            }
        }

        let derived = { InsertID.derive(basis: basis, offset: offset, rule: rule.name) }
        var insertId: String
        if let t = rule.insertId {
            guard let raw = required(t, "$insert_id", default: "") else {
                return missing(t, rule, line, part: "insert_id")
            }
            insertId = InsertID.normalize(raw, fallback: derived)
        } else {
            insertId = derived()
        }

        var properties: [EventProperty] = []
        properties.reserveCapacity(rule.properties.count)
        for property in rule.properties {
            switch typedValue(property, rule, line) {
            case .none: continue
            case .some(.success(let v)): properties.append(EventProperty(name: property.name, value: v))
            case .some(.failure(let problem)): problems.append(problem)
            }
        }
        let built = Event(
            name: name, distinctId: distinctId, timeMs: timeMs, insertId: insertId, ip: ip,
            properties: properties)
        // `normalize` and `derive` only ever give valid ids: skip re-checking it.
        problems += EventValidator.validate(built, nowMs: nowMs, insertIdKnownValid: true)
        return problems.isEmpty ? .matched(built) : .invalid(problems)
    }

    /// The verdict for a template that named a field the line lacks.
    private func missing(
        _ t: CompiledTemplate, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer,
        part: String
    ) -> RuleVerdict {
        for piece in t.pieces {
            switch piece {
            case .slot(let s) where value(s, rule, line) == nil:
                return .fieldMissing(field: table.names[s], part: part)
            case .choice(let slots, nil) where slots.allSatisfy({ value($0, rule, line) == nil }):
                return .fieldMissing(field: slots.map { table.names[$0] }.joined(separator: "|"), part: part)
            default: continue
            }
        }
        return .fieldMissing(field: "?", part: part)
    }

    /// Renders `t` for this line; Strings are made only here, from validated UTF-8.
    func render(_ t: CompiledTemplate, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer) -> Rendered {
        if let constant = t.constant { return .value(constant) }
        if let slot = t.singleSlot {
            guard let v = value(slot, rule, line) else { return .missing(table.names[slot]) }
            return Self.string(v).map(Rendered.value) ?? repaired(v)
        }
        guard fill(t, rule, line) == nil else { return .missing("") }
        return renderBuffer.withUnsafeBytes { bytes in Self.string(bytes).map(Rendered.value) ?? repaired(bytes) }
    }

    /// An invalid UTF-8 value: U+FFFD for each invalid sequence (`invalid_utf8: replace`, counted),
    /// or a problem that dead-letters the event.
    private func repaired(_ bytes: UnsafeRawBufferPointer) -> Rendered {
        guard invalidUTF8 == .replace else { return .badUTF8 }
        utf8Replaced += 1
        return .value(String(decoding: bytes, as: UTF8.self))
    }

    /// The bytes as a String, nil if not valid UTF-8. ASCII (most log values) skips the
    /// generic validator, which instantiates type metadata on every call.
    static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        var ascii = true
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
                ascii = false
                break
            }
            i += 8
        }
        while ascii && i < n {
            if bytes[i] >= 0x80 { ascii = false }
            i += 1
        }
        return ascii ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }

    /// Concatenates a template's pieces into `renderBuffer`; returns the first missing slot.
    private func fill(_ t: CompiledTemplate, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer) -> Int? {
        renderBuffer.removeAll(keepingCapacity: true)
        for piece in t.pieces {
            switch piece {
            case .literal(let s): renderBuffer.append(contentsOf: s.utf8)
            case .slot(let slot):
                guard let v = value(slot, rule, line) else { return slot }
                renderBuffer.append(contentsOf: v)
            case .choice(let slots, let fallback):
                if let v = slots.lazy.compactMap({ self.value($0, rule, line) }).first {
                    renderBuffer.append(contentsOf: v)
                } else if let fallback {
                    renderBuffer.append(contentsOf: fallback.utf8)
                } else {
                    return slots[0]
                }
            }
        }
        return nil
    }

    /// The template's text with invalid UTF-8 repaired, for messages.
    private func renderLossy(_ t: CompiledTemplate, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer) -> String {
        guard fill(t, rule, line) == nil else { return "" }
        return String(decoding: renderBuffer, as: UTF8.self)
    }

    /// nil: a field is missing; .some(nil): present but unreadable; else the time.
    func parseTime(
        _ t: CompiledTemplate, _ parser: TimeParser, _ rule: CompiledRule,
        _ line: UnsafeRawBufferPointer, nowMs: Int64
    ) -> Int64?? {
        if let slot = t.singleSlot {
            guard let v = value(slot, rule, line) else { return nil }
            return .some(parser.parse(v, nowMs: nowMs))
        }
        guard fill(t, rule, line) == nil else { return nil }
        return .some(renderBuffer.withUnsafeBytes { parser.parse($0, nowMs: nowMs) })
    }

    /// A property's typed value: nil when left out (missing field, or empty for a non-string
    /// type), a problem when the text does not convert to the declared type.
    private func typedValue(
        _ p: CompiledProperty, _ rule: CompiledRule,
        _ line: UnsafeRawBufferPointer
    ) -> Result<PropertyValue, EventProblem>? {
        let text: String
        switch render(p.template, rule, line) {
        case .missing: return nil
        case .badUTF8: return .failure(EventValidator.invalidUTF8(field: "properties.\(p.name)"))
        case .value(let s): text = s
        }
        if p.type != .string, text.isEmpty { return nil }
        let converted: PropertyValue?
        switch p.type {
        case .string: converted = .string(text)
        case .int: converted = TypedValues.int(text).map(PropertyValue.int)
        case .float: converted = TypedValues.float(text).map(PropertyValue.float)
        case .bool: converted = TypedValues.bool(text).map(PropertyValue.bool)
        }
        guard let converted else {
            return .failure(
                EventProblem(
                    field: "properties.\(p.name)",
                    message:
                        "'properties.\(p.name)' is invalid: \"\(text.prefix(64))\" is not \(p.type == .int ? "an" : "a") \(p.type.rawValue)"
                ))
        }
        return .success(converted)
    }
}

/// Text-to-type conversions for typed properties.
enum TypedValues {
    /// Optional sign and decimal digits, within Int64.
    static func int(_ s: String) -> Int64? { Int64(s) }

    /// A finite decimal number (`387.03`, `-1e3`); NaN and infinities cannot be sent as JSON.
    static func float(_ s: String) -> Double? {
        // Plain decimals (nearly all) without the String conversion; the same Double.
        if let fast = s.utf8.withContiguousStorageIfAvailable({ FastValues.float(UnsafeRawBufferPointer($0)) }),
            let d = fast
        {
            return d
        }
        guard let first = s.utf8.first, first != 0x20, s.utf8.last != 0x20,
            // Bytes, not Foundation's `contains`: a hex float is ASCII anyway, and this runs per event.
            !s.utf8.contains(UInt8(ascii: "x")), !s.utf8.contains(UInt8(ascii: "X")), let d = Double(s), d.isFinite
        else { return nil }
        return d
    }

    /// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, any case.
    static func bool(_ s: String) -> Bool? {
        if let fast = s.utf8.withContiguousStorageIfAvailable({ FastValues.bool(UnsafeRawBufferPointer($0)) }),
            let b = fast
        {
            return b
        }
        switch s.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }
}
