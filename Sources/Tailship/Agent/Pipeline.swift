import CZlib
import Foundation
import Logging
import Synchronization

/// Joins the stages: the tailer's lines go through each source's rules, events go to the
/// shipper, and the shipper's acknowledgements move the per-file checkpoints.
///
/// `lines` runs on the tailer's thread and never waits for the shipper: events the shipping
/// queue has no room for are held back (at most one read chunk's worth, since the tailer stops
/// reading while `hasRoom` is false) and handed on by `waitForRoom`. That is how reading pauses
/// while the API is slow or down, with the tailer still watching for files that appear.
final class Pipeline: LineSink, @unchecked Sendable {
    private let sources: [SourceConfig]
    /// One engine per source, used only on the tailer's thread (PCRE2 match data is per engine).
    private let engines: [RuleEngine]
    private let shipper: Shipper
    private let deadLetters: DeadLetterWriter
    private let metrics: AgentMetrics
    private let logger: Logger
    private let state: Mutex<State>
    /// Groups of events the shipping queue had no room for, in order (see `waitForRoom`).
    private let held = Mutex<[[PendingEvent]]>([])

    struct State {
        var acks = AckTracker()
        var store: CheckpointStore
        var dirty = false
        var paths: [Int: (path: String, identity: FileIdentity, source: Int)] = [:]
    }

    init(
        sources: [SourceConfig], engines: [RuleEngine], shipper: Shipper, store: CheckpointStore,
        deadLetters: DeadLetterWriter, metrics: AgentMetrics, logger: Logger
    ) {
        self.sources = sources
        self.engines = engines
        self.shipper = shipper
        self.deadLetters = deadLetters
        self.metrics = metrics
        self.logger = logger
        self.state = Mutex(State(store: store))
        Self.limitMallocArenas()
    }

    /// glibc gives each thread that allocates its own arena; events are allocated on the
    /// reading thread and freed on shipper threads, so memory parks in several arenas and RSS
    /// grows with the thread count. Two arenas, and batch-sized buffers always mmapped (so
    /// freeing one returns it), keep it bounded at no measurable cost.
    private static func limitMallocArenas() {
        _ = tailship_tune_malloc(2, 128 * 1024)
    }

    /// Events per `Shipper.submit` call.
    static let submitGroup = 256

    // MARK: LineSink

    func fileOpened(file: Int, source: Int, path: String, identity: FileIdentity, offset: UInt64) {
        state.withLock {
            $0.acks.open(file: file, identity: identity, path: path, source: sources[source].name, offset: offset)
            $0.paths[file] = (path, identity, source)
        }
    }

