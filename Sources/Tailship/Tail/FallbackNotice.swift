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
