/// Turns a source's rules as written into a `RuleEngine`, reporting every problem at the YAML
/// position of the offending value.
///
/// Checks: patterns and `where` patterns compile (`invalid pattern: <pcre2 message> at offset
/// N`); templates are well formed; for `regex` and the presets, every field a template, `where`
/// or `time` names is produced by the format's or the rule's named groups (for `json` and
/// `logfmt` any field may exist, so nothing to check); the time format and zone are known;
/// a rule that does not drop has an `event`; rule names are unique (they feed `$insert_id`).
public enum RuleCompiler {
    /// Compiles `source` (read from `file`, used in problems). The engine is nil when there are
    /// problems. Call once per reading thread: the engine is not thread-safe.
    public static func compile(
        _ source: SourceConfig, file: String, matchLimit: UInt32 = Pattern.defaultMatchLimit,
        depthLimit: UInt32 = Pattern.defaultDepthLimit
    ) -> (engine: RuleEngine?, problems: [ConfigProblem]) {
        var problems: [ConfigProblem] = []
        func problem(_ mark: SourceMark, _ message: String) {
            problems.append(ConfigProblem(file: file, mark: mark, message: message))
        }
        func pattern(_ text: Located<String>, what: String) -> Pattern? {
            do {
                return try Pattern(text.value, matchLimit: matchLimit, depthLimit: depthLimit)
            } catch {
                problem(text.mark, what.isEmpty ? error.description : "\(what): \(error.description)")
                return nil
            }
        }

        if let multiline = source.multiline {
            let what = multiline.preset.map { "built-in \($0.rawValue) multiline pattern" } ?? "multiline pattern"
            _ = pattern(multiline.pattern, what: what)
        }

        let zone = ZoneOffsetCache(identifier: source.timezone.value)
        if zone == nil { problem(source.timezone.mark, "unknown time zone '\(source.timezone.value)'") }

        let table = FieldTable()
        var preset: Pattern?
        if let text = LogPresets.pattern(for: source.format) {
            // Built in and tested: a failure here is a programming error, reported all the same.
            preset = pattern(Located(text, at: source.mark), what: "built-in \(source.format.rawValue) pattern")
        }

        var builders: [RuleBuilder] = []
        var seen: Set<String> = []
        for rule in source.rules {
            if !seen.insert(rule.name.value).inserted {
                problem(rule.name.mark, "duplicate rule name '\(rule.name.value)'")
            }
            let rulePattern = rule.match.flatMap { pattern($0, what: "") }
            // The fields a line can have for this rule; nil means any (json, logfmt).
            var available: Set<String>?
            switch source.format {
            case .json, .logfmt: available = nil
            case .regex, .nginxCombined, .apacheCombined, .syslog:
                let names = (preset?.namedGroups ?? []) + (rulePattern?.namedGroups ?? [])
                available = Set(names.map(\.name))
            }
            // A pattern that failed to compile, or an unknown format, would only add noise as
            // "missing field" errors.
            let checkFields = source.formatKnown && (rule.match == nil || rulePattern != nil)
            func checkField(_ name: String, _ mark: SourceMark) {
                guard checkFields, let available, !available.contains(name) else { return }
                // RFC 5424 lines of the syslog format have more fields than its RFC 3164 pattern.
                if source.format == .syslog && (Syslog5424Parser.headerFields.contains(name) || name.hasPrefix("sd.")) {
                    return
                }
                let known = available.sorted().joined(separator: ", ")
                problem(
                    mark,
                    "field '\(name)' is not produced by the pattern "
                        + (known.isEmpty ? "(it has no named groups)" : "(named groups: \(known))"))
            }
            func template(_ text: Located<String>?) -> CompiledTemplate? {
                guard let text else { return nil }
                do {
                    let t = try Template(parsing: text.value)
                    for name in t.referencedFields { checkField(name, text.mark) }
                    return CompiledTemplate(t, table: table)
                } catch {
                    problem(text.mark, "invalid template: \(error.description)")
                    return nil
                }
            }

            var conditions: [CompiledCondition] = []
            for condition in rule.conditions {
                checkField(condition.field.value, condition.field.mark)
                if let p = pattern(condition.pattern, what: "where \(condition.field.value)") {
                    conditions.append(
                        CompiledCondition(
                            field: condition.field.value,
                            slot: table.add(condition.field.value), pattern: p))
                }
            }
            if !rule.drop, rule.event == nil {
                problem(rule.mark, "rule '\(rule.name.value)' needs an 'event' (or 'drop: true')")
            }
            var time: (template: CompiledTemplate, parser: TimeParser)?
            if let spec = rule.time {
                // `field: ts` names a field; `field: "{{date}} {{clock}}"` combines several.
                let text = spec.field.value.contains("{{") ? spec.field.value : "{{\(spec.field.value)}}"
                let compiled = template(Located(text, at: spec.field.mark))
                var parser: TimeParser?
                if let zone {
                    do { parser = try TimeParser(format: spec.format.value, zone: zone) } catch {
                        problem(spec.format.mark, error.description)
                    }
                }
                if let compiled, let parser { time = (compiled, parser) }
            }
            builders.append(
                RuleBuilder(
                    name: rule.name.value, pattern: rulePattern, conditions: conditions,
                    event: template(rule.event), distinctId: template(rule.distinctId), time: time,
                    insertId: template(rule.insertId), ip: template(rule.ip),
                    properties: rule.properties.compactMap { spec in
                        template(spec.value).map {
                            CompiledProperty(name: spec.name.value, template: $0, type: spec.type)
                        }
                    },
                    drop: rule.drop))
        }
        guard problems.isEmpty else { return (nil, problems) }

        // Slots are final only now: map each slot to the capture group that provides it.
        let rules = builders.map { b in
            CompiledRule(
                name: b.name, pattern: b.pattern,
                groupForSlot: table.names.map { b.pattern?.groupIndex(named: $0) ?? -1 },
                conditions: b.conditions, event: b.event, distinctId: b.distinctId, time: b.time,
                insertId: b.insertId, ip: b.ip, properties: b.properties, drop: b.drop)
        }
        let engine = RuleEngine(
            sourceName: source.name, format: source.format, rules: rules, table: table,
            preset: preset, invalidUTF8: source.invalidUTF8)
        return (engine, [])
    }

    /// A rule while the field table is still growing.
    private struct RuleBuilder {
        var name: String
        var pattern: Pattern?
        var conditions: [CompiledCondition]
        var event: CompiledTemplate?
        var distinctId: CompiledTemplate?
        var time: (template: CompiledTemplate, parser: TimeParser)?
        var insertId: CompiledTemplate?
        var ip: CompiledTemplate?
        var properties: [CompiledProperty]
        var drop: Bool
    }
}
