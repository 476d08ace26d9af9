import CZlib
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The stage after the tailer, on its thread: lines go through each source's rules; events go
/// forward to the shipper; what each read segment holds, and where each file starts, goes
/// forward to the checkpointer. It writes the dead letters of events the API's own rules refuse
/// locally, and counts.
///
/// It never waits for the shipper: events the shipping queue has no room for are held back (at
/// most one read chunk's worth, since the tailer stops reading while `hasRoom` is false) and
/// handed on by `waitForRoom`. That is how reading pauses while the API is slow or down, with
/// the tailer still watching for files that appear.
final class RuleStage: LineSink, @unchecked Sendable {
    // @unchecked: `files` is touched only on the reading thread (the tailer's, or `import`'s);
    // `held` is behind its own mutex because `waitForRoom` runs on the same thread too, and
    // everything else is immutable or Sendable.
    private let sources: [SourceConfig]
    /// One engine per source, used only on the reading thread (PCRE2 match data is per engine).
    private let engines: [RuleEngine]
    private let shipper: Shipper
    private let checkpointer: Checkpointer
    private let deadLetters: DeadLetterWriter
    private let metrics: AgentMetrics
    private let logger: Logger
    /// The wall clock events without a time of their own get (tests fix it).
    private let nowMs: @Sendable () -> Int64
    /// Groups of events the shipping queue had no room for, in order (see `waitForRoom`).
    private let held = Mutex<[EncodedEvents]>([])
    /// The JSON of the submit group being filled, reused from chunk to chunk (reading thread).
    private let encoded = ByteBuffer(capacity: RuleStage.submitGroupBytes + 4096)
    /// `/track`'s token fragment, written into every event as the shipper's encoder would.
    private let tokenFragment: [UInt8]?
    /// What the slow path's events are encoded with (the same bytes as the fast path's).
    private let encoder: EventEncoder

    private struct OpenFile {
        /// Its source's name, path and identity, shared by its events' origins (replaced, not
        /// changed, when it moves or its identity changes: events on their way keep theirs).
        var origin: OriginFile
        var source: Int
        var nextSegment: UInt64 = 0
        /// Where the last chunk handed on ended: the next chunk's bytes read start there.
        var readEnd: UInt64
        /// The checkpointer's sequence number of its first-sight position (0: already on disk).
        var durableAt: UInt64
    }

    private var files: [Int: OpenFile] = [:]

    /// Local dead letters that could not be written (a full disk), with the segment they hold
    /// back; retried every `letterRetryInterval`, and acknowledged once written.
    private let unwritten = Mutex<(letters: [(DeadLetter, AckHandle)], bytes: Int, lastTry: ContinuousClock.Instant)>(
        ([], 0, .now))
    static let letterRetryInterval: Duration = .seconds(1)
    /// Past this many bytes of lines waiting in unwritten letters, reading pauses (`hasRoom`).
    static let unwrittenLetterBytes = 4 << 20

    init(
        sources: [SourceConfig], engines: [RuleEngine], shipper: Shipper, checkpointer: Checkpointer,
        deadLetters: DeadLetterWriter, metrics: AgentMetrics, logger: Logger,
        nowMs: @escaping @Sendable () -> Int64 = WallClock.nowMs
    ) {
        self.nowMs = nowMs
        self.sources = sources
        self.engines = engines
        self.shipper = shipper
        self.checkpointer = checkpointer
        self.deadLetters = deadLetters
        self.metrics = metrics
        self.logger = logger
        encoder = shipper.encoder
        tokenFragment = shipper.encoder.token.map(EventEncoder.tokenFragment)
        Self.limitMallocArenas()
    }

    /// glibc gives each thread that allocates its own arena; events are allocated on the
    /// reading thread and freed on shipper threads, so memory parks in several arenas and RSS
    /// grows with the thread count. Two arenas, and batch-sized buffers always mmapped (so
    /// freeing one returns it), keep it bounded at no measurable cost.
    private static func limitMallocArenas() {
        _ = tailship_tune_malloc(2, 128 * 1024)
    }

