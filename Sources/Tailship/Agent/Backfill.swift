import Dispatch
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// `tailship import`: existing files (plain or gzip) through one source's rules and the same
/// shipper as `run`, once, from the beginning.
///
/// Progress is checkpointed in `import-checkpoints.json` (the live agent's checkpoints are
/// never touched), found again by the file's identity, so an interrupted import resumes where
/// its acknowledged events end. Offsets of a `.gz` file count decompressed bytes. The default
/// `$insert_id`s derive from the decompressed bytes alone (see `InsertID`), so a resumed or
/// repeated import sends the same ids, and so does an import of a rotated file (plain or
/// compressed) that `run` already shipped: the API deduplicates them.
public final class Backfill: Sendable {
    /// What the progress display shows.
    public struct Progress: Sendable {
        public var file: String
        public var fileIndex: Int
        public var fileCount: Int
        /// Bytes of the files read so far (compressed bytes for gzip files), and in all.
        public var bytesRead: UInt64
        public var bytesTotal: UInt64
        public var lines: Int
        public var eventsDelivered: Int
    }

    /// What an import did, for its closing line.
    public struct Summary: Sendable, Equatable {
        public var files = 0
        public var lines = 0
        public var events = 0
        public var delivered = 0
        public var deadLettered = 0
        public var unmatched = 0
        public var dropped = 0
        public var seconds = 0.0

        /// `imported 2 file(s): 25000 lines, 24990 events (24980 delivered, 10 dead-lettered), …`
        public var line: String {
            "imported \(files) file(s): \(lines) lines, \(events) events (\(delivered) delivered, "
                + "\(deadLettered) dead-lettered), \(unmatched) unmatched, \(dropped) dropped, "
                + TextOutput.fixed(seconds, digits: 1) + " s"
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// Every line read and every event delivered or dead-lettered.
        case completed
        /// Stopped early (a signal): what was acknowledged is checkpointed; run again to resume.
        case interrupted
    }

    let plan: AgentPlan
    let sourceIndex: Int
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    /// The running import's shipper, so a stop request can release a reader blocked on its
    /// full queue (the API being down is exactly when users press Ctrl-C).
    private let shipper = Mutex<Shipper?>(nil)
    private let stopped = DispatchSemaphore(value: 0)

    /// How long an import waits for dead letters that cannot be written before it gives up.
    static let deadLetterPatience: TimeInterval = 30

    /// Why an import could not finish (besides I/O errors reading its files).
    public struct BackfillError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    private var source: SourceConfig { plan.config.sources[sourceIndex] }

    /// Which rules read the files: a hash of the source as configured (its format, rules and
    /// options), for the import checkpoints.
    var rulesFingerprint: String {
        String(FNV64.hash(Array(String(reflecting: source).utf8)), radix: 16)
    }

    public init(plan: AgentPlan, sourceIndex: Int, logger: Logger) {
        self.plan = plan
        self.sourceIndex = sourceIndex
        self.logger = logger
    }

    /// Asks a running import to stop: reading stops, in-flight events get a grace period, and
    /// `run` returns `.interrupted`. Safe to call from any thread, once.
    public func requestStop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let shipper = self.shipper.withLock { $0 }
        let stopped = self.stopped
        OwnedThread.start(name: "tailship-stop") {
            shipper?.stop(deadline: .now + .milliseconds(Agent.shutdownGraceMs))
            stopped.signal()
        }
    }

