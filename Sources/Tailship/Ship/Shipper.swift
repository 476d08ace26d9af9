import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Ships events, encoded by the rule stage (`EncodedEvents`) or as `PendingEvent`s, to the configured destination and sends each event's acknowledgement
/// (delivered or dead-lettered) forward to an `AcknowledgementSink`, the checkpointer.
///
/// Threads (all owned here, none from the concurrency pool):
/// - one batching thread: takes submitted events, skips those already accepted in this
///   run (dedupe window), and copies their JSON into batches (`Batcher`);
/// - for the API with gzip, one compression thread: compresses each closed batch's body (its
///   JSON is then set aside until an answer needs it);
/// - one delivery thread: for the API, a `DeliveryLoop` driving up to `max_in_flight`
///   requests at once over libcurl's multi interface (pooled easy handles, kept-alive
///   connections), fewer after 429s and paced by `max_events_per_second`
///   (`AdaptiveConcurrency`, `RateBudget`); for `stdout` / `file`, one writer (`LocalSinkWorker`).
///
/// Memory is bounded in bytes: the submit queue holds at most `queueBytes` of events (their
/// JSON and a fixed size each; a group
/// larger than that only when the queue is empty), the open batch, one closed batch waiting
/// for compression and the one being compressed at most `batch.max_bytes` of JSON each, one
/// compressed batch waiting for a slot and one the compression thread holds until it goes in,
/// and the delivery loop at most `max_in_flight` batches (each its gzip body; a 413 split adds
/// two uncompressed halves). Once
/// encoded, an event is only its JSON and its origin. When the API is down, the loop retries
/// forever, the queues fill and the reading thread pauses (`submit` refuses with `.full`).
///
/// Acknowledgements are sent from shipper threads, possibly concurrently, with one
/// `AckHandle` per event (repeated when several events share a segment).
public final class Shipper: Sendable {
    private let destination: DestinationConfig
    private let context: ShipperContext
    private let events: BlockingQueue<EncodedEvents>
    /// How its events are encoded (`/track`: with the token): what `submit([PendingEvent])` is
    /// given, and what the rule stage encodes for it.
    let encoder: EventEncoder
    /// Closed batches on their way to delivery, compressed (API with gzip) or not.
    private let batches: BlockingQueue<Batch<ShipItem>>
    /// Closed batches waiting for the compression thread (API with gzip only).
    private let closedBatches: BlockingQueue<Batch<ShipItem>>?
    /// Concurrent requests for the API (`max_in_flight`).
    private let maxInFlight: Int
    private let flushRequested = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let credentials: ShipCredentials
    private let connectTimeoutMs: Int
    private let tuning: ShipperTuning
    private let transportFactory: @Sendable (_ maxInFlight: Int) throws -> any MultiTransport
    /// The API delivery loop once started; woken when batches arrive, on reload and on stop.
    private let loop = Mutex<DeliveryLoop?>(nil)

    /// Creates a shipper; call `start()` before submitting.
    ///
    /// - Parameters:
    ///   - destination: the validated `destination:` section.
    ///   - credentials: secrets resolved by the caller.
    ///   - stateDir: where `dead-letters.ndjson` lives.
    ///   - acknowledgements: told which events are done with, and how (the checkpointer).
    public convenience init(
        destination: DestinationConfig, credentials: ShipCredentials, stateDir: String,
        logger: Logger, tuning: ShipperTuning = ShipperTuning(), acknowledgements: any AcknowledgementSink,
        metrics: AgentMetrics? = nil
    ) {
        let caFile = destination.caFile
        self.init(
            destination: destination, credentials: credentials, stateDir: stateDir, logger: logger,
            tuning: tuning, transportFactory: { try CurlMultiTransport(maxInFlight: $0, caFile: caFile) },
            acknowledgements: acknowledgements, metrics: metrics)
    }

