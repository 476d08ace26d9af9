/// Turns one raw log line into at most one event, with one source's compiled rules.
///
/// Rules are tried in order and the first that matches wins. A rule matches when its `match`
/// pattern (if any) matches, every `where` condition holds, and every field named by `event`,
/// `distinct_id`, `time`, `insert_id` and `ip` is in the line; otherwise the next rule is tried.
/// A property naming a missing field is left out. See docs/rules.md.
///
/// One engine per reading thread: its patterns hold match data, its zone cache and scratch
/// buffers mutate. It is deliberately not `Sendable`; build one per thread with `RuleCompiler`.
/// The hot path works on the line's bytes and makes Strings only for the values an event holds.
public final class RuleEngine {
    /// The source these rules belong to.
    public let sourceName: String
    /// The source's line format.
    public let format: LogFormat
    let rules: [CompiledRule]
    let table: FieldTable
    let fields: LineFields
    private let preset: Pattern?
    /// (slot, group) pairs copied from the preset pattern's match into `fields`.
    private let presetSlots: [(slot: Int, group: Int)]
    /// Access logs write `-` for "no value" (no user, no bytes, no referer): such a field is
    /// absent, not the text `-`.
    private let dashIsAbsent: Bool
    private let json: JSONLineParser?
    /// RFC 5424 lines of the `syslog` format (RFC 3164 ones go through `preset`).
    private var syslog5424: Syslog5424Parser?
    /// Reused to render multi-piece templates.
    var renderBuffer: [UInt8] = []
    /// Multi-piece values of the event being encoded straight from the line (`encode`).
    let encodeScratch = EncodeScratch()
    /// Per rule: whether `encode` may write its events (no property count or name the
    /// validator would refuse).
    let encodable: [Bool]

    /// What an invalid UTF-8 value becomes (`invalid_utf8`).
    let invalidUTF8: InvalidUTF8
    /// Values whose invalid UTF-8 was replaced with U+FFFD so far (`values.utf8_replaced`).
    public internal(set) var utf8Replaced = 0

    init(
        sourceName: String, format: LogFormat, rules: [CompiledRule], table: FieldTable, preset: Pattern?,
        invalidUTF8: InvalidUTF8 = .replace
    ) {
        self.invalidUTF8 = invalidUTF8
        self.sourceName = sourceName
        self.format = format
        self.rules = rules
        self.table = table
        self.preset = preset
        self.fields = LineFields(count: table.count)
        self.presetSlots =
            preset.map { p in
                table.names.enumerated().compactMap { slot, name in p.groupIndex(named: name).map { (slot, $0) } }
            } ?? []
        self.json = format == .json ? JSONLineParser(table: table, fields: fields) : nil
        self.syslog5424 = format == .syslog ? Syslog5424Parser(table: table, fields: fields) : nil
        self.dashIsAbsent = format == .nginxCombined || format == .apacheCombined
        renderBuffer.reserveCapacity(256)
        self.encodable = rules.map { rule in
            rule.properties.count + 4 < EventValidator.maxProperties
                && rule.properties.allSatisfy { $0.name.utf8.count <= EventValidator.maxPropertyNameLength }
        }
    }

    /// The outcome for `line` (without its newline), read at byte `offset` of a file, with the
    /// content `basis` its default `$insert_id` derives from (`Line.basis`). `nowMs` bounds the
    /// time window and fills in a missing year or `time`.
    public func process(
        line: UnsafeRawBufferPointer, basis: UInt64, offset: UInt64,
        nowMs: Int64
    ) -> RuleOutcome {
        switch readLine(line) {
        case .notInFormat: return .unmatched
        case .limitHit: return .limitHit(rule: format.rawValue)
        case .ok: break
        }
        for rule in rules {
            let verdict = evaluate(rule, line: line, basis: basis, offset: offset, nowMs: nowMs, tracing: false)
            switch verdict {
            case .matched(let event): return .event(event, rule: rule.name)
            case .dropped: return .dropped(rule: rule.name)
            case .invalid(let problems): return .invalid(rule: rule.name, problems: problems)
            // It might have matched, and the first rule that matches takes a line: a later rule
            // (a catch-all) must not take it instead.
            case .limitHit: return .limitHit(rule: rule.name)
            case .patternDidNotMatch, .lineNotInFormat, .conditionFailed, .fieldMissing: continue
            }
        }
        return .unmatched
    }

