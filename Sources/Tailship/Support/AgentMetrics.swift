import Synchronization

/// Every counter the agent keeps, named once here so operators get a stable set: they are
/// logged as `stats` every minute and at shutdown with these exact keys.
public final class AgentMetrics: Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case linesRead = "lines.read"
        case linesUnmatched = "lines.unmatched"
        case linesDropped = "lines.dropped"
        case linesLimitHit = "lines.limit_hit"
        case linesTruncated = "lines.truncated"
        case valuesUTF8Replaced = "values.utf8_replaced"
        case eventsProduced = "events.produced"
        case eventsInvalid = "events.invalid"
        case eventsDelivered = "events.delivered"
        case eventsDeadLettered = "events.dead_lettered"
    }

    // One lock over all counters: the reader adds per read chunk, not per line, so the lock
    // is taken a few hundred times a second at most.
    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))
    /// The counters with labels (`AgentMetrics+Labelled.swift`), under a lock of their own,
    /// likewise taken once per read chunk or per batch answer.
    let labelled = Mutex(LabelledCounts())

    public init() {}

    public func add(_ counter: Counter, _ amount: Int = 1) {
        guard amount != 0 else { return }
        values.withLock { $0[Self.index(counter)] += amount }
    }

    public func value(_ counter: Counter) -> Int {
        values.withLock { $0[Self.index(counter)] }
    }

    /// All counters as `name -> value`, in declaration order.
    public func snapshot() -> [(String, Int)] {
        Counter.allCases.map { ($0.rawValue, value($0)) }
    }

    private static func index(_ counter: Counter) -> Int {
        Counter.allCases.firstIndex(of: counter)!
    }
}
