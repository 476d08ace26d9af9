import Logging

/// Delivers batches to Mixpanel over one `HTTPTransport`, on one shipper thread: gzip, POST,
/// and act on the outcome until every event of the batch is accepted or dead-lettered, or
/// the shipper abandons it at its stop deadline (then nothing is acknowledged).
///
/// | outcome | action |
/// |---|---|
/// | accepted | ack all |
/// | partial (strict 400) | dead-letter the failed records by index, ack the rest |
/// | tooLarge (413) | split in half, send each half; a single event is dead-lettered |
/// | retryable (429/5xx/network) | resend the same bytes after `Backoff` (forever) |
/// | unauthorized (401/403, `/track` token error) | log an error, wait the longest backoff, resend (forever); a reloaded `/track` token re-encodes the batch |
/// | rejected (whole batch) | dead-letter all with the reason |
final class DeliveryWorker: @unchecked Sendable {
    // @unchecked: used by exactly one shipper thread; `abort()` goes to the Sendable transport.
    let transport: any HTTPTransport
    private let context: ShipperContext
    private let targetSource: @Sendable () -> IngestionTarget
    private let compressor: GzipCompressor?
    private var compressed: [UInt8] = []
    private let name: String

    init(name: String, transport: any HTTPTransport, context: ShipperContext, gzipLevel: Int?,
         target: @escaping @Sendable () -> IngestionTarget) throws {
        self.name = name
        self.transport = transport
        self.context = context
        self.targetSource = target
        compressor = try gzipLevel.map { level throws(GzipError) in try GzipCompressor(level: level) }
    }

    /// Delivers one batch; returns false if it was abandoned (nothing acknowledged for the
    /// unfinished part).
    @discardableResult
    func deliver(_ batch: Batch<ShipItem>) -> Bool {
        // 413 splits push halves here; the last element is sent next, so halves go in order.
        var pending = [batch]
        while let next = pending.popLast() {
            switch send(next) {
            case .done: continue
            case .abandoned: return false
            case .split(let first, let second): pending.append(contentsOf: [second, first])
            case .resend(let reencoded): pending.append(reencoded)
            }
        }
        return true
    }

    private enum Step {
        case done, abandoned
        case split(Batch<ShipItem>, Batch<ShipItem>)
        /// The same events encoded again (a reloaded `/track` token).
        case resend(Batch<ShipItem>)
    }

    private func send(_ batch: Batch<ShipItem>) -> Step {
        let target = targetSource()
        let body = batch.body()
        var payload = body
        if target.gzip, let compressor {
            do {
                try compressor.compress(body, into: &compressed)
                payload = compressed
            } catch {
                // Cannot happen short of memory exhaustion; sending uncompressed is still correct
                // only without the header, so rebuild the target without gzip.
                context.logger.error("gzip failed; sending uncompressed", metadata: ["error": "\(error)"])
                return sendBytes(batch, body: body, target: Self.withoutGzip(target))
            }
        }
        return sendBytes(batch, body: payload, target: target)
    }

    private static func withoutGzip(_ target: IngestionTarget) -> IngestionTarget {
        var t = target
        t.gzip = false
        t.headers.removeAll { $0.hasPrefix("Content-Encoding:") }
        return t
    }

