import Logging
import Synchronization

/// Delivers batches to Mixpanel from ONE shipper thread, with up to `maxInFlight` requests
/// in flight at once over a `MultiTransport` (libcurl multi in production).
///
/// Each batch's lifecycle is a `BatchDelivery`; this loop performs its actions: start a
/// transfer, arm a retry timer, acknowledge, dead-letter, or replace the batch by its 413
/// halves. A batch waiting for its retry time holds its slot (its
/// memory) but blocks nothing: the other batches keep going.
///
/// The loop owns at most `maxInFlight` batches (plus the extra half of a 413 split) and
/// takes the next closed batch only when one is finished, so memory stays bounded and a
/// long outage turns into backpressure on the batching thread.
///
/// 401/403 (and `/track` token errors) pause ALL shipping: no new batch is started while
/// paused, and the refused batches retry at the longest backoff, one log line per attempt.
/// Shipping resumes when a request gets through (any answer but a credentials refusal or
/// a transient failure). New credentials come with a reload (SIGHUP): `retarget` hands them
/// to this loop, and the refused batches are retried with them at once.
///
/// Two things pace the requests (docs/delivery.md, "Rate budget"): `max_events_per_second`
/// (`RateBudget`: a request waits, in its slot, until the bucket holds its events; the
/// batches behind it wait in the queues, so reading pauses, never a thread of the pool), and
/// `AdaptiveConcurrency`, which halves the requests allowed in flight on a 429 and grows them
/// back after answers that are not.
final class DeliveryLoop: @unchecked Sendable {
    // @unchecked: `run()` is the only user of the mutable state, on the one delivery thread;
    // other threads only call `wakeup()`, which goes to the Sendable transport.
    private let transport: any MultiTransport
    private let batches: BlockingQueue<Batch<ShipItem>>
    private let context: ShipperContext
    private let maxInFlight: Int
    /// For batches that come uncompressed (413 halves, or a batch the compression thread could
    /// not compress): made at the first one.
    private var compressor: GzipCompressor?
    private let gzipLevel: Int?
    private var target: IngestionTarget
    /// New credentials from a reload, taken by the delivery thread on its next turn.
    private let newTarget = Mutex<IngestionTarget?>(nil)
    /// How many times new credentials were taken: a refusal of an attempt made with older ones
    /// says nothing about the new ones.
    private var credentials = 0
    /// Unmatched failed records logged per answer (each line also gives the total).
    static let unmatchedLogged = 5

    private struct Slot {
        var delivery: BatchDelivery
        /// When a waiting batch may retry (monotonic).
        var retryAt: ContinuousClock.Instant?
        /// Stopping: its retry was moved up to now, once (see `run()`).
        var hurried = false
        /// The credentials its last attempt carried (`credentials`, counted by `retarget`).
        var credentials = 0
        /// Its current attempt's ticket from `concurrency`.
        var ticket = 0
    }

    /// Requests allowed in flight now (at most `maxInFlight`).
    private var concurrency: AdaptiveConcurrency
    /// `max_events_per_second` (nil: unlimited).
    private var budget: RateBudget?
    /// When the budget will hold the events of the request it last held back.
    private var budgetReadyAt: ContinuousClock.Instant?

    private var slots: [Int: Slot] = [:]
    /// Batches not yet started, in order (413 halves go to the front).
    private var fresh: [Int] = []
    private var inFlight = 0
    /// Beats every turn: at least every second (the poll's longest wait).
    var heartbeat: Heartbeat { context.deliveryHeartbeat }
    private var nextId = 0
    private var paused = false
    /// Events of the failing batches given up when the shipper stopped (see `run()`).
    let gaveUp = Atomic<Int>(0)
    /// Set by `Shipper.stop`. The batch queue may never close meanwhile: during an outage the
    /// batching thread waits to hand over a batch that no free slot will take.
    private let stopRequested = Atomic<Bool>(false)

    init(
        transport: any MultiTransport, batches: BlockingQueue<Batch<ShipItem>>, context: ShipperContext,
        maxInFlight: Int, gzipLevel: Int?, target: IngestionTarget, budget: RateBudget? = nil
    ) {
        self.transport = transport
        self.batches = batches
        self.context = context
        self.maxInFlight = max(1, maxInFlight)
        self.target = target
        self.budget = budget
        concurrency = AdaptiveConcurrency(maximum: maxInFlight)
        context.inFlightLimit.store(concurrency.limit, ordering: .relaxed)
        self.gzipLevel = gzipLevel
    }

