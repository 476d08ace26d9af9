/// `rules:` of a source — how lines become events. Patterns and templates are only collected
/// here, with their positions; the Rules layer compiles them and reports what does not compile.
extension ConfigDecoder {
    static let ruleKeys = [
        "name", "match", "where", "event", "distinct_id", "time", "insert_id", "ip", "properties", "drop",
    ]
    static let timeKeys = ["field", "format", "from"]
    static let propertyKeys = ["value", "type"]

    /// Decodes a non-empty list of rules whose names are unique within the source.
    mutating func decodeRules(_ node: YAMLNode, format: LogFormat?) -> [RuleConfig] {
        guard case .sequence(let items, let mark) = node else {
            if let single = oneItemWithoutItsDash(node, itemKeys: Self.ruleKeys) {
                report(node.mark, "expected a list of rules for 'rules', got a mapping; start the rule with '- '")
                // Its own problems are reported now, not after this one is fixed (the configuration
                // is refused all the same: a problem was reported).
                return decodeRule(single, format: format).map { [$0] } ?? []
            }
            report(node.mark, "expected a list of rules for 'rules', got \(describe(node))")
            return []
        }
        guard !items.isEmpty else {
            report(mark, "'rules' must list at least one rule")
            return []
        }
        var seen: [String: SourceMark] = [:]
        var rules: [RuleConfig] = []
        for item in items {
            guard let rule = decodeRule(item, format: format) else { continue }
            if let first = seen[rule.name.value] {
                report(rule.name.mark, "duplicate rule name '\(rule.name.value)' (first at \(first))")
                continue
            }
            seen[rule.name.value] = rule.name.mark
            rules.append(rule)
        }
        return rules
    }

    private mutating func decodeRule(_ node: YAMLNode, format: LogFormat?) -> RuleConfig? {
        guard let fields = fields(of: node, for: "a rule", known: Self.ruleKeys) else { return nil }
        let name = required("name", in: fields).flatMap { nonEmptyString($0, key: "name") }
        let drop = fields["drop"].flatMap { bool($0, key: "drop") } ?? false
        let match: Located<String>?
        if format == .regex {
            match = required("match", in: fields, reason: "needed for format: regex").flatMap {
                nonEmptyString($0, key: "match")
            }
        } else {
            match = fields["match"].flatMap { nonEmptyString($0, key: "match") }
        }
        let conditions = fields["where"].map { decodeWhere($0) } ?? []
        // A dropping rule produces no event, so it needs none of the event's parts.
        let reason = "needed unless 'drop: true'"
        let event = (drop ? fields["event"] : required("event", in: fields, reason: reason)).flatMap {
            nonEmptyString($0, key: "event")
        }
        let distinctId = (drop ? fields["distinct_id"] : required("distinct_id", in: fields, reason: reason)).flatMap {
            nonEmptyString($0, key: "distinct_id")
        }
        let timeNode = drop ? fields["time"] : required("time", in: fields, reason: reason)
        let timeFromRead = timeNode.map { isTimeFromRead($0) } ?? false
        let time = timeFromRead ? nil : timeNode.flatMap { decodeTime($0) }
        let insertId = fields["insert_id"].flatMap { nonEmptyString($0, key: "insert_id") }
        let ip = fields["ip"].flatMap { nonEmptyString($0, key: "ip") }
        let properties = fields["properties"].map { decodeProperties($0) } ?? []

        guard let name else { return nil }
        var rule = RuleConfig(
            name: name, match: match, conditions: conditions, event: event, distinctId: distinctId, time: time,
            insertId: insertId, ip: ip, properties: properties, drop: drop, mark: fields.mark)
        rule.timeFromRead = timeFromRead
        return rule
    }