    /// Creates a shipper over another transport (tests script one).
    init(
        destination: DestinationConfig, credentials: ShipCredentials, stateDir: String, logger: Logger,
        tuning: ShipperTuning, transportFactory: @escaping @Sendable (_ maxInFlight: Int) throws -> any MultiTransport,
        acknowledgements: any AcknowledgementSink, metrics: AgentMetrics? = nil
    ) {
        self.destination = destination
        self.tuning = tuning
        self.transportFactory = transportFactory
        self.credentials = credentials
        connectTimeoutMs = tuning.connectTimeoutMs
        context = ShipperContext(
            logger: logger, acknowledgements: acknowledgements, dedupeCapacity: tuning.dedupeCapacity,
            deadLetters: DeadLetterWriter(
                stateDir: stateDir, maxBytes: destination.deadLetterMaxBytes,
                redactingToken: destination.api == .track ? credentials.token : nil), retry: destination.retry,
            jitterMs: tuning.jitterMs, metrics: metrics)
        encoder = EventEncoder(token: destination.api == .track ? credentials.token : nil)
        events = BlockingQueue(
            capacity: tuning.queueBytes ?? 512 * 1024, weight: { $0.bytes })
        maxInFlight = max(1, destination.maxInFlight)
        // One closed batch waits for a free slot: more would only hold memory while every
        // slot is busy (or retrying through an outage), not add throughput.
        batches = BlockingQueue(capacity: 1)
        closedBatches = destination.kind == .mixpanel && destination.gzip ? BlockingQueue(capacity: 1) : nil
    }

    /// Starts the batching, compression and delivery threads. Throws if delivery cannot be set
    /// up (libcurl initialisation, or the output file of `kind: file`).
    public func start() throws {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let deliver: @Sendable () -> Void
        switch destination.kind {
        case .mixpanel:
            let delivery = DeliveryLoop(
                transport: try transportFactory(maxInFlight), batches: batches, context: context,
                maxInFlight: maxInFlight, gzipLevel: destination.gzip ? destination.gzipLevel : nil,
                target: IngestionTarget(
                    destination: destination, credentials: credentials, connectTimeoutMs: connectTimeoutMs),
                budget: destination.maxEventsPerSecond.map {
                    RateBudget(eventsPerSecond: $0, batchMaxEvents: destination.batch.maxEvents, now: .now)
                })
            loop.withLock { $0 = delivery }
            deliver = { delivery.run() }
        case .stdout, .file:
            let worker = try LocalSinkWorker(destination: destination, context: context)
            deliver = { [batches] in
                while let batch = batches.take(max: 1)?.first {
                    if !worker.deliver(batch) { return }
                }
            }
        }
        context.stop.spawn(name: "tailship-batch") { [self] in runBatching() }
        if let closedBatches {
            context.stop.spawn(name: "tailship-gzip") { [self] in runCompression(from: closedBatches) }
        }
        context.stop.spawn(name: "tailship-ship", deliver)
        context.logger.info(
            .shipStarted,
            metadata: [
                "destination.kind": "\(destination.kind.rawValue)", "destination.api": "\(destination.api.rawValue)",
                "destination.url": "\(SafeText.redactedURL(destination.url))", "max_in_flight": "\(maxInFlight)",
                "max_events_per_second": "\(destination.maxEventsPerSecond.map(String.init) ?? "unlimited")",
            ])
    }

    /// Hands events to the shipper. Blocks while the submit queue is full: that pause is
    /// the backpressure that stops reading while the API is down. Returns false if the
    /// shipper is stopping (the events are then not shipped and never acknowledged).
    @discardableResult
    public func submit(_ pending: [PendingEvent]) -> Bool {
        submit(EncodedEvents(pending, encoder: encoder), until: nil) == .accepted
    }

    /// What `submit(_:until:)` did.
    public enum SubmitResult: Sendable, Equatable {
        /// The events are queued for shipping.
        case accepted
        /// The queue was still full at the deadline: nothing was taken.
        case full
        /// The shipper is stopping: nothing was taken, and nothing will be.
        case stopped
    }

    /// `submit`, waiting for room at most until `deadline` (a past deadline: not at all), so a
    /// caller can go on with other work while the API is down (see `RuleStage.waitForRoom`).
    public func submit(_ pending: [PendingEvent], until deadline: ContinuousClock.Instant) -> SubmitResult {
        submit(EncodedEvents(pending, encoder: encoder), until: deadline)
    }

