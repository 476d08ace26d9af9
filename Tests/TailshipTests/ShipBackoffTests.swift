import Testing

@testable import Tailship

@Suite struct ShipBackoffTests {
    /// The table in Backoff's doc comment, with the jitter pinned to its low and high ends.
    @Test(arguments: [
        (1, 3000, 7000), (2, 5000, 9000), (3, 9000, 13000), (4, 17000, 21000), (5, 33000, 37000),
        (6, 61000, 65000), (7, 61000, 65000), (30, 61000, 65000),
    ])
    func followsTheDocumentedTable(failure: Int, low: Int, high: Int) {
        var lowest = Backoff(ConfigDefaults.retry, random: { $0.lowerBound })
        var highest = Backoff(ConfigDefaults.retry, random: { $0.upperBound })
        var delays: (Int, Int) = (0, 0)
        for _ in 0..<failure { delays = (lowest.nextDelayMs(), highest.nextDelayMs()) }
        #expect(delays.0 == low)
        #expect(delays.1 == high)
    }

    @Test func jitterStaysInRange() {
        var backoff = Backoff(initialMs: 100, maxMs: 100, jitterMs: 10...20)
        for _ in 0..<200 {
            #expect((110...120).contains(backoff.nextDelayMs()))
        }
    }

    @Test func honoursRetryAfterAsAMinimum() {
        var backoff = Backoff(initialMs: 50, maxMs: 200, jitterMs: 0...0, maxRetryAfterMs: 10_000)
        #expect(backoff.nextDelayMs(retryAfterSeconds: 1) == 1000)
        #expect(backoff.nextDelayMs(retryAfterSeconds: 0) == 100)
        #expect(backoff.nextDelayMs(retryAfterSeconds: 3600) == 10_000)  // capped
        #expect(backoff.nextDelayMs(retryAfterSeconds: Int.max) == 10_000)  // no overflow
    }

    @Test func jumpsToMaximum() {
        var backoff = Backoff(initialMs: 10, maxMs: 80, jitterMs: 0...0)
        #expect(backoff.nextDelayMs() == 10)
        #expect(backoff.nextDelayMs() == 20)
        #expect(backoff.failures == 2)
        // 401/403: the longest wait at once (not the 40 ms next in line), counted as a failure.
        #expect(backoff.maximumDelayMs() == 80)
        #expect(backoff.failures == 3)
        // And the doubling goes on from there, capped.
        #expect(backoff.nextDelayMs() == 80)
        // From no failure at all too, with the jitter added on top.
        var fresh = Backoff(initialMs: 10, maxMs: 80, jitterMs: 5...9, random: { $0.upperBound })
        #expect(fresh.maximumDelayMs() == 89)
        #expect(fresh.failures == 1)
    }
}
