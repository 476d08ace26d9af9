import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the shipper's threads share: where acknowledgements go, the dedupe window, the dead
/// letter file, the stop signal and the retry policy.
final class ShipperContext: Sendable {
    let logger: Logger
    let acknowledgements: any AcknowledgementSink
    let dedupe: Mutex<DedupeWindow>
    let stop = StopSignal()
    /// The delivery thread's turns (`DeliveryLoop`); a wait for a dead letter's write beats it
    /// too: retrying a full disk is waiting, not being stuck (`WatchdogPings`).
    let deliveryHeartbeat = Heartbeat()
    let health = ShipperHealth()
    let deadLetters: DeadLetterWriter
    let retry: RetryConfig
    let jitterMs: ClosedRange<Int>
    /// Where `/metrics` counts requests, answers and dead letters (nil: not counted).
    let metrics: AgentMetrics?
    /// Requests in flight now (set by the delivery thread, read by `/metrics`).
    let inFlight = Atomic<Int>(0)
    /// Requests allowed in flight now: `max_in_flight`, less after 429s (`AdaptiveConcurrency`).
    let inFlightLimit = Atomic<Int>(0)
    /// Events waiting in the submit queue (added by `submit`, taken by the batching thread).
    let queuedEvents = Atomic<Int>(0)

    init(
        logger: Logger, acknowledgements: any AcknowledgementSink,
        dedupeCapacity: Int, deadLetters: DeadLetterWriter, retry: RetryConfig, jitterMs: ClosedRange<Int>,
        metrics: AgentMetrics? = nil
    ) {
        self.metrics = metrics
        self.logger = logger
        self.acknowledgements = acknowledgements
        dedupe = Mutex(DedupeWindow(capacity: dedupeCapacity))
        self.deadLetters = deadLetters
        self.retry = retry
        self.jitterMs = jitterMs
    }

    func makeBackoff() -> Backoff {
        Backoff(retry, jitterMs: jitterMs)
    }

    /// Acknowledges items as accepted and remembers them for the dedupe window.
    func accept(_ items: ArraySlice<ShipItem>) {
        guard !items.isEmpty else { return }
        dedupe.withLock { window in
            for item in items { window.insert(item.key) }
        }
        acknowledgements.acknowledge(items.map(\.ack), result: .accepted)
    }

    /// Writes dead letters (retrying with backoff until durable), then acknowledges them.
    /// Returns false, acknowledging nothing, if shipping was abandoned first. Each letter's
    /// line is read again from its file (the shipper keeps no lines; see `LineRecall`).
    func deadLetter(_ pending: [DeadLetter], items: [ShipItem]) -> Bool {
        guard !pending.isEmpty else { return true }
        let letters = pending.map { letter in
            var letter = letter
            if letter.rawLine == nil { letter.rawLine = LineRecall.line(at: letter.origin) }
            return letter
        }
        var backoff = makeBackoff()
        while true {
            do {
                try deadLetters.write(letters)
                metrics?.addDeadLettered(letters)
                break
            } catch {
                let delay = backoff.nextDelayMs()
                logger.error(
                    .shipDeadLetterWriteFailed, "retrying",
                    metadata: [
                        "error": "\(error)", "deadletter.path": "\(deadLetters.path)", "retry.delay_ms": "\(delay)",
                    ])
                if !sleepBeating(ms: delay) { return false }
            }
        }
        for letter in letters {
            logger.warning(
                .shipEventDeadLettered,
                metadata: [
                    "deadletter.reason": "\(letter.reason.rawValue)", "deadletter.field": "\(letter.field)",
                    "deadletter.message": "\(letter.message)", "file.path": "\(letter.origin.path)",
                    "file.offset": "\(letter.origin.offset)",
                ])
        }
        acknowledgements.acknowledge(items.map(\.ack), result: .deadLettered)
        return true
    }

    /// `stop.sleep` in slices of at most a second, beating the delivery heartbeat between them.
    private func sleepBeating(ms: Int) -> Bool {
        var left = ms
        while left > 0 {
            let slice = min(left, 1000)
            if !stop.sleep(ms: slice) { return false }
            deliveryHeartbeat.beat()
            left -= slice
        }
        return true
    }

}