    /// `submit(_:until:)` for events already encoded (the rule stage's, with `tokenFragment`);
    /// a nil `deadline` waits for room as long as it takes.
    public func submit(_ group: EncodedEvents, until deadline: ContinuousClock.Instant?) -> SubmitResult {
        guard !group.isEmpty else { return .accepted }
        // Counted before it can be taken, so the batching thread never subtracts first.
        context.queuedEvents.add(group.count, ordering: .relaxed)
        switch events.put([group], until: deadline) {
        case .added: return .accepted
        case .full:
            context.queuedEvents.subtract(group.count, ordering: .relaxed)
            return .full
        case .closed:
            context.queuedEvents.subtract(group.count, ordering: .relaxed)
            return .stopped
        }
    }

    /// Whether `update(credentials:)` can take `new` without a teardown: `/import` carries the
    /// credentials in each request's header and url only; `/track` has its token encoded into
    /// every queued event, so a new token needs a new shipper.
    public func canUpdate(to new: ShipCredentials) -> Bool {
        destination.kind == .mixpanel && destination.api == .import
    }

    /// New credentials without a teardown (a reload that changed only them): the next request,
    /// retries included, carries them; batches refused with the old ones are retried at once.
    /// Nothing is read again and no connection is dropped. Only when `canUpdate(to:)`.
    public func update(credentials new: ShipCredentials) {
        precondition(canUpdate(to: new), "update(credentials:) for a destination that needs a new shipper")
        loop.withLock { $0 }?.retarget(
            IngestionTarget(destination: destination, credentials: new, connectTimeoutMs: connectTimeoutMs))
    }

    /// Delivering, retrying or paused on refused credentials (for `tailship status`).
    public var state: ShipperState { context.health.current }

    /// The API delivery thread's turns (nil for `stdout` / `file`, whose writer waits for work
    /// without a timer: idle there is not stuck).
    public var heartbeat: Heartbeat? { loop.withLock { $0 }?.heartbeat }

    /// For `/metrics`: events and bytes in the submit queue, requests in flight, and how many
    /// are allowed in flight now (`max_in_flight`, less after 429s; 0 for `stdout` / `file`).
    public var depth: (events: Int, bytes: Int, inFlight: Int, inFlightLimit: Int) {
        (
            max(0, context.queuedEvents.load(ordering: .relaxed)), events.queuedWeight,
            context.inFlight.load(ordering: .relaxed), context.inFlightLimit.load(ordering: .relaxed)
        )
    }

    /// Closes the open batch now instead of waiting for its flush interval.
    public func flush() {
        flushRequested.store(true, ordering: .releasing)
        events.wake()
    }

    /// Stops: refuses new events, ships what is queued, and returns once everything is
    /// delivered (true) or at `deadline` (false), when in-flight work is abandoned:
    /// requests are aborted and abandoned events are simply never acknowledged, so their
    /// checkpoints do not move past them. Returns within about one second of the deadline,
    /// and earlier (false) once only failed batches waiting for a retry are left and one more
    /// attempt each, made at once, failed too, or once nothing is in flight and the rate budget
    /// holds back what is left.
    @discardableResult
    public func stop(deadline: ContinuousClock.Instant) -> Bool {
        events.close()
        guard started.load(ordering: .acquiring) else { return true }
        loop.withLock { $0 }?.requestStop()
        if context.stop.waitForThreads(until: deadline) {
            let gaveUp = loop.withLock { $0 }?.gaveUp.load(ordering: .acquiring) ?? 0
            guard gaveUp == 0 else {
                context.logger.warning(
                    .shipStoppedUndelivered,
                    "failing batches, or batches the rate budget held back, given up; their events stay unacknowledged",
                    metadata: ["events": "\(gaveUp)"])
                return false
            }
            context.logger.info(.shipStopped, "everything delivered")
            return true
        }
        context.stop.abandon()
        events.closeAndDiscard()
        closedBatches?.closeAndDiscard()
        batches.closeAndDiscard()
        // The loop sees the abandon, drops its transfers (curl_multi_remove_handle) and returns.
        loop.withLock { $0 }?.wakeup()
        let finished = context.stop.waitForThreads(until: .now + .seconds(1))
        context.logger.warning(
            .shipStoppedAtDeadline, "undelivered events stay unacknowledged",
            metadata: ["threads.finished": "\(finished)"])
        return false
    }

    /// How old an event `/track` still keeps: 5 days (Mixpanel's Ingestion API docs).
    static let trackMaxAgeMs: Int64 = 5 * 24 * 3_600_000