    /// Wakes the loop: a batch was queued, the queue closed, or stop.
    func wakeup() {
        transport.wakeup()
    }

    /// New credentials (`Shipper.update(credentials:)`): fresh batches and every retry use them,
    /// and batches waiting for a retry (those the old credentials got refused) go at once.
    func retarget(_ target: IngestionTarget) {
        newTarget.withLock { $0 = target }
        wakeup()
    }

    /// The shipper is stopping: batches that only fail are given up rather than waited for.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        wakeup()
    }

    /// The delivery thread: runs until the batch queue is closed and everything in it is
    /// delivered or dead-lettered, or until the shipper abandons (then nothing unfinished
    /// is acknowledged and the transfers in progress are dropped).
    func run() {
        var inputClosed = false
        while true {
            heartbeat.beat()
            if context.stop.isAbandoned { return abandon() }
            takeNewTarget()
            while !inputClosed && slots.count < maxInFlight {
                guard let taken = batches.take(max: 1, until: .now) else {
                    inputClosed = true
                    break
                }
                guard let batch = taken.first else { break }
                add(batch, first: false)
            }
            if inputClosed && slots.isEmpty { return }
            // With every slot taken nothing was taken above; the queue may be finished all the same.
            if !inputClosed && batches.isFinished { inputClosed = true }
            let stopping = inputClosed || stopRequested.load(ordering: .acquiring)
            if stopping && inFlight == 0 && budgetReadyAt != nil {
                // Stopping, and the rate budget holds back what is left: given up rather than sent
                // at the budget's pace through the grace, which would only hold up the stop or a
                // reload. Its events stay unacknowledged: read again, same `$insert_id`s, next run.
                return giveUp()
            }
            if stopping && inFlight == 0 && (fresh.isEmpty || paused) && !slots.isEmpty {
                // Stopping, and every batch left failed and waits for a retry (or, paused on refused
                // credentials, waits behind one that does). Each gets one more attempt now (a
                // passing failure then costs nothing); one that fails again (an outage, bad
                // credentials) is given up rather than waiting out the grace, which would only hold
                // up the stop or a reload. Its events stay unacknowledged: read again, with the same
                // `$insert_id`s, next run.
                let now = ContinuousClock.now
                var hurried = false
                for (id, slot) in slots where !slot.hurried && slot.retryAt != nil {
                    slots[id]?.hurried = true
                    slots[id]?.retryAt = now
                    hurried = true
                }
                if !hurried { return giveUp() }
            }
            startDue()
            let completions = transport.poll(timeoutMs: pollTimeoutMs())
            for completion in completions {
                if context.stop.isAbandoned { return abandon() }
                inFlight -= 1
                context.inFlight.store(inFlight, ordering: .relaxed)
                if let metrics = context.metrics {
                    switch completion.result {
                    case .success(let response): metrics.addResponse(status: response.status)
                    case .failure: metrics.addResponse(status: nil)
                    }
                }
                guard var slot = slots[completion.tag] else { continue }
                adapt(to: completion.result, ticket: slot.ticket)
                let action = slot.delivery.complete(completion.result, wallMs: WallClock.nowMs())
                slots[completion.tag] = slot
                if !perform(action, id: completion.tag) { return abandon() }
            }
        }
    }

    private func takeNewTarget() {
        guard let new = newTarget.withLock({ $0.take() }) else { return }
        target = new
        credentials += 1
        let now = ContinuousClock.now
        for id in slots.keys {
            slots[id]?.delivery.retarget(credentialsOf: new)
            // Only what the old credentials got refused goes at once; a 429's or 5xx's wait stands.
            if slots[id]?.delivery.waitsOnCredentials == true { slots[id]?.retryAt = now }
        }
    }

    /// Gives up every batch held (counted in `gaveUp`) and what still waits behind them (never
    /// acknowledged either, which also releases a batching thread waiting to hand one over).
    private func giveUp() {
        gaveUp.store(slots.values.reduce(0) { $0 + $1.delivery.batch.items.count }, ordering: .releasing)
        batches.closeAndDiscard()
        abandon()
    }

    private func abandon() {
        transport.cancelAll()
        slots.removeAll()
        fresh.removeAll()
        inFlight = 0
        context.inFlight.store(0, ordering: .relaxed)
    }

    private func add(_ batch: Batch<ShipItem>, first: Bool) {
        let id = nextId
        nextId += 1
        slots[id] = Slot(delivery: BatchDelivery(batch: batch, backoff: context.makeBackoff()))
        if first { fresh.insert(id, at: 0) } else { fresh.append(id) }
    }

    /// Starts due retries first (oldest timers first), then fresh batches unless paused, while
    /// the in-flight limit and the rate budget let them.
    private func startDue() {
        let now = ContinuousClock.now
        budgetReadyAt = nil
        let due = slots.filter { $0.value.retryAt.map { $0 <= now } ?? false }
            .sorted { $0.value.retryAt! < $1.value.retryAt! }.map(\.key)
        for id in due where inFlight < concurrency.limit {
            guard var slot = slots[id] else { continue }
            guard admitted(slot.delivery.batch.count, now: now) else { return }
            slot.retryAt = nil
            slot.credentials = credentials
            let action = slot.delivery.retry()
            slots[id] = slot
            context.metrics?.addRequest(events: slot.delivery.batch.count, retry: true)
            _ = perform(action, id: id)
        }
        while !paused, inFlight < concurrency.limit, let id = fresh.first {
            guard var slot = slots[id] else {
                fresh.removeFirst()
                continue
            }
            guard admitted(slot.delivery.batch.count, now: now) else { return }
            fresh.removeFirst()
            slot.credentials = credentials
            let (body, sendTo) = prepared(slot.delivery.batch, target: target)
            let action = slot.delivery.start(payload: body, target: sendTo)
            slots[id] = slot
            context.metrics?.addRequest(events: slot.delivery.batch.count, retry: false)
            _ = perform(action, id: id)
        }
    }

    /// Whether the rate budget lets a request of `events` go now (taking them if so); if not,
    /// `budgetReadyAt` says when it will.
    private func admitted(_ events: Int, now: ContinuousClock.Instant) -> Bool {
        guard let wait = budget?.take(events, now: now) else { return true }
        budgetReadyAt = now + wait
        return false
    }

    /// Halves the in-flight limit on a 429, grows it after answers that are not (see
    /// `AdaptiveConcurrency`); 5xx and failed transfers change nothing.
    private func adapt(to result: Result<HTTPResponse, TransportError>, ticket: Int) {
        guard case .success(let response) = result, response.status < 500 else { return }
        let previous = concurrency.limit
        let changed =
            response.status == 429
            ? concurrency.rateLimited(ticket: ticket) : concurrency.succeeded(ticket: ticket)
        guard let limit = changed else { return }
        context.inFlightLimit.store(limit, ordering: .relaxed)
        context.logger.info(
            .shipConcurrencyChanged, limit < previous ? "429: fewer requests in flight" : "growing back",
            metadata: [
                "in_flight.limit": "\(limit)", "in_flight.previous": "\(previous)", "max_in_flight": "\(maxInFlight)",
            ])
    }

    /// Until the next request can start, at most one second (a stop is also signalled by
    /// `wakeup`, and an answer ends the poll by itself): none can while the in-flight limit is
    /// reached; one the rate budget held back can at `budgetReadyAt`, and nothing before it;
    /// otherwise at the next retry timer.
    private func pollTimeoutMs() -> Int {
        guard inFlight < concurrency.limit,
            let at = budgetReadyAt ?? slots.values.compactMap(\.retryAt).min()
        else { return 1000 }
        let ms = Int((at - ContinuousClock.now).wholeMilliseconds) + 1
        return min(1000, max(0, ms))
    }

    /// The body as sent, compressed once per batch when gzip is on (the compression thread has
    /// compressed all but 413 halves), and the target to send it to.
    private func prepared(_ batch: Batch<ShipItem>, target: IngestionTarget) -> ([UInt8], IngestionTarget) {
        guard target.gzip, let level = gzipLevel else { return (batch.body(), target) }
        if let gzipped = batch.gzipped { return (gzipped, target) }
        let body = batch.body()
        do throws(GzipError) {
            if compressor == nil { compressor = try GzipCompressor(level: level) }
            return (try compressor!.compress(body), target)
        } catch {
            // Cannot happen short of memory exhaustion; sending uncompressed is still correct
            // only without the header, so drop it for this batch.
            context.logger.error(.shipGzipFailed, "sending uncompressed", metadata: ["error": "\(error)"])
            var plain = target
            plain.gzip = false
            plain.headers.removeAll { $0.hasPrefix("Content-Encoding:") }
            return (body, plain)
        }
    }

    /// Performs one action for slot `id`; false if shipping was abandoned meanwhile.
    private func perform(_ action: BatchDelivery.Action, id: Int) -> Bool {
        guard let slot = slots[id] else { return true }
        let batch = slot.delivery.batch
        switch action {
        case .send(let request):
            slots[id]?.ticket = concurrency.started()
            inFlight += 1
            context.inFlight.store(inFlight, ordering: .relaxed)
            transport.start(request, tag: id)
        case .retryLater(let delay, let reason, let attempt, let unauthorized):
            if unauthorized, let sentWith = slots[id]?.credentials, sentWith < credentials {
                // Refused with credentials a reload has replaced since: retried with the new ones
                // now, and shipping is not paused for it.
                slots[id]?.retryAt = ContinuousClock.now
                return true
            }
            context.health.failed(reason: reason, credentialsRefused: unauthorized, nowMs: WallClock.nowMs())
            if unauthorized {
                paused = true
                context.logger.error(
                    .shipCredentialsRefused,
                    """
                    Mixpanel refused the credentials; shipping is paused and retries at the longest backoff \
                    until they are fixed (reload with SIGHUP)
                    """,
                    metadata: ["reason": "\(reason)", "retry.attempt": "\(attempt)", "retry.delay_ms": "\(delay)"])
            } else {
                context.logger.warning(
                    .shipDeliveryFailed, "retrying",
                    metadata: [
                        "reason": "\(reason)", "batch.events": "\(batch.count)", "retry.attempt": "\(attempt)",
                        "retry.delay_ms": "\(delay)",
                    ])
            }
            slots[id]?.retryAt = ContinuousClock.now + .milliseconds(delay)
        case .accept(let attempts):
            paused = false
            context.health.delivered()
            slots[id] = nil
            context.metrics?.addAccepted(events: batch.count)
            context.logger.debug(
                .shipBatchAccepted,
                metadata: [
                    "batch.events": "\(batch.count)", "batch.bytes": "\(batch.bodyBytes)",
                    "retry.attempt": "\(attempts)",
                ])
            context.accept(batch.items[...])
        case .partial(let accepted, let letters, let failed, let unmatched):
            paused = false
            context.health.delivered()
            slots[id] = nil
            // A few are enough to diagnose; an answer listing thousands must not flood the log.
            for record in unmatched.prefix(Self.unmatchedLogged) {
                context.logger.warning(
                    .shipFailedRecordUnmatched, "a failed record matches no event of the batch",
                    metadata: [
                        "record.index": "\(record.index)", "record.insert_id": "\(record.insertId ?? "")",
                        "records.unmatched": "\(unmatched.count)",
                    ])
            }
            context.metrics?.addAccepted(events: accepted.count)
            context.logger.info(
                .shipBatchPartlyAccepted, "strict 400",
                metadata: [
                    "batch.events": "\(batch.count)", "batch.failed": "\(failed.count)",
                ])
            context.accept(accepted[...])
            return context.deadLetter(letters, items: failed)
        case .deadLetter(let letters, let items):
            paused = false
            context.health.delivered()
            slots[id] = nil
            return context.deadLetter(letters, items: items)
        case .split(let first, let second):
            paused = false
            context.health.delivered()
            slots[id] = nil
            context.logger.info(
                .shipBatchSplit, "413: request too large, sending it in halves",
                metadata: [
                    "batch.events": "\(batch.count)", "batch.bytes": "\(batch.bodyBytes)",
                ])
            add(second, first: true)
            add(first, first: true)
        }
        return true
    }
}
