/// The lifecycle of one batch on its way to the API: a value-type state machine with no
/// I/O and no clock. `DeliveryLoop` owns one per batch and performs the `Action`s it returns
/// (start a transfer, arm a retry timer, acknowledge, dead-letter, replace the batch).
///
/// | outcome | action |
/// |---|---|
/// | accepted | `.accept` |
/// | partial (strict 400) | `.partial`: dead-letter the failed records (by index), ack the rest |
/// | tooLarge (413) | `.split` in halves; a single event → `.deadLetter` (`too_large`) |
/// | retryable (429/5xx/network) | `.retryLater` with `Backoff` (Retry-After honoured), then the same bytes |
/// | unauthorized (401/403, `/track` token error) | `.retryLater` at the longest backoff, `unauthorized: true` |
/// | rejected (whole batch) | `.deadLetter` every event with the reason |
/// | unconfirmed (a 2xx that does not state the import of every event) | `.retryLater`; at the third, `.deadLetter` (`unconfirmed`) |
///
/// A retry resends the payload byte for byte (same `time` and `$insert_id`, so the API
/// deduplicates whatever an earlier attempt may have landed).
struct BatchDelivery: Sendable {
    /// What the delivery loop must do next for this batch.
    enum Action: Sendable {
        /// Start a transfer of this request; report its result to `complete`.
        case send(HTTPRequest)
        /// Call `retry(with:)` after `delayMs`; `reason` and `attempt` are for the log line.
        case retryLater(delayMs: Int, reason: String, attempt: Int, unauthorized: Bool)
        /// Finished: every event was accepted.
        case accept(attempts: Int)
        /// Finished (strict 400): ack `accepted`, dead-letter `letters` (one per `failed` item).
        /// `unmatched` are failed records that name no event of the batch (logged only).
        case partial(accepted: [ShipItem], letters: [DeadLetter], failed: [ShipItem], unmatched: [FailedRecord])
        /// Finished: every event of `items` is refused for good.
        case deadLetter([DeadLetter], items: [ShipItem])
        /// Finished (413): deliver these two halves, in this order, instead.
        case split(Batch<ShipItem>, Batch<ShipItem>)
    }

    private enum State {
        case idle
        case sending(attempt: Int)
        case waiting(attempt: Int, unauthorized: Bool)
        case finished
    }

    /// The batch; while its compressed payload is in flight, without its body (see `start`).
    private(set) var batch: Batch<ShipItem>
    private var state = State.idle
    private var backoff: Backoff
    /// The body exactly as sent (gzip-compressed when the target asks for it), kept for retries.
    private var payload: [UInt8] = []
    private var target: IngestionTarget?
    /// 2xx answers so far that did not add up (see `IngestionOutcome.unconfirmed`).
    private var unconfirmedAnswers = 0
    static let unconfirmedLimit = 3

    init(batch: Batch<ShipItem>, backoff: Backoff) {
        self.batch = batch
        self.backoff = backoff
    }

    /// First attempt: `payload` is the body as it goes on the wire, built once.
    mutating func start(payload: [UInt8], target: IngestionTarget) -> Action {
        guard case .idle = state else { preconditionFailure("start(payload:target:) on a started batch") }
        self.payload = payload
        self.target = target
        // The compressed payload is all a retry needs: the body it came from (about five times
        // its size) is set aside until an answer needs the events' JSON (`bodyRestored`).
        if target.gzip { batch.setBodyAside() }
        state = .sending(attempt: 1)
        return .send(target.request(body: payload))
    }

    /// The transfer ended with `result`; `wallMs` stamps any dead letters.
    mutating func complete(_ result: Result<HTTPResponse, TransportError>, wallMs: Int64) -> Action {
        guard case .sending(let attempt) = state, let target else {
            preconditionFailure("complete(_:wallMs:) without a transfer in progress")
        }
        let outcome: IngestionOutcome
        switch result {
        case .success(let response):
            outcome = IngestionResponse.classify(response, endpoint: target.endpoint, sent: batch.items.count)
        case .failure(let error): outcome = IngestionResponse.classify(error)
        }
        if needsEvents(outcome) && !bodyRestored() { return lostBody() }
        switch outcome {
        case .accepted:
            state = .finished
            return .accept(attempts: attempt)
        case .partial(let failed):
            state = .finished
            return partial(failed, wallMs: wallMs)
        case .tooLarge:
            state = .finished
            if let (first, second) = batch.split() { return .split(first, second) }
            let letter = letter(
                0, reason: .tooLarge, field: "",
                message: "HTTP 413: the event alone exceeds the API's request size limit", wallMs: wallMs)
            return .deadLetter([letter], items: batch.items)
        case .rejected(let reason):
            state = .finished
            let letters = batch.items.indices.map {
                letter($0, reason: .apiRejected, field: "", message: reason, wallMs: wallMs)
            }
            return .deadLetter(letters, items: batch.items)
        case .unconfirmed(let reason):
            unconfirmedAnswers += 1
            if unconfirmedAnswers >= Self.unconfirmedLimit {
                // Never acknowledged on an answer that cannot be verified: dead-lettered with it,
                // so an operator can see what happened and replay the events.
                state = .finished
                let letters = batch.items.indices.map {
                    letter(
                        $0, reason: .unconfirmed, field: "",
                        message: "\(Self.unconfirmedLimit) answers did not confirm the import; the last: \(reason)",
                        wallMs: wallMs)
                }
                return .deadLetter(letters, items: batch.items)
            }
            state = .waiting(attempt: attempt, unauthorized: false)
            return .retryLater(
                delayMs: backoff.nextDelayMs(retryAfterSeconds: nil), reason: reason, attempt: attempt,
                unauthorized: false)
        case .retryable(let reason, let retryAfter):
            state = .waiting(attempt: attempt, unauthorized: false)
            return .retryLater(
                delayMs: backoff.nextDelayMs(retryAfterSeconds: retryAfter), reason: reason,
                attempt: attempt, unauthorized: false)
        case .unauthorized(let reason):
            state = .waiting(attempt: attempt, unauthorized: true)
            return .retryLater(delayMs: backoff.maximumDelayMs(), reason: reason, attempt: attempt, unauthorized: true)
        }
    }