    /// The batching thread: queue → dedupe → batches (the events come encoded).
    private func runBatching() {
        var batcher = Batcher<ShipItem>(destination.batch)
        let output = closedBatches ?? batches
        let clockStart = ContinuousClock.now
        func nowMs() -> UInt64 {
            UInt64((ContinuousClock.now - clockStart).wholeMilliseconds)
        }
        func hand(_ batch: Batch<ShipItem>?) -> Bool {
            guard let batch else { return true }
            defer { if closedBatches == nil { loop.withLock { $0 }?.wakeup() } }
            return output.put([batch])
        }
        while true {
            let wait = batcher.deadlineMs.map { clockStart + .milliseconds($0) }
            let taken = events.take(max: 1, until: wait)
            var duplicates: [AckHandle] = []
            // `/track` silently drops events older than five days while answering success
            // (Mixpanel's Ingestion API docs): dead-lettered here instead, where the operator sees them.
            let trackCutoffMs = destination.api == .track ? WallClock.nowMs() - Self.trackMaxAgeMs : nil
            var tooOld: [(DeadLetter, ShipItem)] = []
            // One clock read per turn, not per event (a turn takes microseconds).
            let takenAtMs = nowMs()
            for group in taken ?? [] {
                context.queuedEvents.subtract(group.count, ordering: .relaxed)
                // One lock per group, not per event: the delivery threads insert under it too.
                let seen = context.dedupe.withLock { window in group.entries.map { window.contains($0.key) } }
                for (i, entry) in group.entries.enumerated() {
                    if seen[i] {
                        duplicates.append(entry.origin.ack)
                        continue
                    }
                    let item = ShipItem(origin: entry.origin, insertId: entry.insertId, key: entry.key)
                    let json = group.json(at: i)
                    if let trackCutoffMs, entry.timeMs < trackCutoffMs {
                        let letter = DeadLetter(
                            reason: .tooOldForTrack, field: "properties.time",
                            message: "older than the 5 days /track keeps (it would drop it silently); use api: import",
                            origin: entry.origin, rawLine: nil, eventJSON: Array(json), timeMs: WallClock.nowMs())
                        tooOld.append((letter, item))
                        continue
                    }
                    for batch in batcher.add(item, nowMs: takenAtMs, encode: { $0 += json }) {
                        if !hand(batch) { return }
                    }
                }
            }
            if !duplicates.isEmpty { context.acknowledgements.acknowledge(duplicates, result: .accepted) }
            if !tooOld.isEmpty && !context.deadLetter(tooOld.map(\.0), items: tooOld.map(\.1)) { return }
            if flushRequested.exchange(false, ordering: .acquiringAndReleasing) {
                if !hand(batcher.flush()) { return }
            }
            if !hand(batcher.tick(nowMs: nowMs())) { return }
            if taken == nil {
                // Stopping and drained: send the last batch and let the workers finish.
                _ = hand(batcher.flush())
                output.close()
                loop.withLock { $0 }?.wakeup()
                return
            }
        }
    }

    /// The compression thread (API with gzip): closed batches → gzip → the delivery loop. Its
    /// own thread, so compression overlaps reading and batching on one core and requests on
    /// the other, and a batch waiting for a slot already holds only its gzip body. If the
    /// delivery loop stops taking for good (given up, abandoned), what waits here is discarded
    /// too, which releases the batching thread.
    private func runCompression(from input: BlockingQueue<Batch<ShipItem>>) {
        // A batch not compressed here (memory exhaustion) is compressed by the delivery loop,
        // or sent plain; logged once here, as the delivery loop logs its own failures.
        var compressor: GzipCompressor?
        var logged = false
        // Nil only once the batching thread closed it and it is drained.
        while let taken = input.take(max: 1) {
            for var batch in taken {
                do throws(GzipError) {
                    if compressor == nil { compressor = try GzipCompressor(level: destination.gzipLevel) }
                    try batch.compress(with: compressor!)
                } catch {
                    if !logged {
                        context.logger.error(
                            .shipGzipFailed, "the delivery thread compresses instead", metadata: ["error": "\(error)"])
                        logged = true
                    }
                }
                let handed = batches.put([batch])
                loop.withLock { $0 }?.wakeup()
                if !handed {
                    input.closeAndDiscard()
                    return
                }
            }
        }
        batches.close()
        loop.withLock { $0 }?.wakeup()
    }
}