    func lines(file: Int, _ batch: LineBatch) {
        guard let info = state.withLock({ $0.paths[file] }) else { return }
        let engine = engines[info.source]
        let sourceName = sources[info.source].name
        let handle = state.withLock { $0.acks.nextHandle(file: file) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var events: [PendingEvent] = []
        var letters: [DeadLetter] = []
        var counts = (read: 0, unmatched: 0, dropped: 0, limit: 0, invalid: 0, truncated: 0)
        for entry in batch {
            let line = entry.bytes
            let offset = entry.offset
            counts.read += 1
            if entry.truncated { counts.truncated += 1 }
            switch engine.process(line: line, identity: info.identity, offset: offset, nowMs: now) {
            case .event(let event, let rule):
                let origin = EventOrigin(
                    source: sourceName, path: info.path, identity: info.identity, offset: offset,
                    rule: rule, ack: handle)
                events.append(
                    PendingEvent(event: event, origin: origin, rawLine: String(decoding: line, as: UTF8.self)))
            case .dropped:
                counts.dropped += 1
            case .unmatched:
                counts.unmatched += 1
            case .limitHit:
                counts.limit += 1
            case .invalid(let rule, let problems):
                counts.invalid += 1
                // Rejected locally by the API's own rules: dead-letter it rather than spend a request.
                let origin = EventOrigin(
                    source: sourceName, path: info.path, identity: info.identity, offset: offset,
                    rule: rule, ack: handle)
                letters.append(
                    DeadLetter(
                        reason: .localValidation, field: problems.first?.field ?? "",
                        message: problems.map(\.message).joined(separator: "; "), origin: origin,
                        rawLine: String(decoding: line, as: UTF8.self), eventJSON: [], timeMs: now))
            }
        }
        // A dead letter that cannot be written (disk full) stays pending for this run, so the
        // checkpoint stops before its line and the next start reads it again: nothing is lost.
        var unwritten = 0
        if !letters.isEmpty {
            do {
                try deadLetters.write(letters)
            } catch {
                unwritten = letters.count
                logger.error(
                    .deadLettersNotWritten, "checkpoint held before them",
                    metadata: ["file.path": "\(info.path)", "error": "\(error)"])
            }
        }
        metrics.add(.linesRead, counts.read)
        metrics.add(.linesTruncated, counts.truncated)
        metrics.add(.linesUnmatched, counts.unmatched)
        metrics.add(.linesDropped, counts.dropped)
        metrics.add(.linesLimitHit, counts.limit)
        metrics.add(.eventsInvalid, counts.invalid)
        metrics.add(.eventsDeadLettered, counts.invalid - unwritten)
        metrics.add(.eventsProduced, events.count)
        state.withLock {
            if let advance = $0.acks.addSegment(
                file: file, endOffset: batch.endOffset, pending: events.count + unwritten)
            {
                Self.record(advance, in: &$0)
            }
        }
        // In small groups: the shipper's queue is bounded in events but admits a whole group,
        // and a batch keeps each group it draws from alive, so a 256 KiB chunk of short lines
        // handed over at once would hold thousands of events beyond the bound.
        var groups: [[PendingEvent]] = []
        var start = 0
        while start < events.count {
            let end = min(start + Self.submitGroup, events.count)
            groups.append(Array(events[start..<end]))
            start = end
        }
        guard !groups.isEmpty else { return }
        held.withLock { $0.append(contentsOf: groups) }
        _ = handOn(until: Date.distantPast)
    }

    var hasRoom: Bool { held.withLock { $0.isEmpty } }

    func waitForRoom(timeout: Duration) -> Bool {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return handOn(until: Date(timeIntervalSinceNow: seconds))
    }

    /// Submits the held groups in order, waiting for room at most until `deadline`; true when
    /// none is left. When the shipper is stopping they are dropped: never acknowledged, so the
    /// checkpoints stay before their lines and the next run reads them again.
    private func handOn(until deadline: Date) -> Bool {
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
        state.withLock { $0.paths[file]?.path = path }
    }

    /// A truncated file comes back under a new id and identity, so every close is final for
    /// this id: its outstanding events still resolve and move the old identity's checkpoint.
    func fileClosed(file: Int, reason: FileCloseReason) {
        // The tailer logs the close (`tail.file_closed`); here only the bookkeeping ends.
        state.withLock {
            $0.acks.close(file: file)
            $0.paths[file] = nil
        }
    }

    /// Drops the checkpoints of files that are gone and done with (`CheckpointStore.prune`).
    func filesScanned(_ scan: FileScan) {
        let pruned = state.withLock { state in
            let gone = state.store.prune(scan, nowMs: Int64(Date().timeIntervalSince1970 * 1000))
            if !gone.isEmpty { state.dirty = true }
            return gone
        }
        for checkpoint in pruned {
            logger.info(
                .checkpointPruned,
                metadata: ["file.path": "\(checkpoint.path)", "file.identity": "\(checkpoint.identity)"])
        }
    }

    // MARK: Acknowledgements

    /// Called by the shipper when events were accepted or dead-lettered.
    func resolved(_ handles: [AckHandle], deadLettered: Bool) {
        metrics.add(deadLettered ? .eventsDeadLettered : .eventsDelivered, handles.count)
        state.withLock { state in
            // Handles of one batch mostly share a segment: resolve each run at once.
            var i = 0
            while i < handles.count {
                var j = i + 1
                while j < handles.count, handles[j] == handles[i] { j += 1 }
                if let advance = state.acks.resolve(handles[i], count: j - i) { Self.record(advance, in: &state) }
                i = j
            }
        }
    }

    private static func record(_ advance: AckTracker.Advance, in state: inout State) {
        state.store.update(
            Checkpoint(
                identity: advance.identity, path: advance.path, source: advance.source,
                offset: advance.offset, updatedMs: Int64(Date().timeIntervalSince1970 * 1000)))
        state.dirty = true
    }

    /// Read segments whose events are not all resolved yet, over all files.
    var outstandingSegments: Int { state.withLock { $0.acks.outstandingSegments } }

    /// Writes the checkpoints if any moved since the last save.
    func saveCheckpoints() {
        let snapshot: CheckpointStore? = state.withLock {
            guard $0.dirty else { return nil }
            $0.dirty = false
            return $0.store
        }
        guard let snapshot else { return }
        do {
            try snapshot.save()
        } catch {
            state.withLock { $0.dirty = true }
            logger.error(.checkpointSaveFailed, metadata: ["error": "\(error)"])
        }
    }
}
