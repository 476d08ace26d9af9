/// `destination.max_events_per_second`: a token bucket counted in events, checked by the
/// delivery loop before each request (first attempts and retries alike, since the API counts
/// every event it receives against the project's limit).
///
/// It holds at most `burst` tokens: one second's worth, or one batch (`batch.max_events`) when
/// that is more, so a batch larger than the rate still goes, after a wait long enough to keep
/// the average. It starts full. A value type with no clock of its own: the caller passes the
/// time, so tests drive it with made-up instants and never sleep.
struct RateBudget: Sendable {
    /// Events per second.
    let rate: Int
    /// Most tokens the bucket holds.
    let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private static let slack = 1e-6

    init(eventsPerSecond rate: Int, batchMaxEvents: Int, now: ContinuousClock.Instant) {
        self.rate = max(1, rate)
        burst = max(self.rate, batchMaxEvents, 1)
        tokens = Double(burst)
        last = now
    }

    /// Takes `events` tokens if the bucket has them (all of `burst` for a request larger than
    /// it) and returns nil; otherwise takes nothing and returns how long until it will have them.
    mutating func take(_ events: Int, now: ContinuousClock.Instant) -> Duration? {
        refill(now)
        let needed = Double(min(max(0, events), burst))
        // The slack absorbs floating-point error, so a request is ready at the moment it was told.
        guard tokens < needed - Self.slack else {
            tokens -= Double(max(0, events))
            return nil
        }
        let ms = (needed - tokens) * 1000 / Double(rate)
        // In whole milliseconds, the poll's unit, rounded up so the wait is never short.
        return .milliseconds(max(1, Int64((ms - Self.slack).rounded(.up))))
    }

    /// Tokens available at `now` (for tests and the log).
    mutating func available(now: ContinuousClock.Instant) -> Double {
        refill(now)
        return tokens
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard now > last else { return }
        let (seconds, attoseconds) = (now - last).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        tokens = min(Double(burst), tokens + elapsed * Double(rate))
        last = now
    }
}
