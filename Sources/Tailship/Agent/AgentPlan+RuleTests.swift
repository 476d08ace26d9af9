#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension AgentPlan {
    /// What `check` made of the sources' `tests:`.
    public struct RuleTestReport: Sendable {
        public var passed = 0
        /// `FILE:LINE:COLUMN: test failed: …`, one per failed test.
        public var failures: [String] = []
        public var total: Int { passed + failures.count }
    }

    /// Runs every source's `tests:` through its rules, as `run` would read each line now.
    public func runRuleTests(nowMs: Int64 = WallClock.nowMs()) -> RuleTestReport {
        var report = RuleTestReport()
        for (index, source) in config.sources.enumerated() {
            let engine = engines[index]
            let framing = source.recordFraming
            for test in source.tests {
                var problems: [String]
                var text = test.line.value
                if let framing {
                    // A multiline test is one record as the source frames it (as `run` reads it from
                    // a file): a trace that splits is the bug the test is there to catch.
                    let records = Self.records(of: text, framing: framing, maxLineBytes: source.maxLineBytes)
                    if records.count > 1 {
                        problems = ["the text frames as \(records.count) records under 'multiline', not 1"]
                    } else {
                        text = records.first ?? ""
                        problems = []
                    }
                } else {
                    problems = []
                }
                if problems.isEmpty {
                    let outcome = engine.process(line: text, basis: 0, offset: 0, nowMs: nowMs)
                    problems = Self.differences(test, text: text, outcome, engine: engine, nowMs: nowMs)
                }
                if problems.isEmpty {
                    report.passed += 1
                } else {
                    let shown = SafeText.escapingControls(String(test.line.value.prefix(80)))
                    report.failures.append(
                        "\(config.file):\(test.line.mark.line):\(test.line.mark.column): test failed: line '\(shown)': "
                            + problems.joined(separator: "; "))
                }
            }
        }
        return report
    }

    /// The records `text` frames into, as `run` would read it from a file.
    static func records(of text: String, framing: RecordFraming, maxLineBytes: Int) -> [String] {
        var splitter = LineSplitter(maxLineBytes: maxLineBytes, framing: framing)
        var records: [String] = []
        let collect: (LineBatch) -> Void = { batch in
            for record in batch { records.append(String(decoding: record.bytes, as: UTF8.self)) }
        }
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { splitter.feed(UnsafeRawBufferPointer($0), collect) }
        splitter.flush(collect)
        return records
    }

    /// How `outcome` (of `text`, the test's line or record as read) differs from what `test` expects; empty when it passes.
    static func differences(
        _ test: RuleTestSpec, text: String, _ outcome: RuleOutcome, engine: RuleEngine, nowMs: Int64
    )
        -> [String]
    {
        let event: Event
        let rule: String
        switch outcome {
        case .event(let made, let by):
            if test.expectsNone { return ["expected no event, rule \(by) made \"\(made.name)\""] }
            (event, rule) = (made, by)
        case .dropped, .unmatched:
            if test.expectsNone { return [] }
            let why = engine.explain(line: text, nowMs: nowMs).map(\.description).joined(separator: "; ")
            return ["expected an event, got none (\(why))"]
        case .invalid(let by, let problems):
            return ["rule \(by) made an invalid event: " + problems.map(\.message).joined(separator: "; ")]
        case .limitHit(let by):
            return ["the pattern of '\(by)' ran out of its match budget"]
        }
        var differences: [String] = []
        func compare(_ key: String, _ actual: String) {
            guard let expected = test.fields[key], expected.value != actual else { return }
            differences.append("\(key): expected \"\(expected.value)\", got \"\(actual)\"")
        }
        compare("rule", rule)
        compare("event", event.name)
        compare("distinct_id", event.distinctId)
        compare("insert_id", event.insertId)
        compare("ip", event.ip)
        if let expected = test.fields["time"] {
            let ms = Int64(expected.value) ?? Self.iso8601Ms(expected.value)
            if ms != event.timeMs {
                differences.append("time: expected \(expected.value), got \(event.timeMs) (ms)")
            }
        }
        for (name, expected) in test.properties {
            guard let property = event.properties.first(where: { $0.name == name }) else {
                differences.append("properties.\(name): expected \"\(expected.value)\", not set")
                continue
            }
            if !Self.matches(property.value, expected.value) {
                differences.append("properties.\(name): expected \"\(expected.value)\", got \(property.value.text)")
            }
        }
        return differences
    }

    /// A property's value against the text a test wrote: numbers compared as numbers.
    static func matches(_ value: PropertyValue, _ expected: String) -> Bool {
        switch value {
        case .string(let s): return s == expected
        case .int(let i): return Int64(expected) == i
        case .float(let d): return Double(expected) == d
        case .bool(let b): return TypedValues.bool(expected) == b
        }
    }

    static func iso8601Ms(_ text: String) -> Int64? {
        guard let zone = ZoneOffsetCache(identifier: "UTC"), let parser = try? TimeParser(format: "iso8601", zone: zone)
        else { return nil }
        var copy = text
        return copy.withUTF8 { parser.parse(UnsafeRawBufferPointer($0), nowMs: 0) }
    }
}

extension PropertyValue {
    /// The value as a test failure shows it.
    var text: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return "\(i)"
        case .float(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        }
    }
}
