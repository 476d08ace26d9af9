import Foundation
import Logging
import Synchronization

/// The one owner of positions: a stage with its own thread and its own queue, fed forward by
/// the stages before it. The rule stage tells it which files are read from where (`open`) and
/// which read segments carry how many events (`segment`); the shipper sends it
/// acknowledgements (`acknowledge`). It alone holds the `AckTracker` and the `CheckpointStore`
/// and writes `checkpoints.json`.
///
/// When it saves:
/// - at once whenever a file was opened at a position never recorded (first seen, or seen
///   anew after a truncation): that file is not read (`isDurable`) until the save succeeded,
///   so no line is handed on before its file's position is on disk;
/// - otherwise at most every `saveInterval` while something moved (acknowledgements), and when
///   stopped.
///
/// A failed save (a full disk) is logged and retried every `saveInterval`; meanwhile new files
/// stay unread and old ones keep going, their progress saved once the disk has room.
public final class Checkpointer: AcknowledgementSink, Sendable {
    public static let saveInterval: Duration = .seconds(1)

    private enum Message: Sendable {
        case opened(FileOpening, source: String, sequence: UInt64)
        case identity(file: Int, FileIdentity)
        case moved(file: Int, path: String)
        case segment(AckHandle, endOffset: UInt64, pending: Int)
        case acknowledged([AckHandle], DeliveryResult)
        case closed(file: Int)
        case scanned(FileScan)
        case barrier(Reply)
    }

    /// Answers `settle()` once everything queued before it is applied (and saved, if due).
    private final class Reply: @unchecked Sendable {
        // @unchecked: `outstanding` is written before `done` is signalled and read after.
        let done = DispatchSemaphore(value: 0)
        var outstanding = 0
    }

    private let inbox = BlockingQueue<Message>(capacity: Int.max)
    private let metrics: AgentMetrics
    private let logger: Logger
    /// Sequence numbers of positions announced by `open` and of those on disk.
    private let announced = Atomic<UInt64>(0)
    private let durable = Atomic<UInt64>(0)
    private let durableChanged = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private let state: Mutex<State>

    /// What the checkpointer's thread works on; behind a mutex only so that `resumeDecision`
    /// (the tail thread, when a file is opened) reads the same store.
    private struct State: Sendable {
        var store: CheckpointStore
        var tracker = AckTracker()
        /// Per tailer file id: its key and source, while the tracker follows it.
        var files: [Int: (key: FileKey, source: String)] = [:]
        var dirty = false
        /// Highest `opened` sequence applied to the store.
        var applied: UInt64 = 0
    }