    /// Imports `files` in order, calling `progress` now and then (on the calling thread).
    public func run(files: [String], progress: (Progress) -> Void) throws -> (Outcome, Summary) {
        let started = Date()
        let stages = try PipelineStages(plan: plan, storeName: CheckpointStore.importStoreName, logger: logger)
        defer { stages.checkpointer.stop() }
        try stages.shipper.start()
        shipper.withLock { $0 = stages.shipper }
        if stopping.load(ordering: .acquiring) { stages.shipper.stop(deadline: .now) }
        let sizes = files.map { (try? FileStatus.of(path: $0).size) ?? 0 }
        var state = Progress(
            file: "", fileIndex: 0, fileCount: files.count, bytesRead: 0,
            bytesTotal: sizes.reduce(0, +), lines: 0, eventsDelivered: 0)
        var lastReport = Date.distantPast
        func report(_ force: Bool) {
            guard force || Date().timeIntervalSince(lastReport) > 0.2 else { return }
            lastReport = Date()
            state.lines = stages.metrics.value(.linesRead)
            state.eventsDelivered = stages.metrics.value(.eventsDelivered)
            progress(state)
        }
        var failure: Error?
        for (index, path) in files.enumerated() where !stopping.load(ordering: .acquiring) {
            state.file = path
            state.fileIndex = index
            let before = state.bytesRead
            do {
                try importFile(path, id: index, stages: stages) { consumed in
                    state.bytesRead = before + consumed
                    report(false)
                }
            } catch {
                failure = error
                break
            }
            state.bytesRead = before + sizes[index]
        }
        // Wait for every event: an import has nowhere else to be (Ctrl-C stops it). Dead letters
        // that cannot be written (a full disk) are retried, but not for ever: an import that
        // cannot finish says so and exits (what was acknowledged is checkpointed; run it again).
        var lettersStuckSince: Date?
        while !stopping.load(ordering: .acquiring), failure == nil, stages.checkpointer.settle() > 0 {
            stages.shipper.flush()
            stages.rules.retryUnwrittenLetters()
            if stages.rules.unwrittenLetters > 0 {
                let since = lettersStuckSince ?? Date()
                lettersStuckSince = since
                if Date().timeIntervalSince(since) > Self.deadLetterPatience {
                    failure = BackfillError(
                        message:
                            "\(stages.rules.unwrittenLetters) dead letters cannot be written to "
                            + "\(DeadLetterWriter.path(stateDir: plan.config.stateDir)); their lines are not "
                            + "counted as done: run the import again once the state directory has room")
                }
            } else {
                lettersStuckSince = nil
            }
            report(false)
            usleep(50_000)
        }
        let interrupted = stopping.load(ordering: .acquiring)
        if interrupted {
            stopped.wait()
        } else {
            stages.shipper.stop(deadline: .now + .seconds(60))
        }
        _ = stages.checkpointer.settle()
        report(true)
        logger.info(.importFinished, metadata: stages.statsMetadata())
        if let failure { throw failure }
        let metrics = stages.metrics
        let summary = Summary(
            files: files.count, lines: metrics.value(.linesRead), events: metrics.value(.eventsProduced),
            delivered: metrics.value(.eventsDelivered), deadLettered: metrics.value(.eventsDeadLettered),
            unmatched: metrics.value(.linesUnmatched), dropped: metrics.value(.linesDropped),
            seconds: Date().timeIntervalSince(started))
        return (interrupted ? .interrupted : .completed, summary)
    }

    /// The import checkpoint a file resumes from: one made under this source and these rules.
    func progress(_ decision: ResumeDecision) -> ResumePoint? {
        guard case .resume(let point) = decision, point.source == source.name, point.rules == rulesFingerprint
        else { return nil }
        return point
    }

    /// Reads one file from its import checkpoint to its end into the rule stage.
    private func importFile(
        _ path: String, id: Int, stages: PipelineStages,
        consumed: (UInt64) -> Void
    ) throws {
        let file = try ReadableFile(path: path)
        let status = try file.status()
        guard status.size > 0 else { return }
        var opening = FileOpening(
            file: id, source: sourceIndex, path: path, key: .random(), identity: try FileIdentity.compute(for: file),
            offset: 0, start: .beginning)
        opening.rules = rulesFingerprint
        let decision = stages.checkpointer.resumeDecision(path: path, status: status) {
            (try? $0.matches(file, status: status)) ?? false
        }
        // Progress counts only under the same rules: another source, or rules changed since, read
        // the file again from 0 (the ids are the same, so the API deduplicates what was sent).
        if let point = progress(decision) {
            opening.key = point.key
            opening.offset = point.offset
            opening.start = nil
        }
        stages.rules.fileOpened(opening)
        defer { stages.rules.fileClosed(file: id, reason: .stopped) }
        let source = plan.config.sources[sourceIndex]
        var splitter = LineSplitter(
            startOffset: opening.offset, maxLineBytes: source.maxLineBytes, framing: source.recordFraming)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        // Backpressure: no further chunk is read until the shipping queue has taken this one's
        // events (or the import is interrupted: unshipped events are never checkpointed).
        let deliver: (LineBatch) -> Void = { batch in
            stages.rules.lines(file: id, batch)
            while !stages.rules.waitForRoom(timeout: .milliseconds(100)) && !self.stopping.load(ordering: .acquiring) {}
        }
        let proceed = { !self.stopping.load(ordering: .acquiring) }
        if try GzipFileReader.detect(path: path) {
            // The stream is decompressed from its start; up to the checkpoint it only fills the head.
            let reader = try GzipFileReader(path: path)
            var bytes = GzipBytes(reader)
            _ = try splitter.read(
                from: &bytes, buffer: buffer, proceed: proceed, onChunk: { _ in consumed(reader.compressedOffset) },
                deliver: deliver)
        } else {
            let headLength = Int(min(opening.offset, UInt64(LineSplitter.headCapacity)))
            splitter.prime(head: try file.bytes(at: 0, length: headLength) ?? [])
            var position = opening.offset
            var bytes = FileBytes(file)
            _ = try splitter.read(
                from: &bytes, buffer: buffer, proceed: proceed,
                onChunk: {
                    position += UInt64($0.count)
                    consumed(position)
                }, deliver: deliver)
        }
        // A historical file is complete: its last line counts even without a newline.
        if proceed() { splitter.flush(deliver) }
    }
}
