import Dispatch
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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
        case link(AckHandle, original: Int, offset: UInt64)
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

    /// Bounded, weighted by acknowledgement handles (every other message weighs 1): should a save
    /// hang (a dying disk), senders wait instead of piling up acknowledgements without limit,
    /// and reading and shipping pause.
    private let inbox = BlockingQueue<Message>(capacity: 1 << 16) { message in
        if case .acknowledged(let handles, _) = message { return max(1, handles.count) }
        return 1
    }
    private let metrics: AgentMetrics
    /// The checkpointer thread's turns: at least every second (`saveInterval`).
    public let heartbeat = Heartbeat()
    private let logger: Logger
    /// Sequence numbers of positions announced by `open` and of those on disk.
    private let announced = Atomic<UInt64>(0)
    private let durable = Atomic<UInt64>(0)
    /// The last save failed (a full disk): waiting for durability is pointless until one succeeds.
    private let saveFailing = Atomic<Bool>(false)
    private let durableChanged = Condition()
    private let finished = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    /// Ms since the epoch of the last successful save (of the store's opening, before any).
    let lastSaveMs = Atomic<Int64>(WallClock.nowMs())
    private let state: Mutex<State>

    /// What the checkpointer's thread works on; behind a mutex only so that `resumeDecision`
    /// (the tail thread, when a file is opened) reads the same store.
    private struct State: Sendable {
        var store: CheckpointStore
        var tracker = AckTracker()
        /// Per tailer file id: its key and source, while the tracker follows it.
        private(set) var files: [Int: (key: FileKey, source: String)] = [:]
        /// The keys of `files`, for `resumeDecision`.
        private(set) var heldKeys: Set<FileKey> = []

        mutating func track(file: Int, key: FileKey, source: String) {
            if let old = files[file] { heldKeys.remove(old.key) }
            files[file] = (key, source)
            heldKeys.insert(key)
        }

        /// Forgets `file` once the tracker has nothing outstanding for it.
        mutating func forgetIfDone(file: Int) {
            guard !tracker.isTracked(file: file), let old = files.removeValue(forKey: file) else { return }
            heldKeys.remove(old.key)
        }
        /// Segments of copies waiting for their original's position (by the original's file id)
        /// to reach an offset (see `resolve(_:when:reaches:)`).
        var links: [Int: [(offset: UInt64, handle: AckHandle)]] = [:]
        var dirty = false
        /// Highest `opened` sequence applied to the store.
        var applied: UInt64 = 0
    }

    /// Loads the store and writes it back at once, and starts the thread. Throws
    /// `CheckpointError`, naming the file, when the store cannot be read or written: positions
    /// that cannot be saved would leave every new file unread, so that is a failure to start,
    /// not a warning repeated forever. (Writing it back also migrates an older format.)
    public init(directory: String, name: String, metrics: AgentMetrics, logger: Logger) throws(CheckpointError) {
        let store = try CheckpointStore(directory: directory, name: name)
        try store.save()
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(store: store))
        OwnedThread.start(name: "tailship-ckpt") { [self] in run() }
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

    /// Waits up to `timeout` until every position announced so far is on disk; false at once
    /// while saves fail (the reading thread must not stall on a full disk: files that come and go
    /// meanwhile would be missed).
    public func waitUntilDurable(timeout: Duration) -> Bool {
        let target = announced.load(ordering: .relaxed)
        if saveFailing.load(ordering: .acquiring) { return durable.load(ordering: .acquiring) >= target }
        let deadline = ContinuousClock.now + timeout
        durableChanged.lock()
        defer { durableChanged.unlock() }
        while durable.load(ordering: .acquiring) < target {
            if saveFailing.load(ordering: .acquiring) { return false }
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

    /// Segment `handle` (sent with one pending event) resolves once file `original`'s checkpoint
    /// reaches `offset`: a copy's skip over content already read in the original moves the copy's
    /// position only as far as the original's acknowledgements have gone. Should the original's
    /// events never be acknowledged (a stop during an outage), the copy stays before them too, and
    /// the next run reads them again from it.
    public func resolve(_ handle: AckHandle, when original: Int, reaches offset: UInt64) {
        inbox.put([.link(handle, original: original, offset: offset)])
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
        state.withLock { state in
            // A key held by a file tracked now is that file's, never a second one's.
            state.store.resumeDecision(
                path: path, device: status.device, inode: status.inode,
                excluding: state.heldKeys, fingerprintMatches: matches)
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

    /// Applies what is queued, saves, and ends the thread; later calls return at once. What is
    /// sent afterwards is dropped.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        inbox.close()
        finished.wait()
    }

    // MARK: The thread

    private func run() {
        var lastSave = ContinuousClock.now
        var failing = false
        while true {
            heartbeat.beat()
            let wait = lastSave + Self.saveInterval
            let taken = inbox.take(max: 4096, until: wait)
            var replies: [Reply] = []
            let (dueNow, outstanding) = state.withLock { state -> (Bool, Int) in
                for message in taken ?? [] {
                    if case .barrier(let reply) = message { replies.append(reply) } else { apply(message, to: &state) }
                }
                // Counted over every file: only when someone asks (`settle`).
                let outstanding = replies.isEmpty ? 0 : state.tracker.outstandingSegments
                return (state.applied > durable.load(ordering: .relaxed), outstanding)
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
            lastSaveMs.store(WallClock.nowMs(), ordering: .relaxed)
            saveFailing.store(false, ordering: .releasing)
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
            saveFailing.store(true, ordering: .releasing)
            // Wake waiters: they give up at once while saves fail.
            durableChanged.lock()
            durableChanged.broadcast()
            durableChanged.unlock()
            if !failing {
                logger.error(
                    .checkpointSaveFailed, "retrying every second; files first seen meanwhile are not read",
                    metadata: ["error": "\(error)"])
            }
            failing = true
        }
    }

    /// For `/metrics` and `/healthz`: by file id, each open file's checkpoint offset and when
    /// it last moved (ms since the epoch); and whether progress waits to be saved.
    func positions() -> (files: [Int: (offset: UInt64, updatedMs: Int64)], unsaved: Bool) {
        let failing = saveFailing.load(ordering: .acquiring)
        return state.withLock { state in
            var files: [Int: (offset: UInt64, updatedMs: Int64)] = [:]
            for (file, entry) in state.files {
                if let checkpoint = state.store[entry.key] { files[file] = (checkpoint.offset, checkpoint.updatedMs) }
            }
            return (files, state.dirty || failing)
        }
    }

    private func apply(_ message: Message, to state: inout State) {
        let nowMs = WallClock.nowMs()
        switch message {
        case .opened(let opening, let source, let sequence):
            state.tracker.open(file: opening.file, offset: opening.offset)
            state.track(file: opening.file, key: opening.key, source: source)
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
            checkpoint.rules = opening.rules
            checkpoint.path = opening.path
            checkpoint.source = source
            checkpoint.offset = opening.offset
            // A file resumed as recorded changes nothing: no save for it.
            if state.store[opening.key] != checkpoint {
                state.store.update(checkpoint)
                state.dirty = true
            }
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
        case .link(let handle, let original, let offset):
            // Reached already, or all of the original is resolved and forgotten: at once.
            if state.tracker.committed(file: original).map({ $0 >= offset }) ?? true {
                if let moved = state.tracker.resolve(handle) {
                    advance(handle.file, to: moved, nowMs: nowMs, in: &state)
                }
            } else {
                state.links[original, default: []].append((offset, handle))
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
                state.forgetIfDone(file: handles[i].file)
                i = j
            }
        case .closed(let file):
            state.tracker.close(file: file)
            state.forgetIfDone(file: file)
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
        if let key = state.files[file]?.key, var checkpoint = state.store[key] {
            checkpoint.offset = offset
            checkpoint.updatedMs = nowMs
            state.store.update(checkpoint)
            state.dirty = true
        }
        // Copies waiting for this file to get there.
        guard let waiting = state.links[file] else { return }
        let due = waiting.filter { $0.offset <= offset }
        guard !due.isEmpty else { return }
        let rest = waiting.filter { $0.offset > offset }
        state.links[file] = rest.isEmpty ? nil : rest
        for link in due {
            if let moved = state.tracker.resolve(link.handle) {
                advance(link.handle.file, to: moved, nowMs: nowMs, in: &state)
            }
            state.forgetIfDone(file: link.handle.file)
        }
    }
}
