/// What the rules made of one log line.
public enum RuleOutcome: Sendable, Equatable {
    /// `rule` matched and produced a valid event.
    case event(Event, rule: String)
    /// `rule` matched and has `drop: true`: the line produces nothing, on purpose.
    case dropped(rule: String)
    /// No rule matched.
    case unmatched
    /// `rule` matched but the event breaks the API's rules (or a typed property did not
    /// convert, or the time did not parse): `run` dead-letters it with these problems.
    case invalid(rule: String, problems: [EventProblem])
    /// No rule matched, and `rule`'s pattern (or the format's own pattern) was cut short by the
    /// per-line match budget: the line might have matched, so `run` dead-letters it
    /// (`match_limit`) rather than count it unmatched.
    case limitHit(rule: String)
}

/// Why one rule did or did not take a line, for `tailship test --explain`.
public enum RuleVerdict: Sendable, Equatable {
    case matched(Event)
    case dropped
    case invalid([EventProblem])
    /// The rule's `match` pattern did not match the line.
    case patternDidNotMatch
    /// The rule's pattern (or a `where` pattern) hit the match limits.
    case limitHit
    /// The line is not in the source's format (not JSON, not an nginx line...).
    case lineNotInFormat(String)
    /// A `where` condition's field had a value its pattern did not match.
    case conditionFailed(field: String, value: String)
    /// `field`, named by the rule's `part` (`event`, `where`, `time`...), is not in the line.
    case fieldMissing(field: String, part: String)
}

/// One rule's verdict on one line.
public struct RuleTrace: Sendable, Equatable, CustomStringConvertible {
    public var rule: String
    public var verdict: RuleVerdict

    public init(rule: String, verdict: RuleVerdict) {
        self.rule = rule
        self.verdict = verdict
    }

    /// One human line, e.g. `rule purchase: where plan: value "free" did not match`.
    public var description: String {
        let why: String
        switch verdict {
        case .matched(let event): why = "matched: event \"\(event.name)\" for \"\(event.distinctId)\""
        case .dropped: why = "matched: dropped (drop: true)"
        case .invalid(let problems):
            why = "matched, but the event is invalid: " + problems.map(\.description).joined(separator: "; ")
        case .patternDidNotMatch: why = "pattern did not match"
        case .limitHit: why = "pattern ran out of the per-line match budget (would be dead-lettered: match_limit)"
        case .lineNotInFormat(let reason): why = "line not read: \(reason)"
        case .conditionFailed(let field, let value): why = "where \(field): value \"\(value)\" did not match"
        case .fieldMissing(let field, let part): why = "field '\(field)' missing for \(part)"
        }
        return "rule \(rule): \(why)"
    }
}
