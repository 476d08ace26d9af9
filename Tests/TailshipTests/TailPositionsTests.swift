import Foundation
import Logging
import Synchronization
import Testing

@testable import Tailship

#if canImport(Glibc)
    import Glibc
#endif

/// A sink wired like `RuleStage` (positions, segments and copies' links forward into a real
/// `Checkpointer`) but whose events are never acknowledged: the API is down. Each line is one
/// pending event. (Written by a review of the change that made positions durable at first sight.)
final class PositionsOnlySink: LineSink, @unchecked Sendable {
    struct State {
        var durableAt: [Int: UInt64] = [:]
        var nextSegment: [Int: UInt64] = [:]
        var openings: [Int: FileOpening] = [:]
        var lines: [(file: Int, offset: UInt64, text: String)] = []
        var skipped: [Int: UInt64] = [:]
        /// (file, first line offset of a batch, on-disk checkpoint offset of its key at that moment)
        var diskAtRead: [(file: Int, firstOffset: UInt64, onDisk: UInt64?)] = []
    }
    let checkpointer: Checkpointer
    let dir: String
    let state = Mutex(State())
    var checkDisk = false

    init(checkpointer: Checkpointer, dir: String) {
        self.checkpointer = checkpointer
        self.dir = dir
    }

    func fileOpened(_ opening: FileOpening) {
        let sequence = checkpointer.open(opening, source: "app")
        state.withLock {
            $0.durableAt[opening.file] = sequence
            $0.openings[opening.file] = opening
        }
    }
    func isDurable(file: Int) -> Bool {
        guard let s = state.withLock({ $0.durableAt[file] }) else { return true }
        return checkpointer.isDurable(s)
    }
    func waitUntilDurable(timeout: Duration) -> Bool { checkpointer.waitUntilDurable(timeout: timeout) }
    func lines(file: Int, _ batch: LineBatch) {
        var onDisk: UInt64?
        if checkDisk, let key = state.withLock({ $0.openings[file]?.key }) {
            onDisk = (try? CheckpointStore(directory: dir, createIfMissing: false))?[key]?.offset
        }
        var texts: [(Int, UInt64, String)] = []
        for line in batch { texts.append((file, line.offset, String(decoding: line.bytes, as: UTF8.self))) }
        let segment = state.withLock { s -> UInt64 in
            let n = s.nextSegment[file, default: 0]
            s.nextSegment[file] = n + 1
            s.lines.append(contentsOf: texts.map { (file: $0.0, offset: $0.1, text: $0.2) })
            if let first = texts.first { s.diskAtRead.append((file, first.1, onDisk)) }
            return n
        }
        // Never acknowledged: the API is down.
        checkpointer.segment(AckHandle(file: file, segment: segment), endOffset: batch.endOffset, pending: batch.count)
    }
    func skipped(file: Int, to offset: UInt64, coveredBy original: Int) {
        let segment = state.withLock { s -> UInt64 in
            let n = s.nextSegment[file, default: 0]
            s.nextSegment[file] = n + 1
            s.skipped[file] = offset
            return n
        }
        let handle = AckHandle(file: file, segment: segment)
        checkpointer.segment(handle, endOffset: offset, pending: 1)
        checkpointer.resolve(handle, when: original, reaches: offset)
    }
    func identityChanged(file: Int, identity: FileIdentity) {
        checkpointer.identityChanged(file: file, identity: identity)
    }
    func fileMoved(file: Int, path: String) { checkpointer.moved(file: file, path: path) }
    func fileClosed(file: Int, reason: FileCloseReason) { checkpointer.closed(file: file) }
    func filesScanned(_ scan: FileScan) { checkpointer.scanned(scan) }
}

/// Positions against the worst moments, with the real tailer and checkpointer: a copy
/// recognised while its original's lines are unacknowledged, a file truncated while stopped, a
/// burst of new files deleted while their positions cannot be saved.
@Suite(.serialized) struct TailPositionsTests {
    static func quietLogger() -> Logger {
        var logger = Logger(label: "review")
        logger.logLevel = ProcessInfo.processInfo.environment["DEBUGLOG"] != nil ? .info : .critical
        return logger
    }

    static func checkpointer(_ dir: String) throws -> Checkpointer {
        try Checkpointer(
            directory: dir, name: CheckpointStore.liveStoreName, metrics: AgentMetrics(), logger: quietLogger())
    }

    static func tailer(_ dir: TailTempDir, _ sink: LineSink, _ checkpointer: Checkpointer) -> Tailer {
        Tailer(
            sources: [TailSource(name: "app", paths: [dir.root + "/app.log*"], startAt: .end)], sink: sink,
            resume: { path, status, matches in checkpointer.resumeDecision(path: path, status: status, matches: matches)
            },
            options: TailTailerTests.fastOptions, logger: quietLogger())
    }

