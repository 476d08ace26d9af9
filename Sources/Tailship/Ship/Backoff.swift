/// Exponential backoff with jitter, as Mixpanel advises for 429/5xx (Mixpanel's Ingestion API docs).
///
/// With the defaults (initial 2 s, max 60 s, jitter 1–5 s) the wait before retry n is:
///
/// | failure | base   | wait        |
/// |---------|--------|-------------|
/// | 1       | 2 s    | 3–7 s       |
/// | 2       | 4 s    | 5–9 s       |
/// | 3       | 8 s    | 9–13 s      |
/// | 4       | 16 s   | 17–21 s     |
/// | 5       | 32 s   | 33–37 s     |
/// | 6+      | 60 s   | 61–65 s     |
///
/// A `Retry-After` from the server raises the wait to at least that many seconds (capped
/// at `maxRetryAfterMs`, so a bogus header cannot stall shipping for hours).
/// `atMaximum()` jumps straight to the last row, for 401/403.
public struct Backoff: Sendable {
    public var initialMs: Int
    public var maxMs: Int
    /// Jitter added to every wait; 1–5 s in production, shrunk by tests.
    public var jitterMs: ClosedRange<Int>
    /// Upper bound on an honoured `Retry-After`.
    public var maxRetryAfterMs: Int
    /// Failures since the last success.
    public private(set) var failures = 0
    private let random: @Sendable (ClosedRange<Int>) -> Int

    /// Creates a backoff; `random` picks the jitter (injectable so tests are exact).
    public init(
        initialMs: Int, maxMs: Int, jitterMs: ClosedRange<Int> = 1000...5000,
        maxRetryAfterMs: Int = 600_000,
        random: @escaping @Sendable (ClosedRange<Int>) -> Int = { Int.random(in: $0) }
    ) {
        self.initialMs = max(1, initialMs)
        self.maxMs = max(self.initialMs, maxMs)
        self.jitterMs = jitterMs
        self.maxRetryAfterMs = maxRetryAfterMs
        self.random = random
    }

    /// Creates a backoff from the configuration's retry section.
    public init(
        _ config: RetryConfig, jitterMs: ClosedRange<Int> = 1000...5000,
        random: @escaping @Sendable (ClosedRange<Int>) -> Int = { Int.random(in: $0) }
    ) {
        self.init(initialMs: config.initialBackoffMs, maxMs: config.maxBackoffMs, jitterMs: jitterMs, random: random)
    }

    /// The base wait (no jitter) after `failures` failures: initial × 2^(failures-1), capped.
    public func baseMs(afterFailures failures: Int) -> Int {
        guard failures > 0 else { return 0 }
        var base = initialMs
        for _ in 1..<failures {
            if base >= maxMs { break }
            base *= 2
        }
        return min(base, maxMs)
    }

    /// Records a failure and returns how long to wait before retrying, in milliseconds.
    public mutating func nextDelayMs(retryAfterSeconds: Int? = nil) -> Int {
        failures += 1
        let wait = baseMs(afterFailures: failures) + random(jitterMs)
        guard let retryAfterSeconds else { return wait }
        let (product, overflow) = retryAfterSeconds.multipliedReportingOverflow(by: 1000)
        let requested = overflow ? maxRetryAfterMs : min(product, maxRetryAfterMs)
        return max(wait, requested)
    }

    /// Records a failure that should wait the longest (401/403) and returns that wait.
    public mutating func maximumDelayMs() -> Int {
        failures += 1
        return maxMs + random(jitterMs)
    }
}