    /// At most this many events, and about this many bytes, per `Shipper.submit`: the shipping
    /// queue admits a whole group, so groups are kept small (see `Shipper`'s memory bound).
    static let submitGroup = 256
    static let submitGroupBytes = 256 * 1024

    // MARK: LineSink

    func fileOpened(_ opening: FileOpening) {
        let sequence = checkpointer.open(opening, source: sources[opening.source].name)
        files[opening.file] = OpenFile(
            origin: OriginFile(source: sources[opening.source].name, path: opening.path, identity: opening.identity),
            source: opening.source, readEnd: opening.offset, durableAt: sequence)
    }

    func isDurable(file: Int) -> Bool {
        guard let info = files[file] else { return true }
        return checkpointer.isDurable(info.durableAt)
    }

    func waitUntilDurable(timeout: Duration) -> Bool {
        checkpointer.waitUntilDurable(timeout: timeout)
    }

    func lines(file: Int, _ batch: LineBatch) {
        guard var info = files[file] else { return }
        let engine = engines[info.source]
        let sourceName = sources[info.source].name
        let handle = AckHandle(file: file, segment: info.nextSegment)
        info.nextSegment += 1
        let bytesRead = batch.endOffset > info.readEnd ? Int(batch.endOffset - info.readEnd) : 0
        info.readEnd = max(info.readEnd, batch.endOffset)
        files[file] = info
        let now = nowMs()
        // Per rule, counted here and added once per chunk: no lock per line.
        var produced = [Int](repeating: 0, count: engine.rules.count)
        // Events are encoded straight into their submit group's buffer: no `Event`, no array of
        // their own (see `SubmitGroups`).
        var events = SubmitGroups(encoded)
        var out = encoded  // the one buffer, by reference
        var letters: [DeadLetter] = []
        var counts = (read: 0, unmatched: 0, dropped: 0, limit: 0, invalid: 0, truncated: 0)
        let replacedBefore = engine.utf8Replaced
        for line in batch {
            counts.read += 1
            if line.truncated { counts.truncated += 1 }
            let origin = { (rule: String) in
                EventOrigin(file: info.origin, offset: line.offset, rule: rule, ack: handle)
            }
            // The common case, from the line's bytes to the group's JSON; anything else is
            // decided by `process`, as it always was.
            let start = out.byteCount
            switch engine.encode(
                line: line.bytes, basis: line.basis, offset: line.offset, nowMs: now, token: tokenFragment, into: &out)
            {
            case .event(let rule, let timeMs, let key, let insertId):
                produced[rule] += 1
                events.append(
                    from: start, key: key, timeMs: timeMs, insertId: insertId,
                    origin: origin(engine.rules[rule].name))
                continue
            case .dropped:
                counts.dropped += 1
                continue
            case .unmatched:
                counts.unmatched += 1
                continue
            case .slow:
                break
            }
            switch engine.process(line: line.bytes, basis: line.basis, offset: line.offset, nowMs: now) {
            case .event(let event, let rule):
                produced[engine.rules.firstIndex { $0.name == rule } ?? 0] += 1
                let insertId = encoder.append(event, to: &out)
                events.append(
                    from: start, key: DedupeWindow.Key(event), timeMs: event.timeMs, insertId: insertId,
                    origin: origin(rule))
            case .dropped:
                counts.dropped += 1
            case .unmatched:
                counts.unmatched += 1
            case .limitHit(let rule):
                counts.limit += 1
                // It might have matched: kept where the operator sees it, never silently unmatched.
                letters.append(
                    DeadLetter(
                        reason: .matchLimit, field: "",
                        message:
                            "the pattern of '\(rule)' ran out of its match budget on this line "
                            + "(\(Pattern.budget(lineBytes: line.bytes.count)) steps); rewrite the pattern's '.*' parts",
                        origin: origin(rule), rawLine: String(decoding: line.bytes, as: UTF8.self), eventJSON: [],
                        timeMs: now))
            case .invalid(let rule, let problems):
                counts.invalid += 1
                // Refused locally by the API's own rules: dead-letter it rather than spend a request.
                letters.append(
                    DeadLetter(
                        reason: .localValidation, field: problems.first?.field ?? "",
                        message: problems.map(\.message).joined(separator: "; "), origin: origin(rule),
                        rawLine: String(decoding: line.bytes, as: UTF8.self), eventJSON: [], timeMs: now))
            }
        }
        // A dead letter that cannot be written (disk full) holds its segment back (the checkpoint
        // stops before its line) and is retried every second; written, it is acknowledged. A
        // stop meanwhile leaves it unacknowledged: the next start reads its line again.
        retryUnwrittenLetters()
        var unwritten = 0
        if !letters.isEmpty {
            do {
                try deadLetters.write(letters)
                metrics.addDeadLettered(letters)
            } catch {
                unwritten = letters.count
                logger.error(
                    .deadLettersNotWritten, "checkpoint held before them; retried every second",
                    metadata: ["file.path": "\(info.origin.path)", "error": "\(error)"])
                self.unwritten.withLock { state in
                    state.letters += letters.map { ($0, handle) }
                    state.bytes += letters.reduce(0) { $0 + Self.weight($1) }
                }
            }
        }
        metrics.add(.linesRead, counts.read)
        metrics.add(.linesTruncated, counts.truncated)
        metrics.add(.valuesUTF8Replaced, engine.utf8Replaced - replacedBefore)
        metrics.add(.linesUnmatched, counts.unmatched)
        metrics.add(.linesDropped, counts.dropped)
        metrics.add(.linesLimitHit, counts.limit)
        metrics.add(.eventsInvalid, counts.invalid)
        metrics.add(.eventsDeadLettered, letters.count - unwritten)
        metrics.add(.eventsProduced, events.count)
        var producedByName: [String: Int] = [:]
        for (rule, count) in produced.enumerated() where count > 0 {
            producedByName[engine.rules[rule].name, default: 0] += count
        }
        metrics.addRead(source: sourceName, lines: counts.read, bytes: bytesRead, produced: producedByName)
        // Before the events go out, so the checkpointer knows the segment before any of their
        // acknowledgements.
        checkpointer.segment(handle, endOffset: batch.endOffset, pending: events.count + unwritten)
        guard !events.isEmpty else { return }
        let groups = events.finish()
        held.withLock { $0.append(contentsOf: groups) }
        _ = handOn(until: .now)
    }