    /// Waiting for a retry because the credentials were refused.
    var waitsOnCredentials: Bool {
        if case .waiting(_, let unauthorized) = state { return unauthorized }
        return false
    }

    /// New credentials (a reload that changed only them): the next attempt carries them.
    mutating func retarget(credentialsOf new: IngestionTarget) {
        target?.takeCredentials(of: new)
    }

    /// The retry time has come: the same bytes, to the same target.
    mutating func retry() -> Action {
        guard case .waiting(let attempt, _) = state, let target else {
            preconditionFailure("retry() on a batch that is not waiting")
        }
        state = .sending(attempt: attempt + 1)
        return .send(target.request(body: payload))
    }

    /// Whether acting on `outcome` reads the events' JSON (halves, dead letters, insert ids).
    private func needsEvents(_ outcome: IngestionOutcome) -> Bool {
        switch outcome {
        case .partial, .tooLarge, .rejected: true
        case .unconfirmed: unconfirmedAnswers + 1 >= Self.unconfirmedLimit
        case .accepted, .retryable, .unauthorized: false
        }
    }

    /// Gives the batch its body back from the compressed payload, if it was set aside.
    private mutating func bodyRestored() -> Bool {
        if batch.holdsBody { return true }
        guard let body = GzipCompressor.inflate(payload, size: batch.bodyBytes) else { return false }
        batch.restoreBody(body)
        return true
    }

    /// The payload did not inflate to the body it was made from (only memory corruption or
    /// exhaustion can do that): the answer is not acted on event by event, and the batch is
    /// sent again, byte for byte, as for a transient failure.
    private mutating func lostBody() -> Action {
        guard case .sending(let attempt) = state else { preconditionFailure("lostBody outside a transfer") }
        state = .waiting(attempt: attempt, unauthorized: false)
        return .retryLater(
            delayMs: backoff.nextDelayMs(retryAfterSeconds: nil),
            reason: "the request body set aside could not be restored to act on the answer", attempt: attempt,
            unauthorized: false)
    }

    /// Strict 400: dead-letter exactly the failed records, ack everything else.
    private func partial(_ failed: [FailedRecord], wallMs: Int64) -> Action {
        var failedAt: [Int: FailedRecord] = [:]
        var unmatched: [FailedRecord] = []
        for record in failed {
            if let index = matchIndex(record) { failedAt[index] = record } else { unmatched.append(record) }
        }
        let accepted = batch.items.indices.filter { failedAt[$0] == nil }.map { batch.items[$0] }
        let order = failedAt.keys.sorted()
        let letters = order.map { i in
            letter(i, reason: .apiRejected, field: failedAt[i]!.field, message: failedAt[i]!.message, wallMs: wallMs)
        }
        return .partial(
            accepted: accepted, letters: letters, failed: order.map { batch.items[$0] }, unmatched: unmatched)
    }

    /// By `index` (what the API documents); if the echoed insert id disagrees with that
    /// position, by insert id instead.
    private func matchIndex(_ record: FailedRecord) -> Int? {
        let inRange = batch.items.indices.contains(record.index)
        guard let insertId = record.insertId, !insertId.isEmpty else { return inRange ? record.index : nil }
        if inRange && batch.insertId(at: record.index) == insertId { return record.index }
        if let i = batch.items.indices.first(where: { batch.insertId(at: $0) == insertId }) { return i }
        return inRange ? record.index : nil
    }

    private func letter(
        _ i: Int, reason: DeadLetter.Reason, field: String, message: String,
        wallMs: Int64
    ) -> DeadLetter {
        DeadLetter(
            reason: reason, field: field, message: message, origin: batch.items[i].origin, rawLine: nil,
            eventJSON: Array(batch.json(at: i)), timeMs: wallMs)
    }
}
