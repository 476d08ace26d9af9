import Foundation
import Testing

@testable import Tailship

/// `RateBudget` on a made-up clock: instants are computed, never waited for.
@Suite struct ShipRateBudgetTests {
    let t0 = ContinuousClock.now

    func at(ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

    @Test func startsFullWithOneSecondsWorthAndRefusesWhatItLacks() {
        var budget = RateBudget(eventsPerSecond: 100, batchMaxEvents: 10, now: t0)
        #expect(budget.burst == 100)
        for _ in 0..<10 { #expect(budget.take(10, now: t0) == nil) }
        // Empty: ten events at 100/s are 100 ms away, and nothing was taken by asking.
        #expect(budget.take(10, now: t0) == .milliseconds(100))
        #expect(budget.take(10, now: at(ms: 99)) == .milliseconds(1))
        #expect(budget.take(10, now: at(ms: 100)) == nil)
        #expect(budget.take(1, now: at(ms: 100)) == .milliseconds(10))
    }

    @Test func aBatchLargerThanTheRateStillGoesAtTheAverageRate() {
        // 10 events/s, batches of 50: the bucket holds one batch, which waits 5 s to refill.
        var budget = RateBudget(eventsPerSecond: 10, batchMaxEvents: 50, now: t0)
        #expect(budget.burst == 50)
        #expect(budget.take(50, now: t0) == nil)
        #expect(budget.take(50, now: t0) == .seconds(5))
        #expect(budget.take(50, now: at(ms: 4999)) != nil)
        #expect(budget.take(50, now: at(ms: 5000)) == nil)
    }

    @Test func idleTimeFillsTheBucketOnlyUpToItsBurst() {
        var budget = RateBudget(eventsPerSecond: 200, batchMaxEvents: 2000, now: t0)
        #expect(budget.take(2000, now: t0) == nil)
        #expect(budget.available(now: at(ms: 3_600_000)) == 2000)
        #expect(budget.take(2000, now: at(ms: 3_600_000)) == nil)
        #expect(budget.take(1, now: at(ms: 3_600_000)) == .milliseconds(5))
    }

    /// A sender that asks again exactly when told, with batches of varying size, for a simulated
    /// minute: what went out by any moment t is at most burst + rate × t, and the rate is used.
    @Test func aGreedySenderStaysWithinTheRateAndItsBurst() {
        let rate = 300
        var budget = RateBudget(eventsPerSecond: rate, batchMaxEvents: 2000, now: t0)
        var now = t0
        var sent = 0
        var sizes = [2000, 1, 700, 37, 1999, 250]
        let end = t0 + .seconds(60)
        while now < end {
            let size = sizes.removeFirst()
            sizes.append(size)
            if let wait = budget.take(size, now: now) {
                #expect(wait > .zero)
                now += wait
                #expect(budget.take(size, now: now) == nil, "ready when it said")
            }
            sent += size
            let elapsed = Double((now - t0).components.seconds) + Double((now - t0).components.attoseconds) / 1e18
            #expect(Double(sent) <= Double(budget.burst) + Double(rate) * elapsed + 0.001)
        }
        #expect(sent >= rate * 60, "the budget is used, not wasted: \(sent)")
        #expect(sent <= rate * 60 + budget.burst + 2000)
    }

    @Test func aMoreThanFullRequestTakesTheWholeBucketAndGoesIntoDebt() {
        // Not made by the shipper (a batch never exceeds batch.max_events ≤ burst), but safe.
        var budget = RateBudget(eventsPerSecond: 10, batchMaxEvents: 10, now: t0)
        #expect(budget.take(30, now: t0) == nil)
        #expect(budget.take(10, now: t0) == .seconds(3))
    }
}

/// `AdaptiveConcurrency`: halving on a 429, growing back one per window of answers.
@Suite struct ShipAdaptiveConcurrencyTests {
    @Test func aRateLimitHalvesTheLimitDownToOne() {
        var aimd = AdaptiveConcurrency(maximum: 8)
        #expect(aimd.limit == 8)
        #expect(aimd.rateLimited(ticket: aimd.started()) == 4)
        #expect(aimd.rateLimited(ticket: aimd.started()) == 2)
        #expect(aimd.rateLimited(ticket: aimd.started()) == 1)
        #expect(aimd.rateLimited(ticket: aimd.started()) == nil)
        #expect(aimd.limit == 1)
    }

    @Test func refusalsOfRequestsAlreadyInFlightAtTheCutCountOnce() {
        var aimd = AdaptiveConcurrency(maximum: 4)
        let tickets = (0..<4).map { _ in aimd.started() }
        #expect(aimd.rateLimited(ticket: tickets[2]) == 2)
        for ticket in [tickets[0], tickets[1], tickets[3]] { #expect(aimd.rateLimited(ticket: ticket) == nil) }
        #expect(aimd.limit == 2)
        // A request sent under the new limit and refused cuts it again.
        #expect(aimd.rateLimited(ticket: aimd.started()) == 1)
    }

    @Test func answersWithoutA429GrowItBackOneWindowAtATime() {
        var aimd = AdaptiveConcurrency(maximum: 4)
        _ = aimd.rateLimited(ticket: aimd.started())
        _ = aimd.rateLimited(ticket: aimd.started())
        #expect(aimd.limit == 1)
        var changes: [Int] = []
        for _ in 0..<20 {
            if let limit = aimd.succeeded(ticket: aimd.started()) { changes.append(limit) }
        }
        // 1 answer at limit 1, 2 at limit 2, 3 at limit 3; never past max_in_flight.
        #expect(changes == [2, 3, 4])
        #expect(aimd.limit == 4)
    }

    @Test func answersToRequestsSentBeforeTheCutDoNotGrowIt() {
        var aimd = AdaptiveConcurrency(maximum: 4)
        let before = (0..<4).map { _ in aimd.started() }
        #expect(aimd.rateLimited(ticket: before[0]) == 2)
        for ticket in before.dropFirst() { #expect(aimd.succeeded(ticket: ticket) == nil) }
        #expect(aimd.limit == 2)
        #expect(aimd.succeeded(ticket: aimd.started()) == nil)
        #expect(aimd.succeeded(ticket: aimd.started()) == 3)
    }

    @Test func a429InTheMiddleOfARunStartsTheRunOver() {
        var aimd = AdaptiveConcurrency(maximum: 8)
        _ = aimd.rateLimited(ticket: aimd.started())  // 4
        for _ in 0..<3 { #expect(aimd.succeeded(ticket: aimd.started()) == nil) }
        #expect(aimd.rateLimited(ticket: aimd.started()) == 2)
        #expect(aimd.succeeded(ticket: aimd.started()) == nil)
        #expect(aimd.succeeded(ticket: aimd.started()) == 3)
    }
}