    /// Loads the store (`CheckpointError` names the file when it cannot) and starts the thread.
    public init(directory: String, name: String, metrics: AgentMetrics, logger: Logger) throws(CheckpointError) {
        let store = try CheckpointStore(directory: directory, name: name)
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(store: store))
        let thread = Thread { [self] in run() }
        thread.name = "tailship-checkpoint"
        thread.start()
    }

    // MARK: Fed by the rule stage (the tail thread)

    /// `opening.file` is read from `opening.offset`. Returns the sequence number `isDurable`
    /// compares: 0 for a position already on disk (resumed), else the one to wait for.
    public func open(_ opening: FileOpening, source: String) -> UInt64 {
        let sequence = opening.start == nil ? 0 : announced.add(1, ordering: .relaxed).newValue
        inbox.put([.opened(opening, source: source, sequence: sequence)])
        return sequence
    }

    /// Whether the position announced with `sequence` is on disk.
    public func isDurable(_ sequence: UInt64) -> Bool {
        durable.load(ordering: .acquiring) >= sequence
    }

    /// Waits up to `timeout` until every position announced so far is on disk.
    public func waitUntilDurable(timeout: Duration) -> Bool {
        let target = announced.load(ordering: .relaxed)
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        durableChanged.lock()
        defer { durableChanged.unlock() }
        while durable.load(ordering: .acquiring) < target {
            if !durableChanged.wait(until: deadline) { return durable.load(ordering: .acquiring) >= target }
        }
        return true
    }

    /// Segment `handle` of a file ends at `endOffset` and has `pending` events on their way.
    /// Sent before those events are handed to the shipper, so it is applied before their
    /// acknowledgements.
    public func segment(_ handle: AckHandle, endOffset: UInt64, pending: Int) {
        inbox.put([.segment(handle, endOffset: endOffset, pending: pending)])
    }

    public func identityChanged(file: Int, identity: FileIdentity) {
        inbox.put([.identity(file: file, identity)])
    }

    public func moved(file: Int, path: String) {
        inbox.put([.moved(file: file, path: path)])
    }

    public func closed(file: Int) {
        inbox.put([.closed(file: file)])
    }

    public func scanned(_ scan: FileScan) {
        inbox.put([.scanned(scan)])
    }

    // MARK: Fed by the shipper

    public func acknowledge(_ handles: [AckHandle], result: DeliveryResult) {
        guard !handles.isEmpty else { return }
        inbox.put([.acknowledged(handles, result)])
    }

    // MARK: Queries

    /// Which recorded file, if any, the file at `path` is (`CheckpointStore.resumeDecision`).
    public func resumeDecision(path: String, status: FileStatus, matches: (FileIdentity) -> Bool) -> ResumeDecision {
        state.withLock {
            $0.store.resumeDecision(path: path, device: status.device, inode: status.inode, fingerprintMatches: matches)
        }
    }

    /// Waits until everything sent before is applied; returns the read segments whose events are
    /// not all acknowledged yet.
    public func settle() -> Int {
        let reply = Reply()
        guard inbox.put([.barrier(reply)]) else { return 0 }
        reply.done.wait()
        return reply.outstanding
    }

    /// Applies what is queued, saves, and ends the thread. Nothing may be sent afterwards.
    public func stop() {
        inbox.close()
        finished.wait()
    }

    // MARK: The thread

    private func run() {
        var lastSave = ContinuousClock.now
        var failing = false
        while true {
            let wait = lastSave + Self.saveInterval
            let taken = inbox.take(max: 4096, until: Date(timeIntervalSinceNow: (wait - .now).seconds))
            var replies: [Reply] = []
            let (dueNow, outstanding) = state.withLock { state -> (Bool, Int) in
                for message in taken ?? [] {
                    if case .barrier(let reply) = message { replies.append(reply) } else { apply(message, to: &state) }
                }
                return (state.applied > durable.load(ordering: .relaxed), state.tracker.outstandingSegments)
            }
            let stopping = taken == nil
            // A new position is saved at once; a failing disk is retried on the interval only.
            if (dueNow && !failing) || stopping || ContinuousClock.now - lastSave >= Self.saveInterval {
                lastSave = .now
                save(failing: &failing)
            }
            for reply in replies {
                reply.outstanding = outstanding
                reply.done.signal()
            }
            if stopping { break }
        }
        finished.signal()
    }

    /// Writes the store if anything changed; on success, marks what it held as durable.
    private func save(failing: inout Bool) {
        guard
            let (snapshot, applied) = state.withLock({ state -> (CheckpointStore, UInt64)? in
                guard state.dirty else { return nil }
                state.dirty = false
                return (state.store, state.applied)
            })
        else { return }
        do {
            try snapshot.save()
            if failing {
                failing = false
                logger.info(.checkpointSaveRecovered, metadata: ["checkpoint.path": "\(snapshot.path)"])
            }
            durableChanged.lock()
            if applied > durable.load(ordering: .relaxed) { durable.store(applied, ordering: .releasing) }
            durableChanged.broadcast()
            durableChanged.unlock()
        } catch {
            state.withLock { $0.dirty = true }
            if !failing {
                logger.error(
                    .checkpointSaveFailed, "retrying every second; files first seen meanwhile are not read",
                    metadata: ["error": "\(error)"])
            }
            failing = true
        }
    }

    private func apply(_ message: Message, to state: inout State) {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        switch message {
        case .opened(let opening, let source, let sequence):
            state.tracker.open(file: opening.file, offset: opening.offset)
            state.files[opening.file] = (opening.key, source)
            var checkpoint =
                state.store[opening.key]
                ?? Checkpoint(
                    key: opening.key, identity: opening.identity, path: opening.path, source: source,
                    offset: opening.offset, start: opening.start ?? .migrated, firstSeenMs: nowMs, updatedMs: nowMs)
            if let start = opening.start {
                checkpoint.start = start
                checkpoint.firstSeenMs = nowMs
                checkpoint.updatedMs = nowMs
            }
            if checkpoint.offset != opening.offset { checkpoint.updatedMs = nowMs }
            checkpoint.identity = opening.identity
            checkpoint.path = opening.path
            checkpoint.source = source
            checkpoint.offset = opening.offset
            state.store.update(checkpoint)
            state.dirty = true
            state.applied = max(state.applied, sequence)
        case .identity(let file, let identity):
            guard let key = state.files[file]?.key, var checkpoint = state.store[key] else { return }
            checkpoint.identity = identity
            state.store.update(checkpoint)
            state.dirty = true
        case .moved(let file, let path):
            guard let key = state.files[file]?.key, var checkpoint = state.store[key] else { return }
            checkpoint.path = path
            state.store.update(checkpoint)
            state.dirty = true
        case .segment(let handle, let endOffset, let pending):
            if let offset = state.tracker.addSegment(handle, endOffset: endOffset, pending: pending) {
                advance(handle.file, to: offset, nowMs: nowMs, in: &state)
            }
        case .acknowledged(let handles, let result):
            metrics.add(result == .deadLettered ? .eventsDeadLettered : .eventsDelivered, handles.count)
            // Handles of one batch mostly share a segment: resolve each run at once.
            var i = 0
            while i < handles.count {
                var j = i + 1
                while j < handles.count, handles[j] == handles[i] { j += 1 }
                if let offset = state.tracker.resolve(handles[i], count: j - i) {
                    advance(handles[i].file, to: offset, nowMs: nowMs, in: &state)
                }
                if !state.tracker.isTracked(file: handles[i].file) { state.files[handles[i].file] = nil }
                i = j
            }
        case .closed(let file):
            state.tracker.close(file: file)
            if !state.tracker.isTracked(file: file) { state.files[file] = nil }
        case .scanned(let scan):
            let pruned = state.store.prune(scan, nowMs: nowMs)
            if !pruned.isEmpty { state.dirty = true }
            for checkpoint in pruned {
                logger.info(
                    .checkpointPruned,
                    metadata: ["file.path": "\(checkpoint.path)", "file.key": "\(checkpoint.key)"])
            }
        case .barrier:
            break
        }
    }

    private func advance(_ file: Int, to offset: UInt64, nowMs: Int64, in state: inout State) {
        guard let key = state.files[file]?.key, var checkpoint = state.store[key] else { return }
        checkpoint.offset = offset
        checkpoint.updatedMs = nowMs
        state.store.update(checkpoint)
        state.dirty = true
    }
}

extension Duration {
    /// In seconds, as a `Double` (for `Date` and condition-variable deadlines).
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
