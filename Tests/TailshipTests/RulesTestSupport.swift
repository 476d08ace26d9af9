@testable import Tailship

/// Builders for rule configurations in tests (the YAML decoder is tested on its own).
enum RulesFixture {
    /// The content basis lines are read with (see `Line.basis`).
    static let basis: UInt64 = 0x0123_4567_89ab_cdef
    /// 2026-11-28T05:00:00Z.
    static let now: Int64 = 1_795_842_000_000

    static func at(_ s: String, _ line: Int = 1, _ column: Int = 1) -> Located<String> {
        Located(s, at: SourceMark(line: line, column: column))
    }

    static func rule(
        _ name: String, match: String? = nil, where conditions: [(String, String)] = [], event: String? = nil,
        distinctId: String? = nil, time: (String, String)? = nil, insertId: String? = nil, ip: String? = nil,
        properties: [(String, String, PropertyType)] = [], drop: Bool = false, line: Int = 10
    ) -> RuleConfig {
        RuleConfig(
            name: at(name, line, 9), match: match.map { at($0, line + 1, 16) },
            conditions: conditions.map { WhereSpec(field: at($0.0, line + 2, 18), pattern: at($0.1, line + 2, 24)) },
            event: event.map { at($0, line + 3, 16) }, distinctId: distinctId.map { at($0, line + 4, 22) },
            time: time.map { TimeSpec(field: at($0.0, line + 5, 24), format: at($0.1, line + 5, 36)) },
            insertId: insertId.map { at($0, line + 6, 20) }, ip: ip.map { at($0, line + 7, 13) },
            properties: properties.enumerated().map { i, p in
                PropertySpec(name: at(p.0, line + 8 + i, 11), value: at(p.1, line + 8 + i, 20), type: p.2)
            },
            drop: drop, mark: SourceMark(line: line, column: 7))
    }

    static func source(_ rules: [RuleConfig], format: LogFormat = .regex, timezone: String = "UTC") -> SourceConfig {
        SourceConfig(
            name: "app", paths: ["/var/log/app/*.log"], timezone: at(timezone, 5, 15), format: format,
            rules: rules, mark: SourceMark(line: 3, column: 5))
    }

    static func engine(
        _ rules: [RuleConfig], format: LogFormat = .regex, timezone: String = "UTC",
        invalidUTF8: InvalidUTF8 = .replace
    ) throws -> RuleEngine {
        var config = source(rules, format: format, timezone: timezone)
        config.invalidUTF8 = invalidUTF8
        let (engine, problems) = RuleCompiler.compile(config, file: "agent.yaml")
        guard let engine else { throw ConfigError(problems: problems) }
        return engine
    }

    static func problems(_ rules: [RuleConfig], format: LogFormat = .regex, timezone: String = "UTC") -> [String] {
        RuleCompiler.compile(source(rules, format: format, timezone: timezone), file: "agent.yaml").problems
            .map(\.description)
    }
}