    /// Each rule's verdict on `line`, in order, up to and including the one that takes it.
    public func explain(
        line: UnsafeRawBufferPointer, basis: UInt64, offset: UInt64,
        nowMs: Int64
    ) -> [RuleTrace] {
        switch readLine(line) {
        case .notInFormat(let reason):
            return rules.map { RuleTrace(rule: $0.name, verdict: .lineNotInFormat(reason)) }
        case .limitHit:
            return rules.map { RuleTrace(rule: $0.name, verdict: .limitHit) }
        case .ok: break
        }
        var traces: [RuleTrace] = []
        for rule in rules {
            let verdict = evaluate(rule, line: line, basis: basis, offset: offset, nowMs: nowMs, tracing: true)
            traces.append(RuleTrace(rule: rule.name, verdict: verdict))
            switch verdict {
            case .matched, .dropped, .invalid, .limitHit: return traces
            default: continue
            }
        }
        return traces
    }

    /// `process` for a String line (tests).
    public func process(line: String, basis: UInt64 = 0, offset: UInt64 = 0, nowMs: Int64) -> RuleOutcome {
        var copy = line
        return copy.withUTF8 {
            process(line: UnsafeRawBufferPointer($0), basis: basis, offset: offset, nowMs: nowMs)
        }
    }

    /// `explain` for a String line (tests).
    public func explain(line: String, basis: UInt64 = 0, offset: UInt64 = 0, nowMs: Int64) -> [RuleTrace] {
        var copy = line
        return copy.withUTF8 {
            explain(line: UnsafeRawBufferPointer($0), basis: basis, offset: offset, nowMs: nowMs)
        }
    }

    enum LineRead {
        case ok
        case notInFormat(String)
        case limitHit
    }

    /// The source-level parse: the format's own fields, before any rule is tried.
    func readLine(_ line: UnsafeRawBufferPointer) -> LineRead {
        switch format {
        case .regex:
            return .ok
        case .logfmt:
            fields.reset(lineLength: line.count)
            LogfmtParser.parse(line, table: table, into: fields)
            return .ok
        case .json:
            fields.reset(lineLength: line.count)
            return json!.parse(line) ? .ok : .notInFormat("not a JSON object")
        case .syslog where Syslog5424Parser.looksLike(line):
            fields.reset(lineLength: line.count)
            if let problem = syslog5424!.parse(line) { return .notInFormat("not an RFC 5424 syslog line: \(problem)") }
            return .ok
        case .nginxCombined, .apacheCombined, .syslog:
            fields.reset(lineLength: line.count)
            guard let preset else { return .notInFormat("no \(format.rawValue) pattern") }
            switch preset.match(line) {
            case .noMatch: return .notInFormat("not a \(format.rawValue) line")
            case .limitHit: return .limitHit
            case .matched:
                for (slot, group) in presetSlots {
                    if let r = preset.range(ofGroup: group),
                        !(dashIsAbsent && r.count == 1 && line[r.lowerBound] == UInt8(ascii: "-"))
                    {
                        fields.set(
                            slot, FieldRef(start: r.lowerBound, end: r.upperBound, inScratch: false, present: true))
                    }
                }
                return .ok
            }
        }
    }

    /// The bytes of field `slot` for `rule`: its own capture first, then the format's fields.
    @inline(__always)
    func value(_ slot: Int, _ rule: CompiledRule, _ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let group = rule.groupForSlot[slot]
        if group >= 0, let range = rule.pattern?.range(ofGroup: group) {
            return UnsafeRawBufferPointer(rebasing: line[range])
        }
        return fields.value(slot, line: line)
    }
}
