/// `tests:` of a source: lines and the events the rules must make of them, run by `check`.
public struct RuleTestSpec: Sendable {
    /// The line, as written in the log.
    public var line: Located<String>
    /// `expect: none`: no event (the line is dropped or matches no rule).
    public var expectsNone: Bool
    /// Expected event fields: `rule`, `event`, `distinct_id`, `time` (ms, or an RFC 3339 time),
    /// `insert_id`, `ip`. Only those given are compared.
    public var fields: [String: Located<String>]
    /// Expected properties, by name, as written (compared with the event's values as text).
    public var properties: [(name: String, value: Located<String>)]
    public var mark: SourceMark
}

extension ConfigDecoder {
    static let testKeys = ["line", "expect", "rule", "event", "distinct_id", "time", "insert_id", "ip", "properties"]

    /// `tests: [ {line: …, event: …, properties: {…}} | {line: …, expect: none} ]`.
    mutating func decodeTests(_ node: YAMLNode) -> [RuleTestSpec] {
        guard case .sequence(let items, _) = node else {
            report(node.mark, "expected a list of tests for 'tests', got \(describe(node))")
            return []
        }
        var tests: [RuleTestSpec] = []
        for item in items {
            guard let fields = fields(of: item, for: "a test", known: Self.testKeys) else { continue }
            guard let line = required("line", in: fields).flatMap({ string($0, key: "line") }) else { continue }
            var spec = RuleTestSpec(line: line, expectsNone: false, fields: [:], properties: [], mark: fields.mark)
            if let expect = fields["expect"] {
                guard expect.scalar?.value == "none" else {
                    report(expect.mark, "invalid value '\(expect.scalar?.value ?? "")' for 'expect'; expected: none")
                    continue
                }
                spec.expectsNone = true
            }
            for key in ["rule", "event", "distinct_id", "time", "insert_id", "ip"] {
                if let value = fields[key].flatMap({ string($0, key: key) }) { spec.fields[key] = value }
            }
            if let node = fields["properties"], let entries = entries(node, key: "properties") {
                for entry in entries {
                    if let value = string(entry.value, key: entry.key.value) {
                        spec.properties.append((entry.key.value, value))
                    }
                }
            }
            if spec.expectsNone && (!spec.fields.isEmpty || !spec.properties.isEmpty) {
                report(fields.mark, "a test expects either 'expect: none' or event fields, not both")
                continue
            }
            if !spec.expectsNone && spec.fields.isEmpty && spec.properties.isEmpty {
                report(fields.mark, "a test needs the event fields it expects, or 'expect: none'")
                continue
            }
            tests.append(spec)
        }
        return tests
    }
}
