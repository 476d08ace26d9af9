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

    @Test func resetsAndJumpsToMaximum() {
        var backoff = Backoff(initialMs: 10, maxMs: 80, jitterMs: 0...0)
        #expect(backoff.nextDelayMs() == 10)
        #expect(backoff.nextDelayMs() == 20)
        #expect(backoff.nextDelayMs() == 40)
        #expect(backoff.failures == 3)
        // A success forgets the failures: the doubling starts again from the initial wait.
        backoff.reset()
        #expect(backoff.failures == 0)
        #expect(backoff.nextDelayMs() == 10)
        #expect(backoff.nextDelayMs() == 20)
        // 401/403: the longest wait at once (not the 40 ms next in line), counted as a failure.
        #expect(backoff.maximumDelayMs() == 80)
        #expect(backoff.failures == 3)
        // From no failure at all too, with the jitter added on top.
        var fresh = Backoff(initialMs: 10, maxMs: 80, jitterMs: 5...9, random: { $0.upperBound })
        #expect(fresh.maximumDelayMs() == 89)
        #expect(fresh.failures == 1)
    }

    @Test func isAtMaximumOnceTheNextWaitIsTheLongest() {
        var backoff = Backoff(initialMs: 10, maxMs: 80, jitterMs: 0...0)
        #expect(!backoff.isAtMaximum)  // next: 10
        var seen: [(delay: Int, atMaximum: Bool)] = []
        for _ in 0..<5 { seen.append((backoff.nextDelayMs(), backoff.isAtMaximum)) }
        #expect(seen.map(\.delay) == [10, 20, 40, 80, 80])
        // After the 40 ms wait the next one is the 80 ms cap.
        #expect(seen.map(\.atMaximum) == [false, false, true, true, true])
        backoff.reset()
        #expect(!backoff.isAtMaximum)
    }
}