    /// A chunk's events cut into submit groups as they come (see `submitGroup`): each event's
    /// JSON is encoded into `buffer` after the group's, and a full group's JSON is copied out
    /// once, as one array.
    struct SubmitGroups {
        private let buffer: ByteBuffer
        private var groups: [EncodedEvents] = []
        private var entries: [EncodedEvents.Entry] = []
        private(set) var count = 0

        init(_ buffer: ByteBuffer) {
            buffer.removeAll()
            self.buffer = buffer
        }

        var isEmpty: Bool { count == 0 }

        /// The event whose JSON was just written to the buffer from `start` on; `insertId` is
        /// where its `$insert_id` lies in the buffer.
        mutating func append(
            from start: Int, key: DedupeWindow.Key, timeMs: Int64, insertId: Range<Int>, origin: EventOrigin
        ) {
            let insertId = (insertId.lowerBound - start)..<(insertId.upperBound - start)
            let weight = buffer.byteCount + (entries.count + 1) * EncodedEvents.entryBytes
            if !entries.isEmpty && (entries.count >= RuleStage.submitGroup || weight > RuleStage.submitGroupBytes) {
                // The group closes without this event, which moves to the front for the next.
                groups.append(EncodedEvents(json: buffer.withBytes(in: 0..<start) { Array($0) }, entries: entries))
                entries = []
                entries.reserveCapacity(RuleStage.submitGroup)
                buffer.removeFirst(start)
            }
            entries.append(
                EncodedEvents.Entry(end: buffer.byteCount, key: key, timeMs: timeMs, insertId: insertId, origin: origin)
            )
            count += 1
        }

        /// The groups, in order; the buffer is left empty.
        mutating func finish() -> [EncodedEvents] {
            if !entries.isEmpty {
                groups.append(EncodedEvents(json: Array(buffer.bytes), entries: entries))
            }
            entries = []
            buffer.removeAll()
            return groups
        }
    }

