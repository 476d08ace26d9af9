/// Rate limit for a fallback that may recur on every event (queue overflow, full watch
/// table): the first occurrence is logged, then at most one line per interval, with the count.
struct FallbackNotice {
    private var lastLogged: ContinuousClock.Instant?
    private var unlogged = 0

    /// Counts an occurrence; returns how many to report when a line is due, nil otherwise.
    mutating func shouldLog(now: ContinuousClock.Instant, interval: Duration) -> Int? {
        unlogged += 1
        if let lastLogged, now - lastLogged < interval { return nil }
        lastLogged = now
        defer { unlogged = 0 }
        return unlogged
    }
}

/// Rate limit for problems that recur on every turn for the same cause, one per key (a path
/// that cannot be opened, a directory that cannot be watched): the first occurrence is logged,
/// again at once when the cause changes, and otherwise at most once per `interval`, saying how
/// many repeats were not logged. The loop that owns it passes the time, so tests can too.
struct RepeatedProblems<Key: Hashable> {
    struct Problem {
        var cause: String
        /// Wall clock (ms since the epoch) of the first occurrence, whatever its cause since.
        var sinceMs: Int64
        fileprivate var notice = FallbackNotice()
    }

    let interval: Duration
    private(set) var problems: [Key: Problem] = [:]

    init(interval: Duration) {
        self.interval = interval
    }

    var isEmpty: Bool { problems.isEmpty }

    /// Counts an occurrence of `cause` for `key`. Returns the number of occurrences not logged
    /// since the last line (0 for a first or changed cause) when a line is due; nil otherwise.
    mutating func occurred(
        _ key: Key, cause: String, now: ContinuousClock.Instant, wallMs: @autoclosure () -> Int64
    ) -> Int? {
        if problems[key]?.cause != cause {
            // New, or another cause: said at once, and the interval starts again.
            let sinceMs = problems[key]?.sinceMs ?? wallMs()
            problems[key] = Problem(cause: cause, sinceMs: sinceMs)
        }
        guard let count = problems[key]?.notice.shouldLog(now: now, interval: interval) else { return nil }
        return count - 1
    }

    /// The problem of `key` is over; returns whether there was one (a recovery line may be due).
    mutating func resolved(_ key: Key) -> Bool {
        problems.removeValue(forKey: key) != nil
    }

    /// Forgets the problems whose key no longer matters (a path that is gone), without a line.
    mutating func forget(where drop: (Key) -> Bool) {
        for key in problems.keys where drop(key) { problems[key] = nil }
    }
}
