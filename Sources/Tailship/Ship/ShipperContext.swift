import Foundation
import Logging
import Synchronization

/// What the shipper's threads share: the completion callback, the dedupe window, the dead
/// letter file, the stop signal and the retry policy.
final class ShipperContext: Sendable {
    let logger: Logger
    let onComplete: @Sendable ([AckHandle], DeliveryResult) -> Void
    let dedupe: Mutex<DedupeWindow>
    let stop = StopSignal()
    let deadLetters: DeadLetterWriter
    let retry: RetryConfig
    let jitterMs: ClosedRange<Int>

    init(
        logger: Logger, onComplete: @escaping @Sendable ([AckHandle], DeliveryResult) -> Void,
        dedupeCapacity: Int, deadLetters: DeadLetterWriter, retry: RetryConfig, jitterMs: ClosedRange<Int>
    ) {
        self.logger = logger
        self.onComplete = onComplete
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
        onComplete(items.map(\.ack), .accepted)
    }

    /// Writes dead letters (retrying with backoff until durable), then acknowledges them.
    /// Returns false, acknowledging nothing, if shipping was abandoned first.
    func deadLetter(_ letters: [DeadLetter], items: [ShipItem]) -> Bool {
        guard !letters.isEmpty else { return true }
        var backoff = makeBackoff()
        while true {
            do {
                try deadLetters.write(letters)
                break
            } catch {
                let delay = backoff.nextDelayMs()
                logger.error(
                    .shipDeadLetterWriteFailed, "retrying",
                    metadata: [
                        "error": "\(error)", "deadletter.path": "\(deadLetters.path)", "retry.delay_ms": "\(delay)",
                    ])
                if !stop.sleep(ms: delay) { return false }
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
        onComplete(items.map(\.ack), .deadLettered)
        return true
    }

    static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