    /// Sends the same `body` until the outcome is final.
    private func sendBytes(_ batch: Batch<ShipItem>, body: [UInt8], target initial: IngestionTarget) -> Step {
        var backoff = context.makeBackoff()
        var target = initial
        var attempt = 0
        while true {
            if context.stop.isAbandoned { return .abandoned }
            attempt += 1
            let outcome: IngestionOutcome
            switch transport.post(target.request(body: body)) {
            case .success(let response): outcome = IngestionResponse.classify(response, endpoint: target.endpoint)
            case .failure(let error):
                if error.kind == .aborted && context.stop.isAbandoned { return .abandoned }
                outcome = IngestionResponse.classify(error)
            }
            let delay: Int
            switch outcome {
            case .accepted:
                logAccepted(batch, attempt: attempt)
                context.accept(batch.items[...])
                return .done
            case .partial(let failed):
                return finishPartial(batch, failed: failed) ? .done : .abandoned
            case .tooLarge:
                if let (first, second) = batch.split() {
                    context.logger.info("batch too large (413); splitting", metadata: [
                        "batch.events": "\(batch.count)", "batch.bytes": "\(batch.bodyBytes)",
                    ])
                    return .split(first, second)
                }
                let letter = makeLetter(batch, 0, reason: .tooLarge, field: "",
                                        message: "HTTP 413: the event alone exceeds the API's request size limit")
                return context.deadLetter([letter], items: batch.items) ? .done : .abandoned
            case .rejected(let reason):
                let letters = batch.items.indices.map {
                    makeLetter(batch, $0, reason: .apiRejected, field: "", message: reason)
                }
                return context.deadLetter(letters, items: batch.items) ? .done : .abandoned
            case .retryable(let reason, let retryAfter):
                delay = backoff.nextDelayMs(retryAfterSeconds: retryAfter)
                context.logger.warning("delivery failed; retrying", metadata: [
                    "worker": "\(name)", "reason": "\(reason)", "batch.events": "\(batch.count)",
                    "retry.attempt": "\(attempt)", "retry.delay_ms": "\(delay)",
                ])
            case .unauthorized(let reason):
                delay = backoff.maximumDelayMs()
                context.logger.error(
                    """
                    Mixpanel refused the credentials; shipping is paused and retries at the longest backoff \
                    until they are fixed (reload with SIGHUP)
                    """,
                    metadata: ["reason": "\(reason)", "retry.attempt": "\(attempt)", "retry.delay_ms": "\(delay)"])
            }
            if !context.stop.sleep(ms: delay) { return .abandoned }
            // Credentials may have been replaced by a reload; the body stays byte-identical,
            // except that /track events carry the token, so they are re-encoded with a new one
            // (the same time and $insert_id: still one event to the API's dedup).
            let fresh = targetSource()
            if target.endpoint == .track, fresh.token != target.token {
                context.logger.info("track token changed by a reload; re-encoding the batch",
                                    metadata: ["batch.events": "\(batch.count)"])
                let encoder = EventEncoder(token: fresh.token)
                return .resend(Batch(items: batch.items, encoded: batch.items.map { encoder.encode($0.pending.event) }))
            }
            target.basicAuth = fresh.basicAuth
            target.url = fresh.url
        }
    }

    /// Strict 400: dead-letter exactly the failed records, ack everything else.
    private func finishPartial(_ batch: Batch<ShipItem>, failed: [FailedRecord]) -> Bool {
        var failedAt: [Int: FailedRecord] = [:]
        for record in failed {
            guard let index = matchIndex(record, in: batch) else {
                context.logger.warning("failed record matches no event of the batch", metadata: [
                    "record.index": "\(record.index)", "record.insert_id": "\(record.insertId ?? "")",
                ])
                continue
            }
            failedAt[index] = record
        }
        let accepted = batch.items.indices.filter { failedAt[$0] == nil }.map { batch.items[$0] }
        context.logger.info("batch partly accepted (strict 400)", metadata: [
            "batch.events": "\(batch.count)", "batch.failed": "\(failedAt.count)",
        ])
        context.accept(accepted[...])
        let order = failedAt.keys.sorted()
        let letters = order.map { i in
            makeLetter(batch, i, reason: .apiRejected, field: failedAt[i]!.field, message: failedAt[i]!.message)
        }
        return context.deadLetter(letters, items: order.map { batch.items[$0] })
    }

    /// By `index` (what the API documents); if the echoed insert id disagrees with that
    /// position, by insert id instead.
    private func matchIndex(_ record: FailedRecord, in batch: Batch<ShipItem>) -> Int? {
        let inRange = batch.items.indices.contains(record.index)
        guard let insertId = record.insertId, !insertId.isEmpty else { return inRange ? record.index : nil }
        if inRange && batch.items[record.index].pending.event.insertId == insertId { return record.index }
        if let i = batch.items.firstIndex(where: { $0.pending.event.insertId == insertId }) { return i }
        return inRange ? record.index : nil
    }

    private func makeLetter(_ batch: Batch<ShipItem>, _ i: Int, reason: DeadLetter.Reason, field: String,
                            message: String) -> DeadLetter {
        let pending = batch.items[i].pending
        return DeadLetter(reason: reason, field: field, message: message, origin: pending.origin,
                          rawLine: pending.rawLine, eventJSON: batch.encoded[i], timeMs: ShipperContext.nowMs())
    }

    private func logAccepted(_ batch: Batch<ShipItem>, attempt: Int) {
        context.logger.debug("batch accepted", metadata: [
            "worker": "\(name)", "batch.events": "\(batch.count)", "batch.bytes": "\(batch.bodyBytes)",
            "retry.attempt": "\(attempt)",
        ])
    }
}