    func skipped(file: Int, to offset: UInt64, coveredBy original: Int) {
        guard var info = files[file] else { return }
        let handle = AckHandle(file: file, segment: info.nextSegment)
        info.nextSegment += 1
        info.readEnd = max(info.readEnd, offset)
        files[file] = info
        checkpointer.segment(handle, endOffset: offset, pending: 1)
        checkpointer.resolve(handle, when: original, reaches: offset)
    }

    func identityChanged(file: Int, identity: FileIdentity) {
        if let origin = files[file]?.origin {
            files[file]?.origin = OriginFile(source: origin.source, path: origin.path, identity: identity)
        }
        checkpointer.identityChanged(file: file, identity: identity)
    }

    /// False while events are held back, while too many lines wait in unwritten dead letters,
    /// and when those letters are due for another try (so the tailer calls `waitForRoom`, which
    /// tries: a file with nothing more to read does not keep its checkpoint frozen).
    var hasRoom: Bool {
        held.withLock { $0.isEmpty }
            && unwritten.withLock { state in
                state.bytes < Self.unwrittenLetterBytes
                    && (state.letters.isEmpty || ContinuousClock.now - state.lastTry < Self.letterRetryInterval)
            }
    }

    func waitForRoom(timeout: Duration) -> Bool {
        retryUnwrittenLetters()
        return handOn(until: .now + timeout) && hasRoom
    }

    /// What an unwritten dead letter holds in memory, about: its line and a fixed overhead.
    private static func weight(_ letter: DeadLetter) -> Int { (letter.rawLine?.utf8.count ?? 0) + 256 }

    /// Dead letters still waiting to be written (see `unwritten`).
    var unwrittenLetters: Int { unwritten.withLock { $0.letters.count } }

    /// Writes the dead letters that could not be written before, at most once per
    /// `letterRetryInterval`; acknowledges them when that succeeds.
    func retryUnwrittenLetters() {
        let due = unwritten.withLock { state -> [(DeadLetter, AckHandle)]? in
            guard !state.letters.isEmpty, ContinuousClock.now - state.lastTry >= Self.letterRetryInterval else {
                return nil
            }
            state.lastTry = .now
            return state.letters
        }
        guard let due else { return }
        do {
            try deadLetters.write(due.map(\.0))
            metrics.addDeadLettered(due.map(\.0))
        } catch {
            return  // logged when first refused; still held back
        }
        unwritten.withLock { state in
            state.letters.removeFirst(due.count)
            state.bytes -= due.reduce(0) { $0 + Self.weight($1.0) }
        }
        // Counted as dead-lettered by the checkpointer, with the acknowledgement.
        checkpointer.acknowledge(due.map(\.1), result: .deadLettered)
        logger.info(.deadLettersWritten, metadata: ["deadletter.count": "\(due.count)"])
    }

    /// Submits the held groups in order, waiting for room at most until `deadline`; true when
    /// none is left. When the shipper is stopping they are dropped: never acknowledged, so the
    /// checkpoints stay before their lines and the next run reads them again.
    private func handOn(until deadline: ContinuousClock.Instant) -> Bool {
        held.withLock { groups in
            var submitted = 0
            defer { groups.removeFirst(submitted) }
            for group in groups {
                switch shipper.submit(group, until: deadline) {
                case .accepted: submitted += 1
                case .full: return false
                case .stopped:
                    submitted = groups.count
                    return true
                }
            }
            return true
        }
    }

    func fileMoved(file: Int, path: String) {
        if let origin = files[file]?.origin {
            files[file]?.origin = OriginFile(source: origin.source, path: path, identity: origin.identity)
        }
        checkpointer.moved(file: file, path: path)
    }

    /// A truncated file comes back under a new id and key, so every close is final for this
    /// id: its outstanding events still resolve and move its checkpoint.
    func fileClosed(file: Int, reason: FileCloseReason) {
        // The tailer logs the close (`tail.file_closed`); here only the bookkeeping ends.
        files[file] = nil
        checkpointer.closed(file: file)
    }

    /// Drops the checkpoints of files that are gone and done with (`CheckpointStore.prune`).
    func filesScanned(_ scan: FileScan) {
        checkpointer.scanned(scan)
    }
}