    /// `time: { from: read }`: the time the line is read, for logs without timestamps. Reported
    /// here when `from` has another value or comes with `field` / `format`.
    private mutating func isTimeFromRead(_ node: YAMLNode) -> Bool {
        guard let from = node["from"] else { return false }
        _ = fields(of: node, for: "'time'", known: Self.timeKeys)  // a misspelt key beside it
        guard let scalar = from.scalar, scalar.value == "read" else {
            report(from.mark, "invalid value '\(from.scalar?.value ?? "")' for 'from'; expected: read")
            return true
        }
        for key in ["field", "format"] where node[key] != nil {
            report(
                node[key]!.mark,
                "'\(key)' and 'from: read' exclude each other: the time comes from the line or from reading it")
        }
        return true
    }

    /// `where: { field: pattern, ... }`.
    private mutating func decodeWhere(_ node: YAMLNode) -> [WhereSpec] {
        guard let entries = entries(node, key: "where") else { return [] }
        var conditions: [WhereSpec] = []
        for entry in entries {
            let field = Located(entry.key.value, at: entry.key.mark)
            guard !field.value.isEmpty else {
                report(field.mark, "a 'where' field name must not be empty")
                continue
            }
            guard let pattern = string(entry.value, key: "where.\(field.value)") else { continue }
            conditions.append(WhereSpec(field: field, pattern: pattern))
        }
        return conditions
    }

    /// `time: { field: ts, format: iso8601 }`.
    private mutating func decodeTime(_ node: YAMLNode) -> TimeSpec? {
        guard let fields = fields(of: node, for: "'time'", known: Self.timeKeys) else { return nil }
        let field = required("field", in: fields).flatMap { nonEmptyString($0, key: "field") }
        let format = required("format", in: fields).flatMap { nonEmptyString($0, key: "format") }
        guard let field, let format else { return nil }
        return TimeSpec(field: field, format: format)
    }

    /// The properties every event already carries, and where each comes from (docs/rules.md:
    /// a rule cannot map them).
    static let reservedProperties: [String: String] = [
        "time": "from the rule's 'time:'",
        "distinct_id": "from the rule's 'distinct_id:'",
        "$insert_id": "from the rule's 'insert_id:', or derived",
        "ip": "from the rule's 'ip:', \"0\" without it",
        "token": "the project token, for api: track",
    ]

    /// `properties:` — each a template (`plan: "{{plan}}"`) or `{ value: ..., type: ... }`.
    private mutating func decodeProperties(_ node: YAMLNode) -> [PropertySpec] {
        guard let entries = entries(node, key: "properties") else { return [] }
        var properties: [PropertySpec] = []
        for entry in entries {
            let name = Located(entry.key.value, at: entry.key.mark)
            guard !name.value.isEmpty else {
                report(name.mark, "a property name must not be empty")
                continue
            }
            if let setBy = Self.reservedProperties[name.value] {
                // Sent twice, whichever copy the API kept would break dedup or the event's time.
                report(
                    name.mark,
                    "property '\(name.value)' is set by tailship itself (\(setBy)); give this property another name")
                continue
            }
            if let property = decodeProperty(name: name, entry.value) { properties.append(property) }
        }
        return properties
    }

    private mutating func decodeProperty(name: Located<String>, _ node: YAMLNode) -> PropertySpec? {
        switch node {
        case .scalar(let scalar) where !scalar.isNull:
            return PropertySpec(
                name: name, value: Located(scalar.value, at: scalar.mark), type: ConfigDefaults.propertyType)
        case .mapping:
            guard let fields = fields(of: node, for: "property '\(name.value)'", known: Self.propertyKeys) else {
                return nil
            }
            let value = required("value", in: fields).flatMap { string($0, key: "value") }
            var type: PropertyType? = ConfigDefaults.propertyType
            if let written = fields["type"] { type = enumeration(written, key: "type", as: PropertyType.self) }
            guard let value, let type else { return nil }
            return PropertySpec(name: name, value: value, type: type)
        default:
            report(
                node.mark,
                "expected a template or a mapping with 'value' and 'type' for property '\(name.value)', got \(describe(node))"
            )
            return nil
        }
    }
}