    /// copytruncate with a glob matching the copy, API down: the copy is read on from where the
    /// original was read, but its position moves there only once the original's has. After a
    /// stop, the original's key can never be resumed (its inode holds other bytes): the copy,
    /// still at 0, reads the unacknowledged lines again (with the same ids).
    @Test func aCopysPositionWaitsForItsOriginalsAcknowledgements() throws {
        let logs = try TailTempDir()
        let state = try TailTempDir()
        logs.write("app.log", "")
        do {
            let checkpointer = try Self.checkpointer(state.root)
            let sink = PositionsOnlySink(checkpointer: checkpointer, dir: state.root)
            let tailer = Self.tailer(logs, sink, checkpointer)
            try tailer.start()
            logs.append("app.log", (0..<50).map { "line \($0)\n" }.joined())
            #expect(eventually { sink.state.withLock { $0.lines.count } == 50 })
            logs.append("app.log", (50..<60).map { "line \($0)\n" }.joined())
            try FileManager.default.copyItem(atPath: logs.path("app.log"), toPath: logs.path("app.log.1"))
            truncate(logs.path("app.log"), 0)
            logs.append("app.log", "after 0\n")
            #expect(eventually(10) { !sink.state.withLock { $0.skipped }.isEmpty })
            // A graceful stop during the outage: nothing acknowledged, the checkpointer saves.
            tailer.stop()
            checkpointer.stop()
        }
        // Restart (API up now: we only look at what is read again).
        let checkpointer = try Self.checkpointer(state.root)
        let sink = PositionsOnlySink(checkpointer: checkpointer, dir: state.root)
        let tailer = Self.tailer(logs, sink, checkpointer)
        try tailer.start()
        usleep(1_500_000)
        tailer.stop()
        checkpointer.stop()
        let reread = Set(sink.state.withLock { $0.lines.map(\.text) })
        let never = (0..<50).map { "line \($0)" }.filter { !reread.contains($0) }
        #expect(never.isEmpty, "unacknowledged lines never read again: \(never.count)")
    }

    /// Truncated and refilled while stopped, with its first KiB intact: its checkpoint is past its
    /// end, so it is new content read from 0, under a new position saved before any line is read
    /// (a crash right after must not find the old offset on disk).
    @Test func aFileShrunkWhileStoppedIsReadOnlyOnceItsNewPositionIsSaved() throws {
        let logs = try TailTempDir()
        let state = try TailTempDir()
        let header = String(repeating: "#", count: 1100) + "\n"
        let path = logs.write("app.log", header + "old 1\nold 2\n")
        // A first run records the file at its end (start_at: end), then stops.
        do {
            let checkpointer = try Self.checkpointer(state.root)
            let sink = PositionsOnlySink(checkpointer: checkpointer, dir: state.root)
            let tailer = Self.tailer(logs, sink, checkpointer)
            try tailer.start()
            logs.append("app.log", (0..<200).map { "more \($0) padding padding padding\n" }.joined())
            #expect(eventually { sink.state.withLock { $0.lines.count } == 200 })
            tailer.stop()
            checkpointer.stop()
        }
        // Hand-advance the saved offset as if those lines had been acknowledged.
        var store = try CheckpointStore(directory: state.root, createIfMissing: false)
        var c = try #require(store.checkpoints.values.first)
        let size = try FileStatus.of(path: path).size
        c.offset = size
        store.update(c)
        try store.save()
        // While stopped: truncated and refilled with the same header, shorter than the checkpoint.
        truncate(path, 0)
        logs.append("app.log", header + "new 1\nnew 2\n")
        let checkpointer = try Self.checkpointer(state.root)
        let sink = PositionsOnlySink(checkpointer: checkpointer, dir: state.root)
        sink.checkDisk = true
        let tailer = Self.tailer(logs, sink, checkpointer)
        try tailer.start()
        #expect(eventually { sink.state.withLock { $0.lines.count } >= 1 })
        tailer.stop()
        checkpointer.stop()
        let reads = sink.state.withLock { $0.diskAtRead }
        #expect(!reads.isEmpty)
        #expect(reads.allSatisfy { $0.onDisk == 0 && $0.firstOffset == 0 }, "read while the disk said \(reads)")
    }

    /// New files in a burst beyond `max_open_files` while their positions cannot be saved (a
    /// full state directory): they stay open, unread, and so are still read once the disk has
    /// room, even though they were deleted meanwhile.
    @Test(arguments: [4, 5000])
    func aBurstOfNewFilesDeletedWhilePositionsCannotBeSavedIsStillRead(maxOpen: Int) throws {
        let logs = try TailTempDir()
        let state = try TailTempDir()
        let checkpointer = try Self.checkpointer(state.root)
        let sink = PositionsOnlySink(checkpointer: checkpointer, dir: state.root)
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [logs.root + "/*.log"], startAt: .end, maxOpenFiles: maxOpen)],
            sink: sink,
            resume: { path, status, matches in checkpointer.resumeDecision(path: path, status: status, matches: matches)
            },
            options: TailTailerTests.fastOptions, logger: Self.quietLogger())
        try tailer.start()
        defer {
            tailer.stop()
            checkpointer.stop()
        }
        usleep(200_000)
        try FileManager.default.createDirectory(
            atPath: state.path("checkpoints.json.tmp"), withIntermediateDirectories: false)
        let staging = try TailTempDir()
        for i in 0..<20 { staging.write("f\(i).log", "line \(i)\n") }
        for i in 0..<20 {
            try FileManager.default.moveItem(atPath: staging.path("f\(i).log"), toPath: logs.path("f\(i).log"))
        }
        usleep(1_500_000)
        for i in 0..<20 { unlink(logs.path("f\(i).log")) }
        usleep(1_500_000)
        try FileManager.default.removeItem(atPath: state.path("checkpoints.json.tmp"))
        _ = eventually(5) { sink.state.withLock { $0.lines.count } == 20 }
        #expect(sink.state.withLock { $0.lines.count } == 20)
    }
}
